"""Checks for 21-realtime-endpoint: they read the sandbox and invoke the deployed endpoint.

Answers are compared with reference models trained here with the lab's ``train.py`` (the trusted
copy in ``labs/``), on customers the learner has never seen when grading (the hidden seed).
Whether the model is loaded once is tested on a probe endpoint that serves the learner's own
``code/inference.py`` with a marker model that is deleted as soon as ``model_fn`` returns.
"""

import ast
import contextlib
import hashlib
import io
import json
import math
import sys
import tarfile
import time
import types
import uuid

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import error_code, untar
from crosstrain.labs.checks import Fail, check

BUCKET = "churn-endpoint-artifacts"
KEYS = {"v1": "models/churn/v1/model.tar.gz", "v2": "models/churn/v2/model.tar.gz"}
URIS = {version: f"s3://{BUCKET}/{key}" for version, key in KEYS.items()}
MODELS = {"v1": "churn-v1", "v2": "churn-v2"}
CONFIG_V1, CONFIG_CANARY = "churn-v1-config", "churn-canary-config"
ENDPOINT = "churn-endpoint"
HANDLERS = ("model_fn", "input_fn", "predict_fn", "output_fn")
CSV, JSON = "text/csv", "application/json"
TOLERANCE = 0.005  # absolute, on a probability
CANARY_SHARE, SHARE_TOLERANCE = 0.10, 0.005
MARKER = 0.4242  # what the probe's marker model answers for every customer
PUBLIC_ROWS = [0, 1, 2, 7, 11, 19]  # learner-seed customers the notebook's samples also use
PROBE_PROGRAM = "crosstrain_probe.py"
PROBE = '''"""crosstrain's probe: your handlers, with model.joblib deleted once model_fn returns."""

import inspect
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inference as _learner  # noqa: E402


def _call(fn, *args):
    params = [
        p for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) == len(args) + 1 and params[-1].default is inspect.Parameter.empty:
        return fn(*args, None)
    return fn(*args)


def model_fn(model_dir):
    if callable(getattr(_learner, "model_fn", None)):
        model = _call(_learner.model_fn, model_dir)
    else:
        import joblib

        model = joblib.load(os.path.join(model_dir, "model.joblib"))
    for name in os.listdir(model_dir):
        path = os.path.join(model_dir, name)
        if name == "code":
            continue
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    print("crosstrain probe: model_fn returned; the model files are gone", flush=True)
    return model


for _name in ("input_fn", "predict_fn", "output_fn", "transform_fn"):
    if callable(getattr(_learner, _name, None)):
        globals()[_name] = getattr(_learner, _name)
'''


# -- reference models and customers ----------------------------------------------------------


def cache() -> types.ModuleType:
    """Per-process: each reference model is trained once (the solves share the learner frame)."""
    return sys.modules.setdefault("crosstrain_cache_21_models", types.ModuleType("cache"))


def recipe(ctx):
    from crosstrain.labs.catalog import load_module

    return load_module(ctx.lab.lab_dir / "train.py")


def reference(ctx, version: str):
    """Model ``version`` trained with the lab's train.py on the learner's data."""
    store = cache()
    path = ctx.lab.lab_dir / "train.py"
    key = hashlib.sha256(path.read_bytes()).hexdigest()[:16] + version
    objects = store.__dict__.setdefault("objects", {})
    if key not in objects:
        train = recipe(ctx)
        if not hasattr(store, "frame"):
            store.frame = train.training_data()
        objects[key] = getattr(train, f"train_{version}")(store.frame)
    return objects[key]


def features(ctx) -> list[str]:
    return list(recipe(ctx).FEATURES)


def customers(ctx, name: str, hidden_count: int):
    """Public customers (learner seed), plus ``hidden_count`` from the hidden seed when grading:
    a DataFrame of the 18 features."""
    reference(ctx, "v1")
    store = cache()
    columns = features(ctx)
    frames = [store.frame.iloc[PUBLIC_ROWS][columns]]
    if ctx.hidden:
        import pandas as pd

        from crosstrain import datasets

        secret = ctx.hidden.secret.decode()
        if getattr(store, "hidden_secret", None) != secret:
            raw = datasets.generate(datasets.hidden_seed(secret), n_customers=300)
            store.hidden_frame, store.hidden_secret = datasets.training_frame(raw), secret
        rows = ctx.hidden.rng(name).sample(range(len(store.hidden_frame)), hidden_count)
        frames = [frames[0].iloc[:2], store.hidden_frame.iloc[rows][columns]]
        return pd.concat(frames, ignore_index=True)
    return frames[0].reset_index(drop=True)


def json_body(rows) -> str:
    """{"instances": [...]}: one object per customer, null for a missing value."""
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    return json.dumps({"instances": records})


def csv_body(rows, header: bool) -> str:
    return rows.to_csv(index=False, header=header)


def expected(ctx, version: str, rows) -> list[float]:
    return [float(p) for p in reference(ctx, version).predict_proba(rows)[:, 1]]


# -- the endpoint ----------------------------------------------------------------------------


def names(items: list[str]) -> str:
    return ", ".join(items[:6]) or "none"


def describe(ctx, settle: float = 30) -> dict:
    """The endpoint, once it is no longer Creating or Updating (waiting up to ``settle`` s)."""
    sm = ctx.client("sagemaker")
    deadline = time.monotonic() + settle
    while True:
        try:
            endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
        except ClientError:
            found = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
            raise Fail(f"there is no endpoint {ENDPOINT} (endpoints: {names(found)})") from None
        if endpoint["EndpointStatus"] not in ("Creating", "Updating"):
            return endpoint
        if time.monotonic() > deadline:
            raise Fail(f"{ENDPOINT} is still {endpoint['EndpointStatus']}: wait, then check again")
        time.sleep(0.25)


def in_service(ctx) -> dict:
    endpoint = describe(ctx)
    if endpoint["EndpointStatus"] != "InService":
        reason = endpoint.get("FailureReason") or "no reason given"
        raise Fail(f"{ENDPOINT} is {endpoint['EndpointStatus']}: {reason}")
    return endpoint


def config(ctx, name: str) -> dict | None:
    try:
        return ctx.client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
    except ClientError:
        return None


def model_url(ctx, name: str) -> str | None:
    """The artifact a model serves (None when there is no such model)."""
    try:
        model = ctx.client("sagemaker").describe_model(ModelName=name)
    except ClientError:
        return None
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
    return container.get("ModelDataUrl") or source.get("S3Uri") or ""


class Answer:
    """One InvokeEndpoint: the variant that answered and the probabilities, or the error."""

    def __init__(self, variant="", probabilities=None, error="", raw=b""):
        self.variant, self.probabilities, self.error, self.raw = variant, probabilities, error, raw

    @property
    def shown(self) -> str:
        text = self.raw.decode(errors="replace")
        return text if len(text) <= 160 else text[:160] + "..."


def invoke(ctx, body: str, content_type: str, target: str | None = None, name=ENDPOINT):
    extra = {"TargetVariant": target} if target else {}
    try:
        response = ctx.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name,
            ContentType=content_type,
            Accept=JSON,
            Body=body.encode(),
            **extra,
        )
    except ClientError as exc:
        message = exc.response.get("OriginalMessage") or exc.response["Error"].get("Message", "")
        status = exc.response.get("OriginalStatusCode")
        return Answer(error=f"{error_code(exc)} {status or ''}: {message}".replace(" :", ":"))
    raw = response["Body"].read()
    try:
        value = json.loads(raw)
        probabilities = value["probabilities"]
        assert isinstance(probabilities, list)
        assert all(isinstance(p, int | float) and not isinstance(p, bool) for p in probabilities)
    except (ValueError, KeyError, TypeError, AssertionError):
        return Answer(response.get("InvokedProductionVariant", ""), None, "", raw)
    return Answer(response.get("InvokedProductionVariant", ""), probabilities, "", raw)


def compare(ctx, answer: Answer, rows, what: str) -> str:
    """Raise Fail unless ``answer`` holds the reference probabilities of the variant that
    answered; return what was seen."""
    if answer.error:
        raise Fail(f"{what} failed: {answer.error}")
    if answer.probabilities is None:
        raise Fail(f'{what} answered {answer.shown}, not {{"probabilities": [...]}}')
    if answer.variant not in MODELS:
        raise Fail(f"{what} was answered by the variant {answer.variant!r}, not v1 or v2")
    got, want = answer.probabilities, expected(ctx, answer.variant, rows)
    if len(got) != len(want):
        raise Fail(f"{what} with {len(want)} customers answered {len(got)} probabilities")
    if all(p in (0, 1) for p in got):
        raise Fail(f"{what} answered only 0s and 1s ({answer.shown}): labels, not probabilities")
    worst = max(range(len(want)), key=lambda i: abs(got[i] - want[i]))
    if abs(got[worst] - want[worst]) > TOLERANCE:
        raise Fail(
            f"{what}: customer {worst + 1} of {len(want)} got {got[worst]:.4f} from variant "
            f"{answer.variant}; model {answer.variant} trained by train.py says "
            f"{want[worst]:.4f} (tolerance {TOLERANCE})"
        )
    return f"{what} scored {len(want)} customers as model {answer.variant} does"


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


# -- step 3 ----------------------------------------------------------------------------------


@check(
    "canary-update",
    points=2,
    hint=f"Package model v2 to {URIS['v2']}, create the model {MODELS['v2']} and the endpoint "
    f"config {CONFIG_CANARY} with two variants, v1 (model {MODELS['v1']}, weight 0.9) and v2 "
    f"(model {MODELS['v2']}, weight 0.1), then update_endpoint({ENDPOINT}) to it.",
    hints={
        "canary": "A canary keeps the old model and sends a small share to the new one: the new "
        "config needs both variants, v1 at weight 0.9 and v2 at weight 0.1. Weights are relative "
        "(v2's share is 0.1 / (0.9 + 0.1)); v2 alone, or at weight 0, is no canary.",
    },
    timeout=60,
)
def canary_config(ctx):
    canary = config(ctx, CONFIG_CANARY)
    if canary is None:
        found = [
            c["EndpointConfigName"]
            for c in ctx.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
        ]
        raise Fail(f"there is no endpoint config {CONFIG_CANARY} (configs: {names(found)})")
    variants = {v["VariantName"]: v for v in canary["ProductionVariants"]}
    if set(variants) != set(MODELS):
        raise Fail(
            f"{CONFIG_CANARY} has the variants {sorted(variants)}, not v1 and v2", hint="canary"
        )
    for version, model in MODELS.items():
        if variants[version]["ModelName"] != model:
            raise Fail(f"variant {version} serves {variants[version]['ModelName']}, not {model}")
    url = model_url(ctx, MODELS["v2"])
    if url != URIS["v2"]:
        raise Fail(f"model {MODELS['v2']} serves {url!r}, not {URIS['v2']}")
    weights = {v: float(variants[v].get("InitialVariantWeight", 1.0)) for v in MODELS}
    total = sum(weights.values())
    share = weights["v2"] / total if total else 0.0
    if abs(share - CANARY_SHARE) > SHARE_TOLERANCE:
        raise Fail(
            f"{CONFIG_CANARY} weighs v1 {weights['v1']:g} and v2 {weights['v2']:g}: v2 would get "
            f"{share:.0%} of the traffic, not {CANARY_SHARE:.0%}",
            hint="canary",
        )
    endpoint = in_service(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        reason = endpoint.get("FailureReason")
        raise Fail(
            f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}"
            + (f" ({reason})" if reason else "")
        )
    return f"{ENDPOINT} runs {CONFIG_CANARY}: v1 {weights['v1']:g}, v2 {weights['v2']:g}"


@check(
    "canary-update",
    points=1,
    hint=f"Move {ENDPOINT} to {CONFIG_CANARY} with update_endpoint(EndpointName=..., "
    "EndpointConfigName=...), then wait until it is InService again.",
    hints={
        "recreated": "Update the endpoint, do not delete and recreate it: between delete_endpoint "
        "and InService every request fails (minutes on AWS), and clients lose the endpoint. "
        "update_endpoint starts the new variants while the old ones keep serving. Delete the "
        f"endpoint, create it again on {CONFIG_V1}, then update it to {CONFIG_CANARY}.",
    },
    timeout=60,
)
def updated_in_place(ctx):
    canary = config(ctx, CONFIG_CANARY)
    if canary is None:
        raise Fail(f"there is no endpoint config {CONFIG_CANARY} yet")
    endpoint = describe(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        raise Fail(f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}")
    created, made = endpoint["CreationTime"], canary["CreationTime"]
    if created >= made:
        raise Fail(
            f"{ENDPOINT} was created at {created:%H:%M:%S}, after {CONFIG_CANARY} "
            f"({made:%H:%M:%S}): it was created on the canary config, not updated to it",
            hint="recreated",
        )
    return (
        f"{ENDPOINT} (created {created:%H:%M:%S}) was updated in place to {CONFIG_CANARY} "
        f"(created {made:%H:%M:%S})"
    )


@check(
    "canary-update",
    points=1,
    hint=f"Both variants must answer: v1 with model v1, v2 with model v2 (package train_v2's "
    f"model to {URIS['v2']} with the same code/inference.py).",
    timeout=60,
)
def both_variants_serve(ctx):
    in_service(ctx)
    rows = customers(ctx, "variants", 4)
    seen = []
    for version in MODELS:
        answer = invoke(ctx, json_body(rows), JSON, target=version)
        if answer.error and "ValidationError" in answer.error:
            raise Fail(f"{ENDPOINT} has no variant {version} to invoke: {answer.error[:160]}")
        compare(ctx, answer, rows, f"a JSON request to variant {version}")
        if answer.variant != version:
            raise Fail(f"TargetVariant {version} was answered by {answer.variant}")
        seen.append(version)
    return f"variants {' and '.join(seen)} answer with their own model (InvokedProductionVariant)"


# -- step 4 ----------------------------------------------------------------------------------


@check(
    "shift-traffic",
    points=2,
    hint=f"Send all traffic to v2 with update_endpoint_weights_and_capacities({ENDPOINT}): "
    "DesiredWeight 0 for v1 and 1 for v2, on the canary config (v1 stays deployed, ready for a "
    "rollback).",
    hints={
        "relative": "Weights are relative, not percentages: v2's share is its weight divided by "
        "the sum. Raising v2 to 1 while v1 keeps 0.9 gives v2 about half; set v1's "
        "DesiredWeight to 0 as well.",
    },
    timeout=60,
)
def traffic_shifted(ctx):
    endpoint = in_service(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        raise Fail(
            f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}: shift the "
            "canary's traffic with update_endpoint_weights_and_capacities, without a new config"
        )
    weights = {
        v["VariantName"]: float(v.get("CurrentWeight", v.get("DesiredWeight", 0)) or 0)
        for v in endpoint["ProductionVariants"]
    }
    shown = ", ".join(f"{name} {weight:g}" for name, weight in weights.items())
    if weights.get("v2", 0) <= 0 or weights.get("v1", 0) > 0:
        total = sum(weights.values())
        share = weights.get("v2", 0) / total if total else 0
        seen = f"{ENDPOINT} weighs {shown}: v2 gets {share:.0%} of the traffic"
        canary = config(ctx, CONFIG_CANARY) or {"ProductionVariants": []}
        initial = {
            v["VariantName"]: v.get("InitialVariantWeight") for v in canary["ProductionVariants"]
        }
        moved = any(float(initial.get(n) or 0) != w for n, w in weights.items())
        raise Fail(seen, hint="relative" if moved and weights.get("v2", 0) > 0 else None)
    rows = customers(ctx, "shifted", 2)
    answered = [invoke(ctx, json_body(rows), JSON).variant or "an error" for _ in range(4)]
    if set(answered) != {"v2"}:
        raise Fail(f"weights {shown}, yet 4 requests were answered by {answered}")
    return f"{ENDPOINT} weighs {shown}: 4 of 4 requests were answered by v2"
