"""Serve the churn model on a SageMaker endpoint with the inference-toolkit handlers.

The endpoint calls ``model_fn`` once, when an instance starts, then for every request
``input_fn`` -> ``predict_fn`` -> ``output_fn``. Requests come in two formats:

- ``text/csv``: one customer per line, the 18 features in ``FEATURES`` order, an empty field for
  a missing value, with or without a header row (``frame.to_csv(index=False)`` writes one);
- ``application/json``: ``{"instances": [{"plan": "Basic", ..., "satisfaction_mean": null}]}``.

The answer is JSON: ``{"probabilities": [0.1234, ...]}``, the probability that each customer
churns, in the order they were sent.
"""

import io  # noqa: F401 - io, os and joblib are for the handlers you write
import json
import os  # noqa: F401

import joblib  # noqa: F401
import numpy as np
import pandas as pd

CATEGORICAL = ["plan", "contract_type", "payment_method", "region"]
NUMERIC = [
    "tenure_months",
    "age",
    "monthly_fee",
    "list_price",
    "fee_vs_list",
    "failed_payments_12m",
    "months_of_usage",
    "active_days_3m",
    "sessions_3m",
    "data_gb_3m",
    "usage_change",
    "tickets_12m",
    "open_tickets",
    "satisfaction_mean",
]
FEATURES = CATEGORICAL + NUMERIC
CSV, JSON = "text/csv", "application/json"


class RequestError(ValueError):
    """A request the model cannot read. The endpoint answers with ``status_code``."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.status_code = status_code


def model_fn(model_dir):
    """Load the model once per instance; every request reuses what this returns."""
    ### BEGIN SOLUTION
    model = joblib.load(os.path.join(model_dir, "model.joblib"))
    print(f"loaded {type(model[-1]).__name__} from {model_dir}", flush=True)
    return model
    ### END SOLUTION


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as the model was trained on: floats, and strings or NaN."""
    frame = frame.copy()
    try:
        frame[NUMERIC] = frame[NUMERIC].apply(pd.to_numeric).astype("float64")
    except (ValueError, TypeError) as exc:
        raise RequestError(f"a numeric feature is not a number: {exc}") from None
    for name in CATEGORICAL:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
    return frame[FEATURES]


def input_fn(request_body, content_type):
    """The request as a DataFrame with one row per customer and the model's columns."""
    ### BEGIN SOLUTION
    if isinstance(request_body, bytes | bytearray):
        request_body = request_body.decode("utf-8")
    if content_type == CSV:
        lines = request_body.strip().splitlines()
        first = [field.strip().strip('"') for field in lines[0].split(",")] if lines else []
        header = first[:1] == FEATURES[:1]  # a header row names the columns: skip it
        frame = pd.read_csv(
            io.StringIO(request_body),
            header=0 if header else None,
            names=None if header else FEATURES,
        )
        missing = [name for name in FEATURES if name not in frame.columns]
        if missing or frame.shape[1] != len(FEATURES):
            raise RequestError(
                f"each CSV row needs the {len(FEATURES)} features in this order: "
                f"{','.join(FEATURES)} (got {frame.shape[1]} columns)"
            )
        return typed(frame)
    if content_type == JSON:
        body = json.loads(request_body)
        instances = body.get("instances") if isinstance(body, dict) else body
        if not isinstance(instances, list) or not instances:
            raise RequestError('the JSON body must be {"instances": [{...}, ...]}')
        if not all(isinstance(row, dict) for row in instances):
            raise RequestError("each instance must be an object: {feature: value, ...}")
        missing = sorted({n for row in instances for n in FEATURES if n not in row})
        if missing:
            raise RequestError(f"instances lack {', '.join(missing)} (send null if unknown)")
        return typed(pd.DataFrame.from_records(instances, columns=FEATURES))
    raise RequestError(f"unsupported content type {content_type!r}: send {CSV} or {JSON}", 415)
    ### END SOLUTION


def predict_fn(frame, model):
    """The probability of churn (the positive class) for every row."""
    ### BEGIN SOLUTION
    return model.predict_proba(frame)[:, 1]
    ### END SOLUTION


def output_fn(probabilities, accept):
    """The answer body: JSON, whatever the caller accepts (JSON or anything)."""
    if accept not in (JSON, "*/*", ""):
        raise RequestError(f"this model answers {JSON}, not {accept}", 406)
    return json.dumps({"probabilities": [round(float(p), 6) for p in probabilities]})
