"""Checks for 22-infrastructure-as-code: they read the stack, its template and the live resources.

The sandbox ignores some bucket properties of a template (VersioningConfiguration,
PublicAccessBlockConfiguration) and the ManagedPolicyArns of a role, so those are read from the
stack's template; everything the sandbox does apply is read live.

The names, the stack, its template and its live resources are read by ``stack.py``.
"""

import io
import json
import sys
import time
import types
import zipfile
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import allows, error_code, public_access, wildcard_grants
from crosstrain.labs.checks import Fail, check

from .stack import (
    CODE_KEY,
    DEPLOY_BUCKET,
    DRIFT_FIELDS,
    FEATURES,
    NEW_MEMORY,
    STACK,
    TYPES,
    deployed,
    properties,
    resources,
    the,
)

# -- step 1 ----------------------------------------------------------------------------------


@check(
    "package-code",
    points=2,
    hint=f"Create the bucket {DEPLOY_BUCKET} and upload the zipped handler to {CODE_KEY}, with "
    "handler.py at the root of the zip.",
)
def code_uploaded(ctx):
    s3 = ctx.client("s3")
    try:
        code = s3.get_object(Bucket=DEPLOY_BUCKET, Key=CODE_KEY)["Body"].read()
    except ClientError as exc:
        if error_code(exc) not in ("NoSuchKey", "NoSuchBucket"):
            raise
        buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        raise Fail(
            f"nothing at s3://{DEPLOY_BUCKET}/{CODE_KEY} ({error_code(exc)}; buckets: "
            f"{', '.join(buckets) or 'none'})"
        ) from None
    if not zipfile.is_zipfile(io.BytesIO(code)):
        raise Fail(f"{CODE_KEY} is not a zip file ({len(code)} bytes)")
    names = zipfile.ZipFile(io.BytesIO(code)).namelist()
    if "handler.py" not in names:
        raise Fail(
            f"{CODE_KEY} holds {', '.join(names[:6]) or 'nothing'}, no handler.py at its root"
        )
    return f"s3://{DEPLOY_BUCKET}/{CODE_KEY} holds handler.py"


# -- step 2 ----------------------------------------------------------------------------------


@check(
    "deploy-stack",
    points=2,
    hint=f"Deploy template.yaml as the stack {STACK} (create_stack with the parameter "
    "CodeBucket and Capabilities=['CAPABILITY_IAM']): a bucket, a table, a role and a function.",
    timeout=120,  # the sandbox's first CloudFormation call imports for seconds
)
def stack_deployed(ctx):
    found = deployed(ctx)
    by_type = resources(ctx)
    missing = [
        f"{what} ({kind})" for kind, what in TYPES.items() if len(by_type.get(kind, [])) != 1
    ]
    if missing:
        have = ", ".join(f"{len(v)} {k}" for k, v in by_type.items()) or "nothing"
        raise Fail(f"the stack {STACK} has {have}; it needs exactly one of {', '.join(missing)}")
    return f"{STACK} is {found['StackStatus']} with a bucket, a table, a role and a function"


@check(
    "deploy-stack",
    points=2,
    hint="Give the bucket in the template BucketEncryption (ServerSideEncryptionConfiguration "
    "with SSEAlgorithm AES256) and VersioningConfiguration {Status: Enabled}, then deploy the "
    "stack again.",
    hints={
        "public": "Remove what makes the bucket public from the template (a BucketPolicy with "
        "Principal '*', AccessControl: PublicRead) and keep PublicAccessBlockConfiguration with "
        "all four settings true; deploy the change through the stack.",
    },
    timeout=120,  # the sandbox's first CloudFormation call imports for seconds
)
def bucket_protected(ctx):
    deployed(ctx)
    bucket = the(ctx, "AWS::S3::Bucket")
    name, props = bucket["PhysicalResourceId"], properties(ctx, bucket["LogicalResourceId"])
    s3 = ctx.client("s3")
    public = public_access(s3, name)
    if public:
        raise Fail(f"bucket {name} is public: " + "; ".join(public), hint="public")
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        algorithm = rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    except ClientError:
        algorithm = None
    if algorithm is None:
        raise Fail(f"bucket {name} has no default encryption")
    # The sandbox does not apply VersioningConfiguration from a template: read it there.
    live = s3.get_bucket_versioning(Bucket=name).get("Status")
    declared = (props.get("VersioningConfiguration") or {}).get("Status")
    if "Enabled" not in (live, declared):
        raise Fail(
            f"bucket {name}: versioning is {live or 'off'} and the template's "
            f"VersioningConfiguration is {declared or 'missing'}"
        )
    return f"bucket {name}: private, encrypted ({algorithm}), versioned"


def role_policies(ctx, role: dict) -> list[tuple[str, dict]]:
    """(where, policy document) for the role: live inline and attached policies, plus the
    template's ManagedPolicyArns (which the sandbox does not attach)."""
    iam, name = ctx.client("iam"), role["PhysicalResourceId"]
    found = []
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        found.append((f"inline policy {policy}", document_of(document)))
    arns = [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    ]
    arns += [
        a for a in properties(ctx, role["LogicalResourceId"]).get("ManagedPolicyArns", []) or []
    ]
    for arn in dict.fromkeys(a for a in arns if isinstance(a, str)):
        try:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
            found.append((f"managed policy {arn}", document_of(document["Document"])))
        except ClientError:
            # AWS managed policies are not loaded in the sandbox: judge them by their name.
            broad = arn.endswith(("FullAccess", "AdministratorAccess", "PowerUserAccess"))
            action = "*" if broad else "unknown"
            found.append((f"managed policy {arn}", {"Statement": [{"Action": action}]}))
    return found


def document_of(value) -> dict:
    """A policy document as a dict. Inline policies that the sandbox's CloudFormation creates
    come back as a Python repr rather than JSON (an emulator bug), so both are read."""
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)
    except ValueError:
        import ast

        return ast.literal_eval(value)


@check(
    "deploy-stack",
    points=2,
    hint="The function's role must let it work, and no more: s3:GetObject on the model "
    "bucket's models/ prefix and dynamodb:PutItem on the table, each on that resource's ARN.",
    hints={
        "wildcard": "List the actions the function uses instead of a wildcard: "
        "logs:CreateLogStream and logs:PutLogEvents (and CreateLogGroup), s3:GetObject on "
        "${ModelBucket.Arn}/models/*, dynamodb:PutItem on !GetAtt PredictionLog.Arn. No '*' "
        "in any Action, and no *FullAccess managed policy.",
    },
    timeout=120,  # the sandbox's first CloudFormation call imports for seconds
)
def role_least_privilege(ctx):
    deployed(ctx)
    role, function = the(ctx, "AWS::IAM::Role"), the(ctx, "AWS::Lambda::Function")
    lam = ctx.client("lambda")
    config = lam.get_function_configuration(FunctionName=function["PhysicalResourceId"])
    if not config["Role"].endswith(f"/{role['PhysicalResourceId']}"):
        raise Fail(f"the function runs as {config['Role']}, not the stack's role")
    documents = role_policies(ctx, role)
    wild = wildcard_grants(documents)
    if wild:
        raise Fail(wild[0], hint="wildcard")
    bucket = the(ctx, "AWS::S3::Bucket")["PhysicalResourceId"]
    table = the(ctx, "AWS::DynamoDB::Table")["PhysicalResourceId"]
    table_arn = ctx.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    needed = [
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/models/churn/v1/model.joblib"),
        ("dynamodb:PutItem", table_arn),
    ]
    lacking = [f"{a} on {r}" for a, r in needed if not allows(documents, a, r)]
    if lacking:
        raise Fail(f"the role does not allow {'; '.join(lacking)}")
    count = len(documents)
    return f"the role has {count} polic{'y' if count == 1 else 'ies'}, no wildcard actions"


# -- step 3 ----------------------------------------------------------------------------------


def batch(ctx) -> list[dict]:
    """Customers to score: public ones, plus hidden ones (from the hidden seed) when grading."""
    from crosstrain import datasets

    cache = sys.modules.setdefault("crosstrain_cache_22_checks", types.ModuleType("cache"))
    if ctx.hidden:
        secret = ctx.hidden.secret.decode()
        if getattr(cache, "secret", None) != secret:
            raw = datasets.generate(datasets.hidden_seed(secret), n_customers=200)
            cache.hidden, cache.secret = datasets.training_frame(raw), secret
        frame = cache.hidden
        rows = ctx.hidden.rng("log-batch").sample(range(len(frame)), 3)
    else:
        if not hasattr(cache, "public"):
            raw = datasets.generate(datasets.LEARNER_SEED, n_customers=50)
            cache.public = datasets.training_frame(raw)
        frame, rows = cache.public, [3, 4]
    return json.loads(frame.iloc[rows][["customer_id", *FEATURES]].to_json(orient="records"))


@check(
    "log-predictions",
    points=3,
    hint="Upload the model to the stack's bucket (models/churn/v1/model.joblib), then invoke "
    "the function: each customer it scores must appear in the table.",
    hints={
        "crash": "The function failed (see the error). Did you upload the model to the stack's "
        "bucket? DynamoDB's boto3 resource refuses floats: write Decimal(str(probability)).",
    },
    timeout=120,
)
def predictions_logged(ctx):
    deployed(ctx)
    function = the(ctx, "AWS::Lambda::Function")["PhysicalResourceId"]
    table = the(ctx, "AWS::DynamoDB::Table")["PhysicalResourceId"]
    customers = batch(ctx)
    since = datetime.now(UTC).isoformat(timespec="milliseconds")
    time.sleep(0.002)
    response = ctx.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps({"customers": customers}).encode()
    )
    answer = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise Fail(
            f"invoking {function} failed: {answer.get('errorType')}: "
            f"{str(answer.get('errorMessage'))[:200]}",
            hint="crash",
        )
    try:
        returned = {p["customer_id"]: p["churn_probability"] for p in answer["predictions"]}
    except (KeyError, TypeError):
        raise Fail(f"{function} answered {str(answer)[:200]}, not a list of predictions") from None
    ddb = ctx.client("dynamodb")
    for customer in customers:
        cid = customer["customer_id"]
        items = ddb.query(
            TableName=table,
            KeyConditionExpression="customer_id = :c AND scored_at >= :t",
            ExpressionAttributeValues={":c": {"S": cid}, ":t": {"S": since}},
        )["Items"]
        if not items:
            count = ddb.scan(TableName=table, Select="COUNT")["Count"]
            raise Fail(
                f"scored {len(customers)} customers; {table} ({count} items) has no item for "
                f"{cid} with scored_at after {since}"
            )
        logged = items[-1].get("churn_probability", {}).get("N")
        if logged is None or abs(float(logged) - float(returned.get(cid, -1))) > 1e-4:
            raise Fail(
                f"{cid}: the function answered {returned.get(cid)}, the table logged "
                f"{items[-1].get('churn_probability')}"
            )
    return f"{function} scored {len(customers)} customers and {table} logged each of them"


# -- step 4 ----------------------------------------------------------------------------------


def resolve(value, params: dict, physical: dict):
    """A template value with Ref resolved (parameters, resources); None if not resolvable."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            name = value["Ref"]
            return params.get(name, physical.get(name))
        return None
    return value


@check(
    "change-set",
    points=3,
    hint=f"Create a change set on {STACK} that sets the parameter MemorySize to {NEW_MEMORY} "
    "(ChangeSetType='UPDATE'), review it with describe_change_set, then execute it.",
    hints={
        "drift": "The function no longer matches its stack: it was changed by hand. Put it "
        "back (update_function_configuration with the template's values), then make the "
        "change through a change set, so the template stays the truth.",
        "direct": "The stack was updated without a change set. Create one (create_change_set), "
        "review what it will modify, then execute_change_set.",
    },
    timeout=120,  # the sandbox's first CloudFormation call imports for seconds
)
def changed_through_change_set(ctx):
    found = deployed(ctx)
    function = the(ctx, "AWS::Lambda::Function")
    live = ctx.client("lambda").get_function_configuration(
        FunctionName=function["PhysicalResourceId"]
    )
    params = {p["ParameterKey"]: p["ParameterValue"] for p in found.get("Parameters", [])}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for v in resources(ctx).values() for r in v
    }
    props = properties(ctx, function["LogicalResourceId"])
    drift = []
    for field in DRIFT_FIELDS:
        declared = resolve(props.get(field), params, physical)
        if declared is not None and str(declared) != str(live.get(field)):
            drift.append(f"{field} is {live.get(field)}, the stack says {declared}")
    variables = (props.get("Environment") or {}).get("Variables") or {}
    live_vars = live.get("Environment", {}).get("Variables", {})
    for name, value in variables.items():
        declared = resolve(value, params, physical)
        if declared is not None and live_vars.get(name) != str(declared):
            drift.append(f"{name} is {live_vars.get(name)!r}, the stack says {declared!r}")
    if drift:
        raise Fail("drift: " + "; ".join(drift), hint="drift")
    summaries = ctx.client("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    executed = [s["ChangeSetName"] for s in summaries if s["ExecutionStatus"] == "EXECUTE_COMPLETE"]
    memory = live.get("MemorySize")
    if not executed:
        pending = [f"{s['ChangeSetName']} ({s['ExecutionStatus']})" for s in summaries]
        if memory == NEW_MEMORY and found["StackStatus"] == "UPDATE_COMPLETE":
            raise Fail(f"the stack has {memory} MB but no change set was executed", hint="direct")
        raise Fail(
            f"{STACK} has no executed change set (change sets: {', '.join(pending) or 'none'}); "
            f"the function has {memory} MB"
        )
    if memory != NEW_MEMORY:
        raise Fail(
            f"change set {executed[-1]} ran, but the function has {memory} MB, not {NEW_MEMORY}"
        )
    return f"change set {executed[-1]} set {memory} MB; the function matches its stack"
