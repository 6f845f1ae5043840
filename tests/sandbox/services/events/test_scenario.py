"""The issue's end-to-end scenario: a CSV dropped in S3 is scored by a Lambda with a model from
S3 into DynamoDB; a bad batch fails, is retried and lands in the DLQ; the Errors alarm goes to
ALARM and pages an SNS topic whose SQS subscriber receives it."""

from __future__ import annotations

import io
import json

import joblib
import numpy as np
from events_support import allow, deliveries, deploy, drain, queue, settled
from sklearn.linear_model import LogisticRegression

SCORER = """
import csv, io, os
import boto3, joblib

s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table("scores")
_model = None

def model():
    global _model
    if _model is None:
        blob = s3.get_object(Bucket="models", Key="churn/model.joblib")["Body"].read()
        _model = joblib.load(io.BytesIO(blob))
    return _model

def handler(event, context):
    record = event["Records"][0]["s3"]
    body = s3.get_object(Bucket=record["bucket"]["name"], Key=record["object"]["key"])["Body"]
    rows = list(csv.DictReader(io.StringIO(body.read().decode())))
    features = [[float(r["tenure"]), float(r["spend"])] for r in rows]
    for row, p in zip(rows, model().predict_proba(features)[:, 1]):
        table.put_item(Item={"id": row["id"], "churn": str(round(float(p), 4))})
    return {"scored": len(rows)}
"""


def model_bytes() -> bytes:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    buffer = io.BytesIO()
    joblib.dump(LogisticRegression().fit(x, y), buffer)
    return buffer.getvalue()


def test_csv_to_scores_dlq_and_alarm(sandbox):
    s3, ddb = sandbox.client("s3"), sandbox.client("dynamodb")
    s3.create_bucket(Bucket="models")
    s3.put_object(Bucket="models", Key="churn/model.joblib", Body=model_bytes())
    s3.create_bucket(Bucket="incoming")
    ddb.create_table(
        TableName="scores",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dlq_url, dlq_arn = queue(sandbox, "scoring-dlq")
    fn = deploy(
        sandbox,
        "score",
        SCORER,
        Timeout=30,
        MemorySize=1024,
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    allow(sandbox, "score", "s3.amazonaws.com")
    s3.put_bucket_notification_configuration(
        Bucket="incoming",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": fn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
                }
            ]
        },
    )
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="ops")["TopicArn"]
    inbox_url, inbox_arn = queue(sandbox, "ops-inbox")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName="score-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "score"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )

    # 1. a good CSV is scored into DynamoDB
    s3.put_object(Bucket="incoming", Key="day1.csv", Body=b"id,tenure,spend\nu1,2,-1\nu2,-2,1\n")
    deliveries(sandbox, settled, timeout=60, source="incoming")
    items = {i["id"]["S"]: float(i["churn"]["S"]) for i in ddb.scan(TableName="scores")["Items"]}
    assert set(items) == {"u1", "u2"} and items["u1"] > 0.5 > items["u2"]

    # 2. a bad CSV fails, is retried twice on the sandbox clock, and lands in the DLQ
    s3.put_object(Bucket="incoming", Key="day2.csv", Body=b"id,age\nu3,40\n")
    deliveries(sandbox, lambda e: e[-1]["result"] == "retrying", source="incoming")
    sandbox.advance_time(60)
    deliveries(sandbox, lambda e: e[-1]["attempts"] == 2, source="incoming")
    sandbox.advance_time(120)
    entries = deliveries(sandbox, lambda e: settled(e, 2), source="incoming")
    assert entries[-1]["result"] == "failed" and entries[-1]["error"] == "KeyError: 'tenure'"
    (dead,) = drain(sandbox, dlq_url, 1)
    assert json.loads(dead["Body"])["Records"][0]["s3"]["object"]["key"] == "day2.csv"

    # 3. the Errors alarm goes to ALARM once its period closes and pages the topic's subscriber
    sandbox.advance_time(60)
    (alarm,) = sandbox.client("cloudwatch").describe_alarms(AlarmNames=["score-errors"])[
        "MetricAlarms"
    ]
    assert alarm["StateValue"] == "ALARM"
    pages = [json.loads(json.loads(m["Body"])["Message"]) for m in drain(sandbox, inbox_url, 1)]
    assert pages[0]["AlarmName"] == "score-errors" and pages[0]["NewStateValue"] == "ALARM"
