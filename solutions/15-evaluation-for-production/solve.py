"""Solves for 15-evaluation-for-production: calibrate on held-out rows, evaluate by segment,
choose the threshold by cost, and save the drift baseline lab 30 reads.

The figures on the lab page come from here too:
``python solutions/15-evaluation-for-production/solve.py docs/labs/img`` redraws them.
"""

import datetime as dt
import functools
import io
import json
import sys
import types

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from crosstrain import datasets
from crosstrain.labs.solves import solve, teardown

BUCKET, PREFIX = "churn-models", "evaluation/"
MODEL_KEY, REPORT_KEY = f"{PREFIX}model.joblib", f"{PREFIX}report.json"
SEGMENTS_KEY, BASELINE_KEY = f"{PREFIX}segments.json", f"{PREFIX}drift-baseline.json"
COSTS = {"false_positive": 40, "false_negative": 200}
CATEGORICAL = list(datasets.CATEGORICAL_FEATURES)
NUMERIC = list(datasets.NUMERIC_FEATURES)
FEATURES = CATEGORICAL + NUMERIC
TENURE_BINS, TENURE_LABELS = [0, 12, 24, np.inf], ["0-12 months", "12-24 months", "24+ months"]
BASELINE_SCHEMA = "crosstrain.drift-baseline/1"
N_BINS = 10
DIMENSIONS = ("plan", "region", "tenure_band")
MIN_SEGMENT = 50  # customers: an AUC measured on fewer is mostly noise

_MEMO = sys.modules.setdefault("crosstrain_memo_15_evaluation", types.ModuleType("memo"))


def memo(fn):
    """Compute ``fn()`` once per process (solves, cases and pages load this file afresh)."""

    @functools.wraps(fn)
    def cached():
        if fn.__name__ not in vars(_MEMO):
            setattr(_MEMO, fn.__name__, fn())
        return getattr(_MEMO, fn.__name__)

    return cached


def tenure_band(tenure: pd.Series) -> pd.Series:
    bands = pd.cut(tenure, TENURE_BINS, right=False, labels=TENURE_LABELS).astype(str)
    return bands.where(tenure.notna(), "missing")


def ece(y, proba, bins: int = N_BINS) -> float:
    """Expected calibration error: the customers-weighted gap between predicted and observed
    churn over equal-width probability bins."""
    y, proba = np.asarray(y, dtype=float), np.asarray(proba, dtype=float)
    which = np.minimum((proba * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(proba[inside].mean() - y[inside].mean())
    return float(gap)


def cost_per_customer(y, proba, threshold: float) -> float:
    contact = np.asarray(proba) >= threshold
    y = np.asarray(y)
    false_pos, false_neg = (contact & (y == 0)).sum(), (~contact & (y == 1)).sum()
    return float(COSTS["false_positive"] * false_pos + COSTS["false_negative"] * false_neg) / len(y)


@memo
def data() -> dict:
    """The notebook's three parts: train (60 %), calibration (20 %), test (20 %), and its model:
    boosted trees trained with balanced class weights (they rank well; their probabilities are
    inflated)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    rest, test = train_test_split(
        frame, test_size=0.2, stratify=frame[datasets.LABEL], random_state=42
    )
    train, calib = train_test_split(
        rest, test_size=0.25, stratify=rest[datasets.LABEL], random_state=42
    )
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )
    prepare = ColumnTransformer(
        [("numeric", "passthrough", NUMERIC), ("codes", codes, CATEGORICAL)]
    )
    boosted = HistGradientBoostingClassifier(max_iter=100, class_weight="balanced", random_state=0)
    model = Pipeline([("prepare", prepare), ("model", boosted)])
    model.fit(train[FEATURES], train[datasets.LABEL])
    return dict(train=train, calib=calib, test=test, model=model)


@memo
def calibrated() -> dict:
    d = data()
    wrapper = CalibratedClassifierCV(FrozenEstimator(d["model"]), method="sigmoid")
    wrapper.fit(d["calib"][FEATURES], d["calib"][datasets.LABEL])
    y = d["test"][datasets.LABEL]
    before = d["model"].predict_proba(d["test"][FEATURES])[:, 1]
    after = wrapper.predict_proba(d["test"][FEATURES])[:, 1]
    report = {
        "model": "boosted trees (class_weight=balanced) + sigmoid calibration",
        "calibration": {
            "method": "sigmoid",
            "fitted_on": "calibration part (20 %, not used for training)",
            "evaluated_on": "test part",
            "brier_before": round(brier_score_loss(y, before), 4),
            "brier_after": round(brier_score_loss(y, after), 4),
            "ece_before": round(ece(y, before), 4),
            "ece_after": round(ece(y, after), 4),
        },
        "auc": round(float(roc_auc_score(y, after)), 4),
        "sklearn_version": sklearn.__version__,
    }
    return dict(model=wrapper, before=before, after=after, report=report)


def segment_table(frame: pd.DataFrame, proba) -> list[dict]:
    """One row per segment of plan, region and tenure band: customers, churn, mean predicted
    churn, ROC AUC (None when a segment has one class only), Brier."""
    scored = frame.assign(proba=np.asarray(proba), tenure_band=tenure_band(frame["tenure_months"]))
    rows = []
    for dimension in DIMENSIONS:
        labels = scored[dimension].astype(object).where(scored[dimension].notna(), "missing")
        for segment, part in scored.groupby(labels.astype(str)):
            y = part[datasets.LABEL]
            rows.append(
                {
                    "dimension": dimension,
                    "segment": str(segment),
                    "customers": len(part),
                    "churn_rate": round(float(y.mean()), 4),
                    "mean_predicted": round(float(part["proba"].mean()), 4),
                    "auc": round(float(roc_auc_score(y, part["proba"])), 4)
                    if y.nunique() == 2
                    else None,
                    "brier": round(float(brier_score_loss(y, part["proba"])), 4),
                }
            )
    return rows


@memo
def segments() -> dict:
    d, c = data(), calibrated()
    rows = segment_table(d["test"], c["after"])
    measured = [r for r in rows if r["auc"] is not None and r["customers"] >= MIN_SEGMENT]
    worst = min(measured, key=lambda r: r["auc"])
    overall = round(float(roc_auc_score(d["test"][datasets.LABEL], c["after"])), 4)
    return {
        "evaluated_on": "test part",
        "metric": "auc",
        "overall_auc": overall,
        "segments": rows,
        "worst": {k: worst[k] for k in ("dimension", "segment", "auc", "customers")},
    }


@memo
def threshold() -> dict:
    """The cheapest threshold on the calibration part's calibrated probabilities."""
    d, c = data(), calibrated()
    calib_proba = c["model"].predict_proba(d["calib"][FEATURES])[:, 1]
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    costs = [cost_per_customer(d["calib"][datasets.LABEL], calib_proba, t) for t in grid]
    best = float(grid[int(np.argmin(costs))])
    y_test = d["test"][datasets.LABEL]
    return {
        "threshold": best,
        "costs": COSTS,
        "chosen_on": "calibration part",
        "test_cost_per_customer": round(cost_per_customer(y_test, c["after"], best), 2),
        "test_cost_at_0.5": round(cost_per_customer(y_test, c["after"], 0.5), 2),
    }


def numeric_reference(values: pd.Series) -> dict:
    """Decile bins of a numeric column (outer edges open) and the share of rows in each."""
    present = values.dropna().astype(float)
    inner = np.unique(np.quantile(present, np.linspace(0, 1, N_BINS + 1)[1:-1]))
    edges = [-np.inf, *inner.tolist(), np.inf]
    counts = np.histogram(present, bins=edges)[0] if len(present) else np.zeros(len(edges) - 1)
    return {
        "type": "numeric",
        "edges": [None if not np.isfinite(e) else float(e) for e in edges],
        "proportions": [round(float(c) / max(len(present), 1), 6) for c in counts],
        "missing": round(float(values.isna().mean()), 6),
        "mean": round(float(present.mean()), 6),
        "std": round(float(present.std()), 6),
    }


def categorical_reference(values: pd.Series) -> dict:
    present = values.dropna().astype(str)
    shares = present.value_counts(normalize=True).sort_index()
    return {
        "type": "categorical",
        "proportions": {str(k): round(float(v), 6) for k, v in shares.items()},
        "missing": round(float(values.isna().mean()), 6),
    }


@memo
def drift_baseline() -> dict:
    d, c = data(), calibrated()
    reference = d["train"]
    features = {name: categorical_reference(reference[name]) for name in CATEGORICAL}
    features |= {name: numeric_reference(reference[name]) for name in NUMERIC}
    scores = pd.Series(c["model"].predict_proba(reference[FEATURES])[:, 1])
    return {
        "schema": BASELINE_SCHEMA,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reference": "training part",
        "rows": len(reference),
        "model": f"s3://{BUCKET}/{MODEL_KEY}",
        "features": features,
        "prediction": numeric_reference(scores),
        "label": {
            "name": datasets.LABEL,
            "rate": round(float(reference[datasets.LABEL].mean()), 6),
        },
    }


def ensure_bucket(s3) -> None:
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)


def put_json(ctx, key: str, value: dict) -> None:
    s3 = ctx.client("s3")
    ensure_bucket(s3)
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(value, indent=2).encode())


def put_model(ctx, model) -> None:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    s3 = ctx.client("s3")
    ensure_bucket(s3)
    s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=buffer.getvalue())


@solve("calibration")
def calibration(ctx):
    put_model(ctx, calibrated()["model"])
    put_json(ctx, REPORT_KEY, calibrated()["report"])


@solve("segments")
def segments_step(ctx):
    put_json(ctx, SEGMENTS_KEY, segments())


@solve("threshold")
def threshold_step(ctx):
    put_json(ctx, REPORT_KEY, calibrated()["report"] | threshold())


@solve("drift-baseline")
def drift_baseline_step(ctx):
    put_json(ctx, BASELINE_KEY, drift_baseline())


@teardown
def remove_resources(ctx):
    """Delete this lab's objects; the bucket too once nothing else (other labs) is in it."""
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        return
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    if not s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1).get("KeyCount"):
        s3.delete_bucket(Bucket=BUCKET)


def figures(folder) -> list:
    """Draw the page's figures (reliability before and after, AUC by segment) into ``folder``."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d, c, s = data(), calibrated(), segments()
    y = d["test"][datasets.LABEL]
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 4.2))
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    for name, proba in (("before", c["before"]), ("after (sigmoid)", c["after"])):
        observed, predicted = calibration_curve(y, proba, n_bins=N_BINS)
        ax.plot(predicted, observed, "o-", label=f"{name}: Brier {brier_score_loss(y, proba):.3f}")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate", xlim=(0, 1))
    ax.set(ylim=(0, 1), title="Reliability on the test part")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "15-reliability.png", dpi=110)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    rows = [r for r in s["segments"] if r["auc"] is not None and r["customers"] >= MIN_SEGMENT]
    labels = [f"{r['dimension']}: {r['segment']}" for r in rows]
    colours = ["#c0392b" if r == min(rows, key=lambda r: r["auc"]) else "#3f51b5" for r in rows]
    ax.barh(labels, [r["auc"] for r in rows], color=colours)
    ax.axvline(s["overall_auc"], color="black", linestyle="--", label="overall")
    ax.set(xlabel="ROC AUC on the test part", xlim=(0.5, 1.0), title="By segment (worst in red)")
    ax.legend(fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(out / "15-segments.png", dpi=110)
    plt.close("all")
    return [out / "15-reliability.png", out / "15-segments.png"]


if __name__ == "__main__":
    print(*figures(sys.argv[1] if len(sys.argv) > 1 else "."), sep="\n")
