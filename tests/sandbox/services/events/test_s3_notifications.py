"""S3 event notifications reach Lambda, SQS, SNS and EventBridge with AWS's event JSON."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from events_support import allow, deliveries, deploy, drain, log_text, queue, settled

RECORDER = """
import json
def handler(event, context):
    for record in event["Records"]:
        print("RECORD", json.dumps(record))
    return len(event["Records"])
"""


def notify(sandbox, bucket: str, **config):
    sandbox.client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=config
    )


def records(sandbox, function: str) -> list[dict]:
    text = log_text(sandbox, function)
    return [
        json.loads(line.split("RECORD ", 1)[1]) for line in text.splitlines() if "RECORD " in line
    ]


def test_put_object_invokes_the_function_with_aws_record(sandbox):
    arn = deploy(sandbox, "on-upload", RECORDER)
    allow(sandbox, "on-upload", "s3.amazonaws.com")
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="uploads")
    notify(
        sandbox,
        "uploads",
        LambdaFunctionConfigurations=[
            {"Id": "csv", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
        ],
    )
    put = s3.put_object(Bucket="uploads", Key="in/my file.csv", Body=b"a,b\n1,2\n")
    entries = deliveries(sandbox, settled, source="uploads")
    assert entries[0]["result"] == "delivered" and entries[0]["target"] == arn
    (record,) = records(sandbox, "on-upload")
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "csv"
    assert record["s3"]["bucket"]["name"] == "uploads"
    assert record["s3"]["object"]["key"] == "in/my+file.csv"  # URL-encoded as on AWS
    assert record["s3"]["object"]["size"] == 8
    assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    assert record["awsRegion"] == "us-east-1" and "sequencer" in record["s3"]["object"]


def test_prefix_and_suffix_filters(sandbox):
    arn = deploy(sandbox, "only-csv", RECORDER)
    allow(sandbox, "only-csv", "s3.amazonaws.com")
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="filtered")
    rules = [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".csv"}]
    notify(
        sandbox,
        "filtered",
        LambdaFunctionConfigurations=[
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": rules}},
            }
        ],
    )
    for key in ("in/a.csv", "in/b.txt", "out/c.csv", "in/d.csv"):
        s3.put_object(Bucket="filtered", Key=key, Body=b"x")
    deliveries(sandbox, lambda e: settled(e, 2), source="filtered")
    keys = sorted(r["s3"]["object"]["key"] for r in records(sandbox, "only-csv"))
    assert keys == ["in/a.csv", "in/d.csv"]


def test_function_without_permission_is_refused_at_configuration(sandbox):
    arn = deploy(sandbox, "no-permission", RECORDER)
    sandbox.client("s3").create_bucket(Bucket="refused")
    with pytest.raises(ClientError) as caught:
        notify(
            sandbox,
            "refused",
            LambdaFunctionConfigurations=[
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ],
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "Unable to validate the following destination configurations"


def test_missing_or_malformed_destination_is_refused(sandbox):
    sandbox.client("s3").create_bucket(Bucket="nowhere")
    for arn in ("arn:aws:sqs:us-east-1:123456789012:ghost", "not-an-arn"):
        with pytest.raises(ClientError) as caught:
            notify(
                sandbox,
                "nowhere",
                QueueConfigurations=[{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}],
            )
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_queue_gets_the_test_event_then_removals(sandbox):
    url, arn = queue(sandbox, "bucket-events")
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="watched")
    s3.put_object(Bucket="watched", Key="old.csv", Body=b"x")
    notify(
        sandbox,
        "watched",
        QueueConfigurations=[{"QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]}],
    )
    (test_event,) = drain(sandbox, url, 1)
    assert json.loads(test_event["Body"])["Event"] == "s3:TestEvent"
    s3.delete_object(Bucket="watched", Key="old.csv")
    (removed,) = drain(sandbox, url, 1)
    record = json.loads(removed["Body"])["Records"][0]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["object"]["key"] == "old.csv"


def test_topic_fans_out_to_a_queue(sandbox):
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    url, arn = queue(sandbox, "from-topic")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="fanout")
    notify(
        sandbox,
        "fanout",
        TopicConfigurations=[{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}],
    )
    drain(sandbox, url, 1)  # the s3:TestEvent
    s3.put_object(Bucket="fanout", Key="k.csv", Body=b"x")
    (message,) = drain(sandbox, url, 1)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert json.loads(envelope["Message"])["Records"][0]["s3"]["object"]["key"] == "k.csv"


def test_eventbridge_configuration_sends_object_created_events(sandbox):
    url, arn = queue(sandbox, "s3-bus")
    events = sandbox.client("events")
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"]}
    events.put_rule(Name="s3-created", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="s3-created", Targets=[{"Id": "q", "Arn": arn}])
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="to-bus")
    notify(sandbox, "to-bus", EventBridgeConfiguration={})
    s3.put_object(Bucket="to-bus", Key="x/y.parquet", Body=b"1234")
    (message,) = drain(sandbox, url, 1)
    event = json.loads(message["Body"])
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == "to-bus"
    assert event["detail"]["object"]["key"] == "x/y.parquet"
    assert event["detail"]["object"]["size"] == 4
