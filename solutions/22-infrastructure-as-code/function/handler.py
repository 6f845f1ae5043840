"""churn-scorer: score customers with the churn model and log every prediction to DynamoDB.

Invoked with ``{"customers": [{"customer_id": "C100001", "plan": "Basic", ...}]}`` it returns
``{"predictions": [{"customer_id": "C100001", "churn_probability": 0.1234}]}`` and writes one
item per customer to the table ``TABLE_NAME``: who was scored, when, with which model, and the
answer. The stack's template sets MODEL_BUCKET, MODEL_KEY and TABLE_NAME.
"""

import io
import os
from datetime import UTC, datetime
from decimal import Decimal

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
MODEL_BUCKET, MODEL_KEY = os.environ["MODEL_BUCKET"], os.environ["MODEL_KEY"]
TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
_body = boto3.client("s3").get_object(Bucket=MODEL_BUCKET, Key=MODEL_KEY)["Body"].read()
MODEL = joblib.load(io.BytesIO(_body))  # once per cold start


def handler(event, context):
    customers = event["customers"]
    frame = pd.DataFrame.from_records(customers, columns=CATEGORICAL + NUMERIC)
    frame[NUMERIC] = frame[NUMERIC].astype("float64")
    probabilities = [round(float(p), 4) for p in MODEL.predict_proba(frame)[:, 1]]
    scored_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    # Log every prediction: customer_id and scored_at (the table's key), churn_probability,
    # model (s3://bucket/key) and request_id (context.aws_request_id).
    ### BEGIN SOLUTION
    with TABLE.batch_writer() as batch:
        for customer, probability in zip(customers, probabilities, strict=True):
            batch.put_item(
                Item={
                    "customer_id": customer["customer_id"],
                    "scored_at": scored_at,
                    "churn_probability": Decimal(str(probability)),  # DynamoDB takes no floats
                    "model": f"s3://{MODEL_BUCKET}/{MODEL_KEY}",
                    "request_id": context.aws_request_id,
                }
            )
    ### END SOLUTION
    return {
        "predictions": [
            {"customer_id": c["customer_id"], "churn_probability": p}
            for c, p in zip(customers, probabilities, strict=True)
        ]
    }
