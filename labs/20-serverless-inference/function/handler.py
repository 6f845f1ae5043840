"""churn-predict: score customers with the churn model, behind an HTTP API.

POST /predict with ``{"customers": [{"customer_id": "C100001", "plan": "Basic", ...}]}``
answers ``{"predictions": [{"customer_id": "C100001", "churn_probability": 0.1234}], ...}``.
Every feature of the model must be present in each customer; ``null`` marks a missing value.
"""

import base64
import io
import json
import os
import time

import boto3
import joblib
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
MAX_CUSTOMERS = 100
MODEL_URI = os.environ.get("MODEL_URI", "")


def load_model(uri: str):
    """Read a joblib model from ``s3://bucket/key``. boto3 finds the endpoint on its own."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return joblib.load(io.BytesIO(body))


# Load the model here, at module level: it runs once per cold start, and every warm invocation
# reuses it. (Loading it inside the handler would download and unpickle it on every request.)
# YOUR CODE HERE
raise NotImplementedError()


class BadRequest(ValueError):
    """The request cannot be scored; the message tells the caller what to fix."""


def parse(event: dict) -> list[dict]:
    """The customers in an API Gateway proxy event, validated; raise BadRequest otherwise."""
    # YOUR CODE HERE
    raise NotImplementedError()


def predict(customers: list[dict]) -> list[dict]:
    """Churn probabilities (the positive class) for validated customers."""
    frame = pd.DataFrame.from_records(customers, columns=CATEGORICAL + NUMERIC)
    frame[NUMERIC] = frame[NUMERIC].astype("float64")
    # probabilities: the model's probability of churn (class 1) for each row of frame
    # YOUR CODE HERE
    raise NotImplementedError()
    return [
        {"customer_id": c["customer_id"], "churn_probability": round(float(p), 4)}
        for c, p in zip(customers, probabilities, strict=True)
    ]


def respond(status: int, body: dict) -> dict:
    """An API Gateway proxy response."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event, context):
    """Answer 200 with the predictions, or 400 with {"error": ...} when parse raises BadRequest.

    Step 5: print one JSON line per request with request_id, status, n_customers, latency_ms.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
