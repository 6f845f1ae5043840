"""What the checks of 21-realtime-endpoint compare with and how they reach the endpoint: the lab's
names, the probe program, the reference models and the customers they score, the endpoint's
description and configs, invocations and how an answer is compared."""

import hashlib
import json
import sys
import time
import types

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import error_code
from crosstrain.labs.checks import Fail

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
