"""What lab 13's checks read and score: the check data and the learner's split rebuilt from
``crosstrain.datasets``, the lab's baseline, the metrics, the learner's JSON artifacts in S3, and
the stored model scored in the learner-code service (a sibling module of checks.py)."""

import functools
import io
import json

import numpy as np
import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checkkit import CATEGORICAL, FEATURES, NUMERIC
from crosstrain.labs.checks import Fail
from crosstrain.labs.learnercode import LearnerCodeError

from .names import BUCKET, CHECK_CUSTOMERS, PREFIX


@functools.lru_cache(maxsize=4)
def check_frame(seed: int) -> pd.DataFrame:
    return datasets.training_frame(datasets.generate(seed, n_customers=CHECK_CUSTOMERS))


@functools.lru_cache(maxsize=1)
def learner_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and test parts the notebook gives every learner."""
    from sklearn.model_selection import train_test_split

    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    train, test = train_test_split(
        frame, test_size=0.2, stratify=frame[datasets.LABEL], random_state=42
    )
    return train, test


@functools.lru_cache(maxsize=1)
def baseline_model():
    """The lab's baseline, fitted here as the notebook fits it: a depth-3 tree."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from sklearn.tree import DecisionTreeClassifier

    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )
    prepare = ColumnTransformer(
        [("numeric", "passthrough", NUMERIC), ("codes", codes, CATEGORICAL)]
    )
    tree = Pipeline([("prepare", prepare), ("model", DecisionTreeClassifier(max_depth=3))])
    train, _ = learner_split()
    return tree.set_params(model__random_state=0).fit(train[FEATURES], train[datasets.LABEL])


def baseline_auc(seed: int) -> float:
    frame = check_frame(seed)
    return auc(frame[datasets.LABEL], baseline_model().predict_proba(frame[FEATURES])[:, 1])


def auc(y, proba) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, proba))


def metric(name: str, y, proba) -> float:
    from sklearn.metrics import average_precision_score

    return (
        float(average_precision_score(y, proba)) if name == "average_precision" else auc(y, proba)
    )


def download(ctx, key: str) -> bytes:
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        raise Fail(f"there is no bucket {BUCKET}")
    try:
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError:
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])
        keys = ", ".join(o["Key"] for o in listed[:6]) or "nothing"
        raise Fail(f"there is no s3://{BUCKET}/{key} ({PREFIX} holds: {keys})") from None


def document(ctx, key: str) -> dict:
    body = download(ctx, key)
    try:
        found = json.loads(body)
    except ValueError:
        raise Fail(f"{key} is not JSON: {body[:60]!r}") from None
    if not isinstance(found, dict):
        raise Fail(f"{key} holds a {type(found).__name__}, not a JSON object")
    return found


def number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


# Runs in the learner's confinement (the learner-code service), never in the checker.
SCORER = """
import sys, traceback
import joblib
import pandas as pd

model = joblib.load("model.joblib")
names = getattr(model, "feature_names_in_", None)
found = {"features_in": None if names is None else [str(n) for n in names]}
for name in sys.argv[1:]:
    try:
        frame = pd.read_parquet(name + ".parquet")
        found[name] = [float(p) for p in model.predict_proba(frame)[:, 1]]
    except Exception as exc:
        found[name] = traceback.format_exception_only(exc)[-1].strip()
answer(found)
"""


@functools.lru_cache(maxsize=8)
def score(learner, model: bytes, seeds: tuple[int, ...]) -> dict:
    """The model's probabilities for each check set and the learner's test part, from one run of
    the learner-code service: ``{"features_in": [...], "test": [...], seed: [...]}``."""
    sets = {str(seed): check_frame(seed) for seed in seeds} | {"test": learner_split()[1]}
    files = {"model.joblib": model}
    for name, frame in sets.items():
        buffer = io.BytesIO()
        frame[FEATURES].to_parquet(buffer)
        files[f"{name}.parquet"] = buffer.getvalue()
    try:
        found = learner.run(SCORER, files=files, args=list(sets), timeout=120)
    except LearnerCodeError as exc:
        return {"error": f"it could not be loaded and scored in isolation: {exc}"}
    if not isinstance(found, dict):
        return {"error": "its answer is not one score per customer"}
    out = {"features_in": found.get("features_in")}
    for name, frame in sets.items():
        proba = found.get(name)
        if isinstance(proba, str):
            return {"error": proba}
        if not (isinstance(proba, list) and len(proba) == len(frame) and all(map(number, proba))):
            return {"error": "its answer is not one score per customer"}
        out[name] = proba
    return out
