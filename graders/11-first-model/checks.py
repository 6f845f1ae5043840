"""Checks for 11-first-model: the stored model is scored on customers it has never seen.

The artifact is loaded in its own process (unpickling runs code), given the features of a check
dataset (a public seed for learners; when grading, also hidden data from the course secret) with
the leaky column blanked, as it is at prediction time; the checks then compare its scores, its
metadata and its threshold with what the data says.
"""

import functools
import io
import json

import numpy as np
import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checks import Fail, check
from crosstrain.labs.learnercode import LearnerCodeError

BUCKET, PREFIX = "churn-models", "first-model/"
MODEL_KEY, METADATA_KEY = f"{PREFIX}model.joblib", f"{PREFIX}metadata.json"
COSTS = {"false_positive": 40, "false_negative": 200}
PUBLIC_SEED, CHECK_CUSTOMERS = 7, 2000  # learners' checks score on this seed's customers
MIN_AUC = 0.75  # the reference pipeline scores about 0.82; ignoring the features scores 0.5
# Reported scores may exceed what the check data measures by this much (sampling noise: the
# holdout's 1,000 customers are noisier than 5 folds over 4,000).
HONEST_GAP, HOLDOUT_GAP = 0.06, 0.08
COST_SLACK = 1.15  # the threshold's cost may exceed the best threshold's by 15 %
FEATURES = list(datasets.FEATURES)
LEAK = datasets.LEAK_COLUMN

# Generating data and scoring the model in a process take seconds, more on a busy
# machine: a generous limit keeps a slow run from turning into an error.
SLOW = 120


# ---------------------------------------------------------------- check data and scoring


@functools.lru_cache(maxsize=4)
def check_frame(seed: int) -> pd.DataFrame:
    """Customers of ``seed``: id, features, the leaky column blanked (unknown yet), the label."""
    frame = datasets.training_frame(
        datasets.generate(seed, n_customers=CHECK_CUSTOMERS), include_leak=True
    )
    return frame.assign(**{LEAK: pd.Series([None] * len(frame), dtype="object")})


def check_sets(ctx) -> list[tuple[str, int]]:
    found = [("check data", PUBLIC_SEED)]
    if ctx.hidden:
        found.append(("hidden data", datasets.hidden_seed(ctx.hidden.secret.decode())))
    return found


# Runs in the submission's confinement (the learner-code service), never in the checker.
SCORER = """
import json, sys, traceback
import joblib
import pandas as pd

model = joblib.load("model.joblib")
info = {"type": type(model).__module__ + "." + type(model).__name__}
if hasattr(model, "steps"):
    info["steps"] = [type(step).__name__ for _, step in model.steps]
names = getattr(model, "feature_names_in_", None)
info["features_in"] = None if names is None else [str(n) for n in names]
found = {}
for folder in sys.argv[1:]:
    try:
        frame = pd.read_parquet(folder + "/x.parquet")
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"a {type(model).__name__} has no predict_proba")
        used = info["features_in"]
        X = frame[used] if used else frame.drop(columns="customer_id")
        found[folder] = info | {"proba": [float(p) for p in model.predict_proba(X)[:, 1]]}
    except Exception as exc:
        found[folder] = {"error": traceback.format_exception_only(exc)[-1].strip()}
answer(found)
"""


def download(ctx, key: str) -> bytes:
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        raise Fail(f"there is no bucket {BUCKET}")
    try:
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError:
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        keys = ", ".join(o["Key"] for o in listed[:5]) or "nothing"
        raise Fail(f"there is no s3://{BUCKET}/{key} (the bucket holds: {keys})") from None


@functools.lru_cache(maxsize=8)
def score(learner, model_bytes: bytes, seeds: tuple[int, ...]) -> dict:
    """The model's answers on each seed's check data, from one run of the learner-code service
    (the model is loaded there, never here). Returns {seed: {"type", "steps", "features_in",
    "proba"} or an error text}."""
    files = {"model.joblib": model_bytes}
    for seed in seeds:
        buffer = io.BytesIO()
        check_frame(seed).drop(columns=datasets.LABEL).to_parquet(buffer)
        files[f"{seed}/x.parquet"] = buffer.getvalue()
    try:
        found = learner.run(SCORER, files=files, args=[str(s) for s in seeds], timeout=90)
    except LearnerCodeError as exc:
        return dict.fromkeys(seeds, f"it could not be loaded and scored in isolation: {exc}")
    results = {}
    for seed in seeds:
        info = found.get(str(seed)) if isinstance(found, dict) else None
        results[seed] = plain_scores(info, len(check_frame(seed)))
    return results


def plain_scores(info, rows: int) -> dict | str:
    """The scorer's answer for one data set if it has the shape the checks read, else why not
    (the answer comes from the learner's process: its shape is checked, not trusted)."""
    if isinstance(info, dict) and isinstance(info.get("error"), str):
        return info["error"]
    ok = (
        isinstance(info, dict)
        and isinstance(info.get("type"), str)
        and isinstance(info.get("steps", []), list)
        and (info.get("features_in") is None or isinstance(info.get("features_in"), list))
        and isinstance(info.get("proba"), list)
        and len(info["proba"]) == rows
        and all(isinstance(p, int | float) for p in info["proba"])
    )
    return info if ok else "its answer is not one score per customer"


def scored(ctx, seed: int) -> dict:
    seeds = tuple(s for _, s in check_sets(ctx))
    result = score(ctx.learner, download(ctx, MODEL_KEY), seeds)[seed]
    if isinstance(result, str):
        raise Fail(
            f"the model in s3://{BUCKET}/{MODEL_KEY} cannot score raw customer features: {result}",
            hint="pipeline",
        )
    return result


def auc(y, proba) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, proba))


def metadata(ctx) -> dict:
    body = download(ctx, METADATA_KEY)
    try:
        meta = json.loads(body)
    except ValueError:
        raise Fail(f"{METADATA_KEY} is not JSON: {body[:60]!r}") from None
    if not isinstance(meta, dict):
        raise Fail(f"{METADATA_KEY} holds a {type(meta).__name__}, not a JSON object")
    return meta


def cost_per_customer(y, proba, threshold: float) -> float:
    contact = np.asarray(proba) >= threshold
    y = np.asarray(y)
    false_pos, false_neg = (contact & (y == 0)).sum(), (~contact & (y == 1)).sum()
    return float(COSTS["false_positive"] * false_pos + COSTS["false_negative"] * false_neg) / len(y)


# ---------------------------------------------------------------- step 1: model-artifact

PIPELINE_HINT = (
    "Store the whole pipeline: joblib.dump(pipeline, ...) of a Pipeline whose ColumnTransformer "
    "imputes, scales and one-hot encodes, so that the artifact takes raw features (NaN and "
    "category names included), exactly as the serving code will pass them."
)


@check(
    "model-artifact",
    timeout=SLOW,
    points=1,
    hint=f"Fit your pipeline, joblib.dump it to a buffer and put it at s3://{BUCKET}/{MODEL_KEY}.",
    hints={"pipeline": PIPELINE_HINT},
)
def artifact_loads(ctx):
    info = scored(ctx, PUBLIC_SEED)
    steps = " → ".join(info.get("steps") or [info["type"]])
    n = len(info["features_in"] or [])
    return f"{MODEL_KEY} loads ({steps}), reads {n} columns and scores raw customer features"


@check(
    "model-artifact",
    timeout=SLOW,
    points=3,
    hint=f"Train on the features of the data card (not customer_id, not {LEAK}) until the "
    f"pipeline's ROC AUC on held-out customers is at least {MIN_AUC}.",
    hints={
        "pipeline": PIPELINE_HINT,
        "leak": f"Drop {LEAK} before training: the CRM fills it in after the customer asks to "
        "cancel, so it is empty for everyone on the day you predict. A model that reads it "
        "looks excellent in validation and is worse than it should be in production.",
    },
)
def artifact_scores(ctx):
    seen = []
    for where, seed in check_sets(ctx):
        info = scored(ctx, seed)
        y = check_frame(seed)[datasets.LABEL]
        score_auc = auc(y, info["proba"])
        used = info["features_in"] or []
        if LEAK in used:
            raise Fail(
                f"the model reads {LEAK}; on {where}, where it is blank as on prediction day, "
                f"its ROC AUC is {score_auc:.3f}",
                hint="leak",
            )
        if score_auc < MIN_AUC:
            raise Fail(f"ROC AUC on {where} ({len(y)} customers) is {score_auc:.3f} < {MIN_AUC}")
        seen.append(f"ROC AUC {score_auc:.3f} on {where}")
    return "; ".join(seen)


# ---------------------------------------------------------------- step 2: evaluation


@check(
    "evaluation",
    timeout=SLOW,
    points=1,
    hint=f"Write s3://{BUCKET}/{METADATA_KEY}: a JSON object with features (the columns the "
    "model reads), cv_auc (one ROC AUC per fold, at least 5), cv_auc_mean, holdout.auc and "
    "sklearn_version.",
    hints={"pipeline": PIPELINE_HINT},
)
def metadata_complete(ctx):
    import sklearn

    meta = metadata(ctx)
    missing = [k for k in ("features", "cv_auc", "holdout", "sklearn_version") if k not in meta]
    if missing:
        raise Fail(f"{METADATA_KEY} has {sorted(meta)}; missing: {', '.join(missing)}")
    folds = meta["cv_auc"]
    if not isinstance(folds, list) or len(folds) < 5:
        raise Fail(f"cv_auc is {folds!r}: give one score per fold, at least 5 folds")
    if not isinstance(meta["holdout"], dict) or "auc" not in meta["holdout"]:
        raise Fail(f"holdout is {meta['holdout']!r}: give at least {{'auc': ...}}")
    if meta["sklearn_version"] != sklearn.__version__:
        raise Fail(
            f"sklearn_version is {meta['sklearn_version']!r}, but the model was made with "
            f"{sklearn.__version__} (write sklearn.__version__, not a guess)"
        )
    used = scored(ctx, PUBLIC_SEED)["features_in"]
    if used is not None and sorted(meta["features"]) != sorted(used):
        extra = sorted(set(meta["features"]) - set(used))
        lost = sorted(set(used) - set(meta["features"]))
        raise Fail(f"features differ from what the model reads: extra {extra}, missing {lost}")
    n = len(meta["features"])
    return f"{METADATA_KEY}: {n} features, {len(folds)} folds, sklearn {sklearn.__version__}"


@check(
    "evaluation",
    timeout=SLOW,
    points=2,
    hint="Report scores measured on customers the model did not train on: cross-validation "
    "on the training part, the holdout for the final number.",
    hints={
        "pipeline": PIPELINE_HINT,
        "optimistic": "Your reported scores are better than what the model does on new "
        "customers. Score only data the model was not fitted on (cross_val_score on the "
        "pipeline, not the fitted model on X_train), fit every step (imputer, scaler) inside "
        "the pipeline so each fold fits its own, and drop the leaky column.",
    },
)
def scores_honest(ctx):
    meta = metadata(ctx)
    try:
        cv_mean = float(np.mean([float(a) for a in meta["cv_auc"]]))
        holdout = float(meta["holdout"]["auc"])
    except (KeyError, TypeError, ValueError):
        raise Fail(
            "metadata has no numeric cv_auc and holdout.auc yet (see the other check)"
        ) from None
    seen = []
    for where, seed in check_sets(ctx):
        actual = auc(check_frame(seed)[datasets.LABEL], scored(ctx, seed)["proba"])
        if cv_mean - actual > HONEST_GAP or holdout - actual > HOLDOUT_GAP:
            raise Fail(
                f"you report cv_auc mean {cv_mean:.3f} and holdout AUC {holdout:.3f}; on {where} "
                f"the model scores {actual:.3f}",
                hint="optimistic",
            )
        seen.append(f"{where} {actual:.3f}")
    return f"reported cv {cv_mean:.3f}, holdout {holdout:.3f}; measured " + ", ".join(seen)


# ---------------------------------------------------------------- step 3: threshold


@check(
    "threshold",
    timeout=SLOW,
    points=3,
    hint="Add threshold (the probability above which you contact a customer) and costs "
    f"({COSTS}) to the metadata; choose the threshold that minimises the cost on out-of-fold "
    "predictions, and report holdout precision and recall at it.",
    hints={
        "pipeline": PIPELINE_HINT,
        "default-threshold": "0.5 is only right when both mistakes cost the same. Here a missed "
        "churner costs $200 and a wasted offer $40: compute the cost per customer for "
        "thresholds from 0.01 to 0.99 on out-of-fold predictions and keep the cheapest "
        "(about 40 / (40 + 200) for a calibrated model).",
    },
)
def threshold_by_cost(ctx):
    meta = metadata(ctx)
    threshold = meta.get("threshold")
    if not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise Fail(f"threshold is {threshold!r}: give a probability between 0 and 1")
    if meta.get("costs") != COSTS:
        raise Fail(f"costs is {meta.get('costs')!r}, not the business's {COSTS}")
    holdout = meta.get("holdout", {})
    if not {"precision", "recall"} <= set(holdout):
        raise Fail(f"holdout has {sorted(holdout)}: add precision and recall at the threshold")
    seen = []
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    for where, seed in check_sets(ctx):
        y, proba = check_frame(seed)[datasets.LABEL], scored(ctx, seed)["proba"]
        costs = [cost_per_customer(y, proba, t) for t in grid]
        best, best_t = min(costs), float(grid[int(np.argmin(costs))])
        mine = cost_per_customer(y, proba, threshold)
        if mine > best * COST_SLACK:
            raise Fail(
                f"on {where}, contacting customers above {threshold} costs ${mine:.2f} per "
                f"customer; above {best_t} it would cost ${best:.2f}",
                hint="default-threshold" if abs(threshold - 0.5) < 1e-9 else None,
            )
        seen.append(f"${mine:.2f} per customer on {where} (best ${best:.2f})")
    return f"threshold {threshold}: " + "; ".join(seen)
