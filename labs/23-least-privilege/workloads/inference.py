"""The endpoint's handlers (given; do not edit): load the rate table and the offer threshold
(from S3, once, when an instance starts), answer one customer's churn probability."""

import json
import os

import boto3


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        model = json.load(f)
    s3 = boto3.client("s3")
    config = s3.get_object(Bucket=os.environ["DATA_BUCKET"], Key="config/threshold.json")
    model["threshold"] = json.loads(config["Body"].read())["threshold"]
    return model


def input_fn(request_body, content_type):
    return json.loads(request_body)


def predict_fn(customer, model):
    rate = model["by_contract"].get(customer.get("contract_type"), model["base"])
    if float(customer.get("failed_payments_12m") or 0) > 0:
        rate += model["failed_payment_lift"]
    probability = round(min(0.99, max(0.01, rate)), 4)
    return {"churn_probability": probability, "offer": probability >= model["threshold"]}


def output_fn(prediction, accept):
    return json.dumps(prediction)
