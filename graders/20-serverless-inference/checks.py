"""Checks for 20-serverless-inference: they read the sandbox and call the deployed API.

Predictions are compared with a reference model trained here with the lab's recipe, on customers
the learner has never seen when grading (drawn from the hidden seed).

The names, the reference model, the customers and the ways to reach the deployment are in
``serving.py``.
"""

import io
import json
import time
import zipfile

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import error_code
from crosstrain.labs.checks import Fail, check

from .serving import (
    API,
    BUCKET,
    CATEGORICAL,
    CODE_KEY,
    FUNCTION,
    HARD_CODED,
    MEMORY,
    MODEL_KEY,
    MODEL_URI,
    NUMERIC,
    ROUTE,
    TIMEOUT,
    TOLERANCE,
    api_url,
    customers,
    expected,
    function_config,
    invoke,
    post,
    read_object,
    shown,
)

# -- step 1 ----------------------------------------------------------------------------------


@check(
    "package-artifacts",
    points=2,
    hint=f"Create the bucket {BUCKET}; upload the model to {MODEL_KEY} and the zipped handler "
    f"to {CODE_KEY}.",
    hints={
        "zip-layout": "Lambda imports handler.py from the root of the zip: add the file with "
        "zf.write('function/handler.py', arcname='handler.py'), not the folder.",
    },
)
def artifacts_uploaded(ctx):
    s3 = ctx.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if BUCKET not in buckets:
        raise Fail(f"there is no bucket {BUCKET} (buckets: {', '.join(buckets) or 'none'})")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    missing = [k for k in (MODEL_KEY, CODE_KEY) if k not in keys]
    if missing:
        raise Fail(
            f"bucket {BUCKET} has {', '.join(keys[:6]) or 'no objects'}; "
            f"nothing at {' or '.join(missing)}"
        )
    model, code = read_object(ctx, MODEL_KEY), read_object(ctx, CODE_KEY)
    if not model:
        raise Fail(f"{MODEL_KEY} is empty")
    if not zipfile.is_zipfile(io.BytesIO(code)):
        raise Fail(f"{CODE_KEY} is not a zip file ({len(code)} bytes)", hint="zip-layout")
    names = zipfile.ZipFile(io.BytesIO(code)).namelist()
    if "handler.py" not in names:
        raise Fail(
            f"{CODE_KEY} holds {', '.join(names[:6]) or 'nothing'}: no handler.py at its root",
            hint="zip-layout",
        )
    return f"s3://{BUCKET} holds the model ({len(model)} bytes) and the zipped handler"


# -- step 2 ----------------------------------------------------------------------------------


@check(
    "deploy-function",
    points=2,
    hint=f"Create the function {FUNCTION} from the zip in S3 (Code={{'S3Bucket': ..., "
    "'S3Key': ...}), with the settings step 2 lists.",
    hints={
        "config": "Set what step 2 asks for with update_function_configuration: runtime "
        "python3.12, handler handler.handler, MemorySize 1024 (at least 512: scikit-learn "
        f"needs it), Timeout 30 (10 to 30 s), and the variable MODEL_URI={MODEL_URI}; after "
        "changing the zip in S3, update_function_code(S3Bucket=..., S3Key=...) again.",
        "endpoint": "Remove the endpoint URL from the handler: boto3.client('s3') finds the "
        "sandbox through AWS_ENDPOINT_URL, and the real S3 on AWS. A hard-coded URL works "
        "nowhere else.",
    },
)
def function_configured(ctx):
    config = function_config(ctx)
    wrong = []
    if not str(config.get("Runtime", "")).startswith("python3"):
        wrong.append(f"Runtime is {config.get('Runtime')!r}, not python3.x")
    if config.get("Handler") != "handler.handler":
        wrong.append(f"Handler is {config.get('Handler')!r}, not 'handler.handler'")
    memory, timeout = config.get("MemorySize"), config.get("Timeout")
    if not MEMORY[0] <= memory <= MEMORY[1]:
        wrong.append(f"MemorySize is {memory} MB, not {MEMORY[0]} to {MEMORY[1]}")
    if not TIMEOUT[0] <= timeout <= TIMEOUT[1]:
        wrong.append(f"Timeout is {timeout} s, not {TIMEOUT[0]} to {TIMEOUT[1]}")
    variables = config.get("Environment", {}).get("Variables", {})
    if variables.get("MODEL_URI") != MODEL_URI:
        wrong.append(f"MODEL_URI is {variables.get('MODEL_URI')!r}, not {MODEL_URI!r}")
    code = read_object(ctx, CODE_KEY)
    if code is None:
        wrong.append(f"there is no code zip at s3://{BUCKET}/{CODE_KEY}")
    else:
        import base64
        import hashlib

        digest = base64.b64encode(hashlib.sha256(code).digest()).decode()
        if config.get("CodeSha256") != digest:
            wrong.append(f"the function's code is not the zip at s3://{BUCKET}/{CODE_KEY}")
        elif zipfile.is_zipfile(io.BytesIO(code)):
            with zipfile.ZipFile(io.BytesIO(code)) as zf:
                for name in (n for n in zf.namelist() if n.endswith(".py")):
                    found = HARD_CODED.search(zf.read(name).decode(errors="replace"))
                    if found:
                        raise Fail(f"{name} in the zip names the endpoint {found[0]}", "endpoint")
    if wrong:
        raise Fail("; ".join(wrong), hint="config")
    return (
        f"{FUNCTION}: {config['Runtime']}, {memory} MB, {timeout} s, code from "
        f"s3://{BUCKET}/{CODE_KEY}, MODEL_URI set"
    )


def hide_model(ctx):
    """Delete the model object; return how to bring it back exactly as it was."""
    s3 = ctx.client("s3")
    body = read_object(ctx, MODEL_KEY)
    if body is None:
        raise Fail(f"there is no model at {MODEL_URI}")
    marker = s3.delete_object(Bucket=BUCKET, Key=MODEL_KEY).get("VersionId")

    def restore():
        if marker:  # a versioned bucket: removing the delete marker restores the same version
            s3.delete_object(Bucket=BUCKET, Key=MODEL_KEY, VersionId=marker)
        else:
            s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=body)

    return restore


@check(
    "deploy-function",
    points=1,
    hint=f"Deploy {FUNCTION} so that invoking it with an API Gateway event for POST /predict "
    "answers statusCode 200 with predictions.",
    hints={
        "crash": "The function failed (see the error): read it in CloudWatch Logs "
        f"(/aws/lambda/{FUNCTION}), fix function/handler.py, upload the zip and call "
        "update_function_code again.",
        "per-call": "Load the model once, at module level (MODEL = load_model(MODEL_URI) "
        "outside the handler): the handler should only call MODEL.predict_proba.",
    },
    timeout=120,
)
def model_loaded_once(ctx):
    function_config(ctx)
    batch = customers(ctx, "load-once", 1)[-1:]
    body = json.dumps({"customers": batch})
    error, answer = invoke(ctx, body)
    if error:
        raise Fail(
            f"invoking {FUNCTION} failed: {error.get('errorType', 'Error')}: "
            f"{str(error.get('errorMessage'))[:200]}",
            hint="crash",
        )
    if not isinstance(answer, dict) or answer.get("statusCode") != 200:
        raise Fail(f"invoking {FUNCTION} for one customer answered {str(answer)[:200]}")
    restore = hide_model(ctx)
    try:
        error, again = invoke(ctx, body)
    finally:
        restore()
    if error or not isinstance(again, dict) or again.get("statusCode") != 200:
        seen = again
        if error:
            seen = f"{error.get('errorType')}: {str(error.get('errorMessage'))[:120]}"
        raise Fail(
            f"the warm function answered the first call, but failed once {MODEL_URI} was "
            f"briefly removed ({seen}): it reads the model from S3 on every request",
            hint="per-call",
        )
    return "the warm function kept answering without the model file: it loaded the model once"


# -- step 3 ----------------------------------------------------------------------------------


@check(
    "http-api",
    points=4,
    hint=f"Create the HTTP API {API} with the route POST /predict (AWS_PROXY integration to "
    f"{FUNCTION}) and the $default stage; it must answer {{'predictions': [{{'customer_id': ..., "
    "'churn_probability': ...}]}.",
    hints={
        "crash": "The function failed behind the API (5xx). Behind API Gateway the request "
        "arrives as a JSON string in event['body']: json.loads(event['body']), and return "
        "{'statusCode': ..., 'body': json.dumps(...)}.",
        "probability": "Return the probability of churn, model.predict_proba(X)[:, 1] (the "
        "second column, class 1), not model.predict(X) or the first column.",
    },
    timeout=120,
)
def api_predicts(ctx):
    url = api_url(ctx)
    batch = customers(ctx, "predictions", 8)
    status, raw = post(url, json.dumps({"customers": batch}).encode())
    if status in (403, 404):
        raise Fail(
            f"POST {ROUTE} answered {status} {shown(raw)}: the API has no POST {ROUTE} route on "
            "a deployed stage (create_route with RouteKey 'POST /predict', a $default stage with "
            "AutoDeploy)"
        )
    if status >= 500:
        raise Fail(f"POST {ROUTE} answered {status} {shown(raw)}", hint="crash")
    if status != 200:
        raise Fail(f"POST {ROUTE} with {len(batch)} valid customers answered {status} {shown(raw)}")
    try:
        predictions = json.loads(raw)["predictions"]
        got = {p["customer_id"]: p["churn_probability"] for p in predictions}
    except (ValueError, KeyError, TypeError):
        raise Fail(f"the answer has no list of predictions: {shown(raw)}") from None
    want = expected(batch)
    if set(got) != set(want):
        raise Fail(f"asked for {len(want)} customers, the answer has {len(got)}: {shown(raw)}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in got.values()):
        raise Fail(f"churn_probability is not a number: {shown(raw)}")
    if all(v in (0, 1) for v in got.values()):
        raise Fail(f"every churn_probability is 0 or 1: {shown(raw)}", hint="probability")
    worst = max(want, key=lambda c: abs(got[c] - want[c]))
    if abs(got[worst] - want[worst]) > TOLERANCE:
        if all(abs(got[c] - (1 - want[c])) <= TOLERANCE for c in want):
            raise Fail("the answers are 1 minus the churn probability", hint="probability")
        raise Fail(
            f"customer {worst} got {got[worst]:.4f}; the model trained with the recipe of step 1 "
            f"says {want[worst]:.4f} (tolerance {TOLERANCE}). Train it unchanged and send every "
            "feature to the pipeline as a DataFrame with the training column names"
        )
    return f"POST {ROUTE} scored {len(want)} customers as the reference model does (±{TOLERANCE})"


# -- step 4 ----------------------------------------------------------------------------------


def bad_payloads(ctx) -> list[tuple[str, bytes]]:
    """(what is wrong, request body): malformed JSON, a missing feature, a non-numeric number."""
    good = customers(ctx, "bad", 1)[-1]
    dropped, garbled, garbage = "tenure_months", "monthly_fee", "N/A"
    if ctx.hidden:
        rng = ctx.hidden.rng("bad-payloads")
        dropped, garbled = rng.choice(CATEGORICAL + NUMERIC), rng.choice(NUMERIC)
        garbage = rng.choice(["N/A", "unknown", "12,5", "", "-"])
    missing = {k: v for k, v in good.items() if k != dropped}
    return [
        ("a body that is not JSON", f"customer {good['customer_id']}, please".encode()),
        ("no customers", json.dumps({"customers": []}).encode()),
        (f"a customer without {dropped}", json.dumps({"customers": [missing]}).encode()),
        (
            f"{garbled} = {garbage!r}",
            json.dumps({"customers": [good | {garbled: garbage}]}).encode(),
        ),
    ]


@check(
    "validate-input",
    points=2,
    hint=f"Deploy {FUNCTION} behind {API} so that valid requests answer 200 and bad ones 400.",
    hints={
        "validation": "Validate the body before the model sees it: answer 400 with a JSON body "
        "{'error': 'what is wrong and how to fix it'} when the body is not JSON, 'customers' "
        "is not a non-empty list, a feature is missing or a number is not a number. A crash "
        "(502) or a 500 tells the caller nothing.",
    },
    timeout=120,
)
def rejects_bad_input(ctx):
    url = api_url(ctx)
    status, raw = post(url, json.dumps({"customers": customers(ctx, "bad", 1)[-1:]}).encode())
    if status != 200:
        raise Fail(f"a valid request answered {status} {shown(raw)}; it must still answer 200")
    for what, body in bad_payloads(ctx):
        status, raw = post(url, body)
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        error = answer.get("error") if isinstance(answer, dict) else None
        if status != 400 or not isinstance(error, str) or not error:
            raise Fail(f"{what} answered {status} {shown(raw)}", hint="validation")
    return "4 bad requests answered 400 with an error message; a valid one answered 200"


# -- step 5 ----------------------------------------------------------------------------------

LOG_FIELDS = ("request_id", "status", "n_customers", "latency_ms")


def json_lines(ctx, since_ms: int) -> list[dict]:
    """Log lines of the function since ``since_ms`` that are JSON objects (or end with one)."""
    logs = ctx.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{FUNCTION}", startTime=since_ms)[
            "events"
        ]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise
    found = []
    for event in events:
        text = event["message"].strip().split("\t")[-1]  # logging adds "[INFO]\ttime\tid\t"
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


@check(
    "structured-logs",
    points=2,
    hint="Print one JSON object per request, on one line, with request_id "
    "(context.aws_request_id), status, n_customers and latency_ms: print(json.dumps(record)).",
    timeout=120,
)
def json_log_per_request(ctx):
    url = api_url(ctx)
    size = ctx.hidden.rng("log-batch").randint(2, 4) if ctx.hidden else 2
    batch = customers(ctx, "logs", 4)[:size]
    since = int(time.time() * 1000) - 5
    sent = [
        post(url, json.dumps({"customers": batch[:1]}).encode())[0],
        post(url, json.dumps({"customers": batch}).encode())[0],
        post(url, b"not json")[0],
    ]
    deadline = time.monotonic() + 3
    lines = json_lines(ctx, since)
    while len(lines) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.2)
        lines = json_lines(ctx, since)
    complete = [line for line in lines if all(f in line for f in LOG_FIELDS)]
    if not complete:
        sample = json.dumps(lines[0])[:160] if lines else "none"
        raise Fail(
            f"{len(sent)} requests (statuses {sent}) wrote {len(lines)} JSON log lines; none has "
            f"all of {', '.join(LOG_FIELDS)} (first: {sample})"
        )
    ids = {line["request_id"] for line in complete}
    seen = sorted((line["status"], line["n_customers"]) for line in complete)
    wanted = [(200, 1), (200, size), (400, None)]
    for status, count in wanted:
        match = [s for s in seen if s[0] == status and (count is None or s[1] == count)]
        if not match:
            raise Fail(
                f"sent {len(sent)} requests (1 customer, {size} customers, a bad body); the JSON "
                f"lines show (status, n_customers) {seen}: none is ({status}, "
                f"{'any' if count is None else count})"
            )
    if len(ids) < len(sent):
        raise Fail(f"{len(sent)} requests, but the JSON lines name {len(ids)} request ids")
    return f"{len(complete)} JSON log lines for {len(sent)} requests, with {', '.join(LOG_FIELDS)}"
