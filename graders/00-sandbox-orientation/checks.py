"""Checks for 00-sandbox-orientation: they read the sandbox, never the learner's code."""

import csv
import json
from decimal import Decimal

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import error_code, public_access
from crosstrain.labs.checks import Fail, Score, check

BUCKET, KEY, TABLE, FUNCTION = "orientation-data", "raw/customers.csv", "customers", "revenue"
# (event, expected revenue) the learner may see on the lab page; grading adds hidden draws.
PUBLIC_CASES = [({"plan_price": 19.99, "months": 7}, 139.93), ({"plan_price": 49, "months": 0}, 0)]
WANTED_CONFIG = {"Handler": "handler.handler", "Timeout": 10, "MemorySize": 128}


def dataset(ctx) -> bytes:
    """The dataset as shipped in the lab (trusted copy, not the learner's)."""
    return (ctx.lab.lab_dir / "data" / "customers.csv").read_bytes()


def bucket_names(ctx) -> list[str]:
    return [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]


@check(
    "store-dataset",
    points=2,
    hint=f"Create the bucket {BUCKET} and upload data/customers.csv to the key {KEY}.",
    hints={
        "content": "Upload the file unchanged with s3.upload_file('data/customers.csv', BUCKET, "
        "KEY); pandas' to_csv adds an index column unless you pass index=False.",
    },
)
def dataset_uploaded(ctx):
    s3 = ctx.client("s3")
    names = bucket_names(ctx)
    if BUCKET not in names:
        raise Fail(f"there is no bucket {BUCKET} (buckets: {', '.join(names) or 'none'})")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    if KEY not in keys:
        shown = ", ".join(keys[:5]) or "none"
        raise Fail(f"bucket {BUCKET} has {len(keys)} objects ({shown}), none at {KEY}")
    body = s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    expected = dataset(ctx)
    if body != expected:
        header = body.split(b"\n", 1)[0].decode(errors="replace")
        raise Fail(
            f"{KEY} has {len(body)} bytes and header {header!r}; the dataset has "
            f"{len(expected)} bytes",
            hint="content",
        )
    return f"s3://{BUCKET}/{KEY} holds the dataset ({len(body)} bytes)"


@check(
    "store-dataset",
    points=2,
    hint=f"Create the bucket {BUCKET}, then turn on versioning and default encryption.",
    hints={
        "versioning": "Turn on versioning: s3.put_bucket_versioning(Bucket=BUCKET, "
        "VersioningConfiguration={'Status': 'Enabled'}).",
        "encryption": "Turn on default encryption: s3.put_bucket_encryption(...) with the "
        "SSEAlgorithm 'AES256' rule shown in step 1.",
        "public": "Make the bucket private: s3.put_bucket_acl(Bucket=BUCKET, ACL='private'), "
        "delete any policy that allows Principal '*', and turn on s3.put_public_access_block.",
    },
)
def bucket_protected(ctx):
    s3 = ctx.client("s3")
    if BUCKET not in bucket_names(ctx):
        raise Fail(f"there is no bucket {BUCKET}")
    public = public_access(s3, BUCKET)
    if public:
        raise Fail("the bucket is public: " + "; ".join(public), hint="public")
    versioning = s3.get_bucket_versioning(Bucket=BUCKET).get("Status", "never enabled")
    try:
        rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
        algorithm = rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    except ClientError:
        algorithm = None
    seen = f"versioning: {versioning}; default encryption: {algorithm or 'none'}; private"
    points = (versioning == "Enabled") + (algorithm is not None)
    if versioning != "Enabled":
        return Score(points, seen, hint="versioning")
    if algorithm is None:
        return Score(points, seen, hint="encryption")
    return seen


def first_customer(ctx) -> dict:
    lines = dataset(ctx).decode().splitlines()
    return next(csv.DictReader(lines))


@check(
    "dynamodb-item",
    points=1,
    hint=f"Create the table {TABLE} keyed by customer_id (type S, KeyType HASH).",
    hints={
        "key": f"The key must be customer_id of type S (string): delete the table "
        f"(dynamodb.delete_table(TableName='{TABLE}')) and create it again; a key never changes.",
    },
)
def table_ready(ctx):
    ddb = ctx.client("dynamodb")
    try:
        table = ddb.describe_table(TableName=TABLE)["Table"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        tables = ddb.list_tables()["TableNames"]
        raise Fail(f"there is no table {TABLE} (tables: {', '.join(tables) or 'none'})") from None
    hash_key = next(k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH")
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if hash_key != "customer_id" or types.get(hash_key) != "S":
        raise Fail(
            f"table {TABLE} is keyed by {hash_key} of type {types.get(hash_key)}", hint="key"
        )
    return f"table {TABLE} is keyed by customer_id (S)"


@check(
    "dynamodb-item",
    points=2,
    hint="Write the first customer of data/customers.csv with put_item: customer_id, plan and "
    "monthly_fee.",
    hints={
        "types": "Store monthly_fee as a number ({'N': '49.00'}), not a string ({'S': ...}), "
        "so it can be compared and summed.",
    },
)
def item_written(ctx):
    ddb = ctx.client("dynamodb")
    want = first_customer(ctx)
    key = {"customer_id": {"S": want["customer_id"]}}
    try:
        item = ddb.get_item(TableName=TABLE, Key=key).get("Item")
    except ClientError as exc:
        raise Fail(
            f"could not read {want['customer_id']} from {TABLE}: {error_code(exc)}"
        ) from None
    if item is None:
        count = ddb.scan(TableName=TABLE, Select="COUNT")["Count"]
        raise Fail(f"{TABLE} has {count} items, none with customer_id {want['customer_id']}")
    plan = item.get("plan", {}).get("S")
    if plan != want["plan"]:
        raise Fail(
            f"customer {want['customer_id']} has plan {plan!r}, the dataset says {want['plan']!r}"
        )
    fee = item.get("monthly_fee", {})
    if "N" not in fee:
        kind = next(iter(fee), "missing")
        raise Fail(f"monthly_fee is {fee or 'missing'} (type {kind})", hint="types")
    if Decimal(fee["N"]) != Decimal(want["monthly_fee"]):
        raise Fail(f"monthly_fee is {fee['N']}, the dataset says {want['monthly_fee']}")
    return f"customer {want['customer_id']} is in {TABLE} with plan {plan} and fee {fee['N']}"


@check(
    "deploy-function",
    points=1,
    hint=f"Deploy the function {FUNCTION}: runtime python3.12, handler handler.handler, "
    "timeout 10 s, memory 128 MB.",
    hints={
        "config": "Set what step 3 asks for: lambda_client.update_function_configuration("
        "FunctionName='revenue', Handler='handler.handler', Timeout=10, MemorySize=128).",
    },
)
def function_configured(ctx):
    lam = ctx.client("lambda")
    try:
        config = lam.get_function_configuration(FunctionName=FUNCTION)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        shown = ", ".join(names) or "none"
        raise Fail(f"there is no function {FUNCTION} (functions: {shown})") from None
    wrong = [
        f"{field} is {config.get(field)!r}, not {want!r}"
        for field, want in WANTED_CONFIG.items()
        if config.get(field) != want
    ]
    if not str(config.get("Runtime", "")).startswith("python3"):
        wrong.append(f"Runtime is {config.get('Runtime')!r}, not a python3 runtime")
    if wrong:
        raise Fail("; ".join(wrong), hint="config")
    return f"{FUNCTION}: {config['Runtime']}, {config['Handler']}, 10 s, 128 MB"


def cases(ctx) -> list[tuple[dict, float]]:
    """The public cases, plus (when grading) three drawn from the course secret."""
    found = list(PUBLIC_CASES)
    if ctx.hidden:
        rng = ctx.hidden.rng("revenue")
        for _ in range(3):
            price, months = round(rng.uniform(5, 200), 2), rng.randint(1, 48)
            found.append(({"plan_price": price, "months": months}, round(price * months, 2)))
    return found


@check(
    "deploy-function",
    points=2,
    hint="Deploy the function revenue so that invoking it with {'plan_price': 19.99, "
    "'months': 7} returns {'revenue': 139.93}.",
    hints={
        "crash": "The handler raised an error (see errorMessage): fix function/handler.py, then "
        "run the step 3 cells again so the new code is deployed.",
        "string": "Return a dict, not json.dumps(...): Lambda turns your return value into JSON.",
        "proxy": "Invoked directly, a function returns its answer, not an API Gateway response: "
        "return {'revenue': ...} instead of {'statusCode': ..., 'body': ...}.",
        "answer": "revenue is plan_price × months rounded to cents: "
        "round(float(event['plan_price']) * int(event['months']), 2).",
    },
)
def function_answers(ctx):
    lam = ctx.client("lambda")
    try:
        lam.get_function_configuration(FunctionName=FUNCTION)
    except ClientError:
        raise Fail(f"there is no function {FUNCTION} to invoke") from None
    checked = cases(ctx)
    for event, expected in checked:
        response = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps(event).encode())
        raw = response["Payload"].read()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = raw.decode(errors="replace")
        if response.get("FunctionError"):
            detail = answer if isinstance(answer, str) else answer.get("errorMessage", answer)
            kind = "" if isinstance(answer, str) else f"{answer.get('errorType', 'Error')}: "
            raise Fail(f"invoking with {event} failed: {kind}{detail}", hint="crash")
        if isinstance(answer, str):
            raise Fail(f"invoking with {event} returned the string {answer!r}", hint="string")
        if isinstance(answer, dict) and "statusCode" in answer:
            raise Fail(f"invoking with {event} returned an HTTP response: {answer}", hint="proxy")
        got = answer.get("revenue") if isinstance(answer, dict) else None
        if not isinstance(got, int | float) or abs(got - expected) > 0.005:
            raise Fail(
                f"invoking with {event} returned {answer}; expected revenue {expected}",
                hint="answer",
            )
    return f"{FUNCTION} answered {len(checked)} cases correctly"
