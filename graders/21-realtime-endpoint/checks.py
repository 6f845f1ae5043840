"""Checks for 21-realtime-endpoint: they read the sandbox and invoke the deployed endpoint.

Answers are compared with reference models trained here with the lab's ``train.py`` (the trusted
copy in ``labs/``), on customers the learner has never seen when grading (the hidden seed).
Whether the model is loaded once is tested on a probe endpoint that serves the learner's own
``code/inference.py`` with a marker model that is deleted as soon as ``model_fn`` returns.

Steps 1 and 2 are here, steps 3 and 4 in ``canary_checks.py``; the names, the probe, the
reference models and the ways to reach the endpoint in ``endpoint.py``.
"""

import ast
import contextlib
import io
import math
import tarfile
import time
import uuid

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import untar
from crosstrain.labs.checks import Fail, check

from .canary_checks import both_variants_serve, canary_config, traffic_shifted, updated_in_place  # noqa: F401 - steps 3, 4
from .endpoint import (
    BUCKET,
    CONFIG_V1,
    CSV,
    ENDPOINT,
    HANDLERS,
    JSON,
    KEYS,
    MARKER,
    MODELS,
    PROBE,
    PROBE_PROGRAM,
    TOLERANCE,
    URIS,
    Answer,
    compare,
    config,
    csv_body,
    customers,
    features,
    in_service,
    invoke,
    json_body,
    model_url,
    names,
)

# -- step 1 ----------------------------------------------------------------------------------


def members(archive: bytes) -> dict[str, bytes]:
    """The files of a tar.gz, by name without a leading ./ (raises Fail if it is not one)."""
    try:
        return untar(archive, mode="r:gz")
    except ValueError as exc:
        raise Fail(f"{KEYS['v1']} is not a gzipped tar archive ({exc})") from None


@check(
    "package-model",
    points=2,
    hint=f"Upload model.tar.gz to s3://{BUCKET}/{KEYS['v1']} holding model.joblib and "
    "code/inference.py (with model_fn, input_fn, predict_fn and output_fn) at its root.",
    hints={
        "layout": "SageMaker unpacks model.tar.gz into /opt/ml/model and looks for "
        "code/inference.py there: add the files themselves, tar.add('model.joblib') and "
        "tar.add('code/inference.py'), or tar -C build -czf model.tar.gz . (not the folder).",
    },
)
def artifact_packaged(ctx):
    s3 = ctx.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if BUCKET not in buckets:
        raise Fail(f"there is no bucket {BUCKET} (buckets: {names(buckets)})")
    try:
        archive = s3.get_object(Bucket=BUCKET, Key=KEYS["v1"])["Body"].read()
    except ClientError:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        raise Fail(f"bucket {BUCKET} holds {names(keys)}; nothing at {KEYS['v1']}") from None
    files = members(archive)
    wanted = ["model.joblib", "code/inference.py"]
    if not all(name in files for name in wanted):
        nested = [n for n in files if n.endswith(tuple(f"/{w}" for w in wanted))]
        seen = f"{KEYS['v1']} holds {names(sorted(files))}"
        if nested:
            raise Fail(f"{seen}: the files are inside a folder, not at the root", hint="layout")
        raise Fail(f"{seen}; it needs {' and '.join(wanted)} at its root")
    if not files["model.joblib"]:
        raise Fail("model.joblib in the archive is empty")
    try:
        tree = ast.parse(files["code/inference.py"])
    except SyntaxError as exc:
        raise Fail(f"code/inference.py does not parse: line {exc.lineno}: {exc.msg}") from None
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [h for h in HANDLERS if h not in defined]
    if missing:
        raise Fail(f"code/inference.py in the archive does not define {', '.join(missing)}")
    return f"{URIS['v1']} holds model.joblib and code/inference.py with the four handlers"


# -- step 2 ----------------------------------------------------------------------------------


@check(
    "deploy-endpoint",
    points=2,
    hint=f"Create the model {MODELS['v1']} from {URIS['v1']}, the endpoint config {CONFIG_V1} "
    f"with one variant v1 (model {MODELS['v1']}, 1 instance of ml.m5.large, weight 1) and the "
    f"endpoint {ENDPOINT}; wait for InService. If it reads Failed, its FailureReason and the log "
    f"group /aws/sagemaker/Endpoints/{ENDPOINT} say why.",
    timeout=60,
)
def endpoint_in_service(ctx):
    url = model_url(ctx, MODELS["v1"])
    if url is None:
        found = [m["ModelName"] for m in ctx.client("sagemaker").list_models()["Models"]]
        raise Fail(f"there is no model {MODELS['v1']} (models: {names(found)})")
    if url != URIS["v1"]:
        raise Fail(f"model {MODELS['v1']} serves {url!r}, not {URIS['v1']}")
    v1 = config(ctx, CONFIG_V1)
    if v1 is None:
        raise Fail(f"there is no endpoint config {CONFIG_V1}")
    variants = v1["ProductionVariants"]
    shape = [(v["VariantName"], v["ModelName"]) for v in variants]
    if shape != [("v1", MODELS["v1"])]:
        raise Fail(f"{CONFIG_V1} has the variants (name, model) {shape}, not [('v1', 'churn-v1')]")
    sizing = variants[0]
    if not str(sizing.get("InstanceType", "")).startswith("ml.") or not sizing.get(
        "InitialInstanceCount"
    ):
        raise Fail(
            f"variant v1 asks for {sizing.get('InitialInstanceCount')} x "
            f"{sizing.get('InstanceType')}: a real-time variant needs an ml.* instance type and "
            "at least 1 instance"
        )
    endpoint = in_service(ctx)
    current = config(ctx, endpoint["EndpointConfigName"]) or {"ProductionVariants": []}
    serving = {v["VariantName"]: v["ModelName"] for v in current["ProductionVariants"]}
    if serving.get("v1") != MODELS["v1"]:
        raise Fail(
            f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, whose variants serve {serving}; "
            f"the variant v1 must serve {MODELS['v1']}"
        )
    return f"{ENDPOINT} is InService on {endpoint['EndpointConfigName']}; v1 serves {URIS['v1']}"


def probe_artifact(ctx, archive: bytes) -> bytes:
    """The learner's archive with a marker model.joblib and the probe program added."""
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    files = members(archive)
    columns = features(ctx)
    frame = pd.DataFrame({c: np.zeros(10000) for c in columns})
    labels = np.r_[np.ones(round(MARKER * 10000)), np.zeros(10000 - round(MARKER * 10000))]
    marker = io.BytesIO()
    joblib.dump(make_pipeline(DummyClassifier(strategy="prior")).fit(frame, labels), marker)
    files["model.joblib"] = marker.getvalue()
    files[f"code/{PROBE_PROGRAM}"] = PROBE.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def run_probe(ctx, archive: bytes, body: str, content_type: str) -> tuple[str, Answer | None]:
    """Serve the learner's code with the marker model on a temporary endpoint; invoke it twice.

    Returns ``("", answer)``, or ``(failure reason, None)`` when the probe did not start.
    """
    s3, sm = ctx.client("s3"), ctx.client("sagemaker")
    name = f"crosstrain-probe-{uuid.uuid4().hex[:8]}"
    account = ctx.client("sts").get_caller_identity()["Account"]
    try:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="model.tar.gz", Body=probe_artifact(ctx, archive))
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=f"arn:aws:iam::{account}:role/{name}",
            PrimaryContainer={
                "Image": "sklearn",
                "ModelDataUrl": f"s3://{name}/model.tar.gz",
                "Environment": {"SAGEMAKER_PROGRAM": PROBE_PROGRAM},
            },
        )
        sm.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "probe",
                    "ModelName": name,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        deadline = time.monotonic() + 90
        while (status := sm.describe_endpoint(EndpointName=name))["EndpointStatus"] == "Creating":
            if time.monotonic() > deadline:
                return "the probe endpoint did not start within 90 s", None
            time.sleep(0.2)
        if status["EndpointStatus"] != "InService":
            return status.get("FailureReason") or status["EndpointStatus"], None
        first = invoke(ctx, body, content_type, name=name)
        return "", first if first.error else invoke(ctx, body, content_type, name=name)
    finally:
        for call, arg in (
            (sm.delete_endpoint, {"EndpointName": name}),
            (sm.delete_endpoint_config, {"EndpointConfigName": name}),
            (sm.delete_model, {"ModelName": name}),
            (s3.delete_object, {"Bucket": name, "Key": "model.tar.gz"}),
            (s3.delete_bucket, {"Bucket": name}),
        ):
            with contextlib.suppress(ClientError):
                call(**arg)


@check(
    "deploy-endpoint",
    points=1,
    hint=f"Deploy {ENDPOINT} from {URIS['v1']}; model_fn(model_dir) must load "
    "os.path.join(model_dir, 'model.joblib') with joblib and return it.",
    hints={
        "per-request": "Load the model in model_fn, which runs once when an instance starts, and "
        "use the model predict_fn receives: predict_fn(data, model) -> "
        "model.predict_proba(data)[:, 1]. Loading it in input_fn or predict_fn repeats the "
        "work on every request.",
        "retrain": "model_fn must load the model.joblib you packaged (joblib.load(os.path.join("
        "model_dir, 'model.joblib'))), not train a model: training at start-up makes every new "
        "instance slow, needs the training data on the endpoint, and serves a model nobody "
        "evaluated.",
    },
    timeout=150,
)
def model_loaded_once(ctx):
    url = model_url(ctx, MODELS["v1"])
    if url is None:
        raise Fail(f"there is no model {MODELS['v1']} to test")
    bucket, _, key = (url or "").removeprefix("s3://").partition("/")
    try:
        archive = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        raise Fail(f"model {MODELS['v1']} serves {url!r}, where there is no object") from None
    if "code/inference.py" not in members(archive):
        raise Fail(f"{url} has no code/inference.py to test")
    rows = customers(ctx, "probe", 1).iloc[-2:]
    body, content_type = json_body(rows), JSON
    if in_service(ctx) and invoke(ctx, body, JSON).error:  # test the format the endpoint reads
        body, content_type = csv_body(rows, header=False), CSV
    reason, answer = run_probe(ctx, archive, body, content_type)
    tested = (
        "served your code/inference.py on a test endpoint with a marker model.joblib that "
        "answers 0.4242 for everyone, and deleted model.joblib as soon as model_fn returned"
    )
    if reason:
        raise Fail(f"{tested}: the test endpoint did not start: {reason[:300]}")
    if answer.error:
        raise Fail(f"{tested}: a request then failed ({answer.error[:200]})", hint="per-request")
    got = answer.probabilities
    if got is None or len(got) != len(rows):
        raise Fail(f"{tested}: it answered {answer.shown}")
    if any(not math.isclose(p, MARKER, abs_tol=TOLERANCE) for p in got):
        raise Fail(
            f"{tested}: it answered {[round(p, 4) for p in got]}, so model_fn does not serve the "
            "model.joblib of the archive",
            hint="retrain",
        )
    return "model_fn loads model.joblib once: requests kept working after the file was deleted"


@check(
    "deploy-endpoint",
    points=2,
    hint=f'Invoke {ENDPOINT} with ContentType="application/json" and a body '
    '{"instances": [{"plan": ..., ...}]}: input_fn turns it into a DataFrame with the 18 '
    'feature columns, and output_fn answers {"probabilities": [...]} from predict_proba.',
    hints={
        "content-type": "input_fn(request_body, content_type) must look at content_type: parse "
        "application/json with json.loads (the customers are in 'instances') and text/csv with "
        "pandas; a JSON body read as CSV cannot work.",
    },
    timeout=60,
)
def json_predictions(ctx):
    in_service(ctx)
    rows = customers(ctx, "json", 6)
    answer = invoke(ctx, json_body(rows), JSON)
    if answer.error:
        as_csv = invoke(ctx, csv_body(rows, header=False), CSV)
        if not as_csv.error:
            raise Fail(
                f"a JSON request failed ({answer.error[:200]}), while the same customers as CSV "
                "were answered",
                hint="content-type",
            )
    return compare(ctx, answer, rows, f"a JSON request ({len(rows)} customers)")


@check(
    "deploy-endpoint",
    points=2,
    hint=f'Invoke {ENDPOINT} with ContentType="text/csv": one customer per line, the 18 '
    "features in train.FEATURES order, an empty field for a missing value; input_fn reads it "
    'into a DataFrame with those column names and output_fn answers {"probabilities": [...]}.',
    hints={
        "header": "A CSV body may start with a header row (frame.to_csv(index=False) writes "
        "one) or not: look at the first line, skip it when it names the columns "
        "(pd.read_csv(..., header=0)), else read every line as a customer (header=None, "
        "names=FEATURES).",
    },
    timeout=60,
)
def csv_predictions(ctx):
    in_service(ctx)
    rows = customers(ctx, "csv", 6)
    with_header = invoke(ctx, csv_body(rows, header=True), CSV)
    bare_rows = rows.iloc[::-1].reset_index(drop=True)
    without = invoke(ctx, csv_body(bare_rows, header=False), CSV)
    n = len(rows)
    for answer, other, what in (
        (with_header, without, "with a header row"),
        (without, with_header, "without a header row"),
    ):
        broken = bool(answer.error) or (
            answer.probabilities is not None and len(answer.probabilities) in (n - 1, n + 1)
        )
        if broken and not other.error and other.probabilities is not None:
            seen = answer.error[:200] or f"{len(answer.probabilities)} probabilities"
            raise Fail(
                f"a CSV request {what} ({n} customers) answered {seen}; the same customers "
                f"{'without' if 'with a' in what else 'with'} one were answered",
                hint="header",
            )
    first = compare(ctx, with_header, rows, f"a CSV request with a header ({n} customers)")
    compare(ctx, without, bare_rows, "a CSV request without a header")
    return first + ", with a header row or without"
