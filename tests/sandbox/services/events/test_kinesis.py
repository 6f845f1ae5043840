"""Kinesis Data Streams event source mappings: records reach the function shard by shard in
AWS's shape, from the asked starting position; failures retry, bisect, report items and end at
the on-failure destination; the mapping shows its last result."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

from events_support import deliveries, deploy, drain, log_text, queue, settled

PRINTS = """
import json
def handler(event, context):
    print("BATCH", json.dumps(event["Records"]))
"""

BISECTS = """
import base64
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    if "BAD" in data:
        raise ValueError("bad record")
    for d in data:
        print("DONE", d)
"""

REPORTS = """
import base64
def handler(event, context):
    failed = []
    for r in event["Records"]:
        data = base64.b64decode(r["kinesis"]["data"]).decode()
        if data == "bad":
            failed.append({"itemIdentifier": r["kinesis"]["sequenceNumber"]})
        else:
            print("DONE", data)
    return {"batchItemFailures": failed}
"""


def stream(sandbox, name: str, shards: int = 1) -> str:
    kinesis = sandbox.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def put(sandbox, name: str, items: list[str], key: str = "k") -> list[str]:
    """Put records one by one; returns their sequence numbers."""
    kinesis = sandbox.client("kinesis")
    return [
        kinesis.put_record(StreamName=name, Data=item.encode(), PartitionKey=key)["SequenceNumber"]
        for item in items
    ]


def batches(sandbox, function: str) -> list[list[dict]]:
    text = log_text(sandbox, function)
    lines = [line for line in text.splitlines() if "BATCH " in line]
    return [json.loads(line.split("BATCH ", 1)[1]) for line in lines]


def data(record: dict) -> str:
    return base64.b64decode(record["kinesis"]["data"]).decode()


def done(sandbox, function: str) -> list[str]:
    return [line.split()[1] for line in log_text(sandbox, function).splitlines() if "DONE " in line]


def delivered(sandbox, source: str, count: int) -> list[dict]:
    """Wait until the delivery log holds ``count`` records delivered from ``source``."""
    return deliveries(
        sandbox,
        lambda e: sum(x["detail"]["batch_size"] for x in e if x["result"] == "delivered") >= count,
        source=source,
        kind="kinesis",
    )


def test_records_arrive_shard_by_shard_in_order_with_the_aws_shape(sandbox):
    arn = stream(sandbox, "clicks", shards=2)
    fn = deploy(sandbox, "on-click", PRINTS)
    keys = {"user-a": [f"a{i}" for i in range(5)], "user-b": [f"b{i}" for i in range(5)]}
    for key, items in keys.items():
        put(sandbox, "clicks", items, key=key)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="on-click", StartingPosition="TRIM_HORIZON", BatchSize=3
    )
    delivered(sandbox, "clicks", 10)
    seen = batches(sandbox, "on-click")
    assert max(len(b) for b in seen) == 3
    for batch in seen:  # one shard per batch, sequence numbers rising
        assert len({r["eventID"].split(":")[0] for r in batch}) == 1
        numbers = [int(r["kinesis"]["sequenceNumber"]) for r in batch]
        assert numbers == sorted(numbers)
    for key, items in keys.items():
        got = [data(r) for b in seen for r in b if r["kinesis"]["partitionKey"] == key]
        assert got == items
    record = seen[0][0]
    assert record["eventSource"] == "aws:kinesis" and record["eventSourceARN"] == arn
    assert record["eventName"] == "aws:kinesis:record" and record["awsRegion"] == "us-east-1"
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert record["invokeIdentityArn"].startswith("arn:aws:iam::")
    assert fn.endswith(":function:on-click")


def test_latest_skips_the_records_already_there(sandbox):
    arn = stream(sandbox, "latest")
    deploy(sandbox, "newest", PRINTS)
    put(sandbox, "latest", ["old"])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="newest", StartingPosition="LATEST"
    )
    put(sandbox, "latest", ["new"])
    delivered(sandbox, "latest", 1)
    assert [data(r) for b in batches(sandbox, "newest") for r in b] == ["new"]


def test_at_timestamp_starts_at_the_first_record_that_arrived_then(sandbox):
    arn = stream(sandbox, "stamped")
    deploy(sandbox, "from-then", PRINTS)
    put(sandbox, "stamped", ["before"])
    boundary = int(time.time()) + 1  # whole seconds: what every wire format can carry
    while time.time() < boundary:
        time.sleep(0.05)
    put(sandbox, "stamped", ["after-1", "after-2"])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="from-then",
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=datetime.fromtimestamp(boundary, UTC),
    )
    delivered(sandbox, "stamped", 2)
    assert [data(r) for b in batches(sandbox, "from-then") for r in b] == ["after-1", "after-2"]


def test_batching_window_holds_a_short_batch_until_the_sandbox_clock_passes_it(sandbox):
    arn = stream(sandbox, "trickle")
    deploy(sandbox, "patient", PRINTS)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="patient",
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumBatchingWindowInSeconds=300,
    )
    put(sandbox, "trickle", ["t1", "t2", "t3"])
    assert sandbox.events(kind="kinesis") == []  # 3 of 10, and 300 s have not passed
    sandbox.advance_time(300)
    delivered(sandbox, "trickle", 3)
    assert [[data(r) for r in b] for b in batches(sandbox, "patient")] == [["t1", "t2", "t3"]]


def test_bisecting_isolates_the_bad_record_for_the_on_failure_queue(sandbox):
    arn = stream(sandbox, "orders")
    url, queue_arn = queue(sandbox, "order-failures")
    deploy(sandbox, "bisects", BISECTS)
    sequence = put(sandbox, "orders", ["o1", "o2", "BAD", "o4"])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="bisects",
        StartingPosition="TRIM_HORIZON",
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    (message,) = drain(sandbox, url, 1)
    body = json.loads(message["Body"])
    info = body["KinesisBatchInfo"]
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == sequence[2]
    assert info["streamArn"] == arn and info["shardId"].startswith("shardId-")
    assert body["errorMessage"] == "ValueError: bad record"
    deliveries(sandbox, lambda e: "o4" in done(sandbox, "bisects"), source="orders")
    assert done(sandbox, "bisects") == ["o1", "o2", "o4"]


def test_reported_item_failures_retry_from_that_record_then_go_to_sns(sandbox):
    arn = stream(sandbox, "payments")
    url, queue_arn = queue(sandbox, "payment-failures")
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="payment-failures")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    deploy(sandbox, "reports", REPORTS)
    sequence = put(sandbox, "payments", ["p1", "bad", "p3"])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="reports",
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    (message,) = drain(sandbox, url, 1)
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == sequence[1] and info["batchSize"] == 2
    assert done(sandbox, "reports").count("p1") == 1  # before the checkpoint: not retried
    entries = sandbox.events(source="payments", kind="kinesis")
    assert [e["error"] for e in entries] == [
        "1 of 3 items reported as failed",
        "1 of 2 items reported as failed",  # retried from the checkpoint
    ]


def test_mapping_shows_its_state_and_last_result_and_can_pause(sandbox):
    arn = stream(sandbox, "metrics")
    deploy(sandbox, "counts", PRINTS)
    lam = sandbox.client("lambda")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="counts", StartingPosition="TRIM_HORIZON"
    )["UUID"]
    assert lam.get_event_source_mapping(UUID=mapping)["LastProcessingResult"] == (
        "No records processed"
    )
    put(sandbox, "metrics", ["m1"])
    delivered(sandbox, "metrics", 1)
    found = lam.get_event_source_mapping(UUID=mapping)
    assert found["State"] == "Enabled" and found["LastProcessingResult"] == "OK"
    (listed,) = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert listed["UUID"] == mapping and listed["StartingPosition"] == "TRIM_HORIZON"
    lam.update_event_source_mapping(UUID=mapping, Enabled=False)
    assert lam.get_event_source_mapping(UUID=mapping)["State"] == "Disabled"
    put(sandbox, "metrics", ["m2"])
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    delivered(sandbox, "metrics", 2)
    assert [data(r) for b in batches(sandbox, "counts") for r in b] == ["m1", "m2"]
    assert settled(sandbox.events(source="metrics", kind="kinesis"), 2)


def test_batches_are_listed_by_crosstrain_sandbox_events(sandbox):
    from click.testing import CliRunner

    from crosstrain.cli import main

    arn = stream(sandbox, "audit")
    deploy(sandbox, "auditor", PRINTS)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="auditor", StartingPosition="TRIM_HORIZON"
    )
    put(sandbox, "audit", ["a1", "a2"])
    delivered(sandbox, "audit", 2)
    args = ["sandbox", "events", "--port", str(sandbox.port), "--kind", "kinesis", "--json"]
    listed = CliRunner().invoke(main, args)
    assert listed.exit_code == 0, listed.output
    rows = [row for row in json.loads(listed.output) if row["source"] == arn]
    assert rows and all(row["target"].endswith(":function:auditor") for row in rows)
    assert sum(row["detail"]["batch_size"] for row in rows) == 2
    assert rows[0]["detail"]["shard"].startswith("shardId-")


def test_records_older_than_the_maximum_age_go_to_the_destination_uninvoked(sandbox):
    arn = stream(sandbox, "stale")
    url, queue_arn = queue(sandbox, "stale-failures")
    deploy(sandbox, "fresh-only", PRINTS)
    lam = sandbox.client("lambda")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="fresh-only",
        StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        Enabled=False,
    )["UUID"]
    sequence = put(sandbox, "stale", ["old"])
    sandbox.advance_time(120)  # the record is now two minutes old
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    (message,) = drain(sandbox, url, 1)
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert body["KinesisBatchInfo"]["startSequenceNumber"] == sequence[0]
    put(sandbox, "stale", ["new"])
    delivered(sandbox, "stale", 1)
    assert [data(r) for b in batches(sandbox, "fresh-only") for r in b] == ["new"]


def test_a_stream_mapping_needs_a_starting_position(sandbox):
    from botocore.exceptions import ClientError

    arn = stream(sandbox, "unpositioned")
    deploy(sandbox, "nowhere", PRINTS)
    lam = sandbox.client("lambda")
    for extra in ({}, {"StartingPosition": "AT_TIMESTAMP"}):
        try:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="nowhere", **extra)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidParameterValueException"
            assert "StartingPosition" in exc.response["Error"]["Message"]
        else:
            raise AssertionError(f"accepted a stream mapping with {extra}")
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []
