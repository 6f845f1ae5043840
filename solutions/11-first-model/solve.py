"""Solves for 11-first-model: a leak-free pipeline, honest evaluation, a threshold set by cost."""

import functools
import io
import json

import joblib
import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import (
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from crosstrain import datasets
from crosstrain.labs.solves import solve, teardown

BUCKET, PREFIX = "churn-models", "first-model/"
MODEL_KEY, METADATA_KEY = f"{PREFIX}model.joblib", f"{PREFIX}metadata.json"
COSTS = {"false_positive": 40, "false_negative": 200}
CATEGORICAL = list(datasets.CATEGORICAL_FEATURES)
NUMERIC = list(datasets.NUMERIC_FEATURES)
FEATURES = CATEGORICAL + NUMERIC


def build_pipeline(categorical=CATEGORICAL, numeric=NUMERIC) -> Pipeline:
    prepare = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )
    return Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])


def cost_per_customer(y, proba, threshold: float) -> float:
    contact = np.asarray(proba) >= threshold
    y = np.asarray(y)
    false_pos, false_neg = (contact & (y == 0)).sum(), (~contact & (y == 1)).sum()
    return float(COSTS["false_positive"] * false_pos + COSTS["false_negative"] * false_neg) / len(y)


@functools.lru_cache(maxsize=1)
def trained() -> dict:
    """Split, cross-validate on the training part, fit, and score the held-out part."""
    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED), include_leak=True)
    X, y = frame[FEATURES], frame[datasets.LABEL]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=42
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    cv_auc = cross_val_score(build_pipeline(), X_train, y_train, cv=folds, scoring="roc_auc")
    oof = cross_val_predict(build_pipeline(), X_train, y_train, cv=folds, method="predict_proba")
    model = build_pipeline().fit(X_train, y_train)
    return dict(
        model=model,
        cv_auc=[round(float(a), 4) for a in cv_auc],
        oof=oof[:, 1],
        y_train=y_train.to_numpy(),
        y_test=y_test.to_numpy(),
        test_proba=model.predict_proba(X_test)[:, 1],
        rows=len(X_train),
    )


def metadata(with_threshold: bool) -> dict:
    run = trained()
    meta = {
        "model": "churn-logistic-regression",
        "features": FEATURES,
        "label": datasets.LABEL,
        "training_rows": run["rows"],
        "cv_auc": run["cv_auc"],
        "cv_auc_mean": round(float(np.mean(run["cv_auc"])), 4),
        "holdout": {"auc": round(float(roc_auc_score(run["y_test"], run["test_proba"])), 4)},
        "sklearn_version": sklearn.__version__,
    }
    if with_threshold:
        grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
        costs = [cost_per_customer(run["y_train"], run["oof"], t) for t in grid]
        threshold = float(grid[int(np.argmin(costs))])
        contact = run["test_proba"] >= threshold
        meta["costs"] = COSTS
        meta["threshold"] = threshold
        meta["holdout"] |= {
            "precision": round(float(precision_score(run["y_test"], contact)), 4),
            "recall": round(float(recall_score(run["y_test"], contact)), 4),
            "cost_per_customer": round(
                cost_per_customer(run["y_test"], run["test_proba"], threshold), 2
            ),
        }
    return meta


def ensure_bucket(s3) -> None:
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)


@solve("model-artifact")
def model_artifact(ctx):
    s3 = ctx.client("s3")
    ensure_bucket(s3)
    buffer = io.BytesIO()
    joblib.dump(trained()["model"], buffer)
    s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=buffer.getvalue())


@solve("evaluation")
def evaluation(ctx):
    body = json.dumps(metadata(with_threshold=False), indent=2)
    ctx.client("s3").put_object(Bucket=BUCKET, Key=METADATA_KEY, Body=body.encode())


@solve("threshold")
def threshold(ctx):
    body = json.dumps(metadata(with_threshold=True), indent=2)
    ctx.client("s3").put_object(Bucket=BUCKET, Key=METADATA_KEY, Body=body.encode())


@teardown
def remove_resources(ctx):
    """Delete this lab's objects; the bucket too once nothing else (lab 12's model) is in it."""
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        return
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    if not s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1).get("KeyCount"):
        s3.delete_bucket(Bucket=BUCKET)
