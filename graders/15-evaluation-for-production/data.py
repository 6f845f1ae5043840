"""What lab 15's checks read and compute: the check data and the learner's parts rebuilt from
``crosstrain.datasets``, the learner's JSON artifacts in S3, the stored model scored in the
learner-code service, and the metrics, costs and segment table the checks compare against (a
sibling module of checks.py)."""

import functools
import io
import json

import numpy as np
import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checkkit import FEATURES
from crosstrain.labs.checks import Fail
from crosstrain.labs.learnercode import LearnerCodeError

from .names import (
    BUCKET,
    CHECK_CUSTOMERS,
    COSTS,
    DIMENSIONS,
    N_BINS,
    PREFIX,
    TENURE_BINS,
    TENURE_LABELS,
)


@functools.lru_cache(maxsize=4)
def check_frame(seed: int) -> pd.DataFrame:
    return datasets.training_frame(datasets.generate(seed, n_customers=CHECK_CUSTOMERS))


@functools.lru_cache(maxsize=1)
def learner_parts() -> dict[str, pd.DataFrame]:
    """The notebook's parts: train 60 %, calibration 20 %, test 20 %."""
    from sklearn.model_selection import train_test_split

    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    label = datasets.LABEL
    rest, test = train_test_split(frame, test_size=0.2, stratify=frame[label], random_state=42)
    train, calib = train_test_split(rest, test_size=0.25, stratify=rest[label], random_state=42)
    return {"train": train, "calib": calib, "test": test}


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
import sys
import joblib
import pandas as pd

model = joblib.load("model.joblib")
found = {"type": type(model).__name__}
for name in sys.argv[1:]:
    try:
        frame = pd.read_parquet(name + ".parquet")
        found[name] = [float(p) for p in model.predict_proba(frame)[:, 1]]
    except Exception as exc:
        found[name] = f"{type(exc).__name__}: {exc}"
answer(found)
"""


@functools.lru_cache(maxsize=8)
def score(learner, model: bytes, seeds: tuple[int, ...]) -> dict:
    """Probabilities for each check set and the learner's calibration and test parts, from one
    run of the learner-code service: ``{"type": ..., "test": [...], "calib": [...], seed: ...}``."""
    parts = learner_parts()
    sets = {str(seed): check_frame(seed) for seed in seeds}
    sets |= {"calib": parts["calib"], "test": parts["test"]}
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
    out = {"type": str(found.get("type"))}
    for name, frame in sets.items():
        proba = found.get(name)
        if isinstance(proba, str):
            return {"error": proba}
        if not (isinstance(proba, list) and len(proba) == len(frame) and all(map(number, proba))):
            return {"error": "its answer is not one score per customer"}
        out[name] = np.asarray(proba, dtype=float)
    return out


def ece(y, proba, bins: int = N_BINS) -> float:
    y, proba = np.asarray(y, dtype=float), np.asarray(proba, dtype=float)
    which = np.minimum((proba * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(proba[inside].mean() - y[inside].mean())
    return float(gap)


def auc(y, proba) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, proba))


def cost_per_customer(y, proba, threshold: float) -> float:
    contact = np.asarray(proba) >= threshold
    y = np.asarray(y)
    false_pos, false_neg = (contact & (y == 0)).sum(), (~contact & (y == 1)).sum()
    return float(COSTS["false_positive"] * false_pos + COSTS["false_negative"] * false_neg) / len(y)


def tenure_band(tenure: pd.Series) -> pd.Series:
    bands = pd.cut(tenure, TENURE_BINS, right=False, labels=TENURE_LABELS).astype(str)
    return bands.where(tenure.notna(), "missing")


def expected_segments(proba) -> dict[tuple[str, str], dict]:
    """The grader's table on the learner's test part: {(dimension, segment): customers, auc}."""
    test = learner_parts()["test"]
    frame = test.assign(proba=proba, tenure_band=tenure_band(test["tenure_months"]))
    rows = {}
    for dimension in DIMENSIONS:
        labels = frame[dimension].astype(object).where(frame[dimension].notna(), "missing")
        for segment, part in frame.groupby(labels.astype(str)):
            y = part[datasets.LABEL]
            rows[(dimension, str(segment))] = {
                "customers": len(part),
                "auc": auc(y, part["proba"]) if y.nunique() == 2 else None,
            }
    return rows
