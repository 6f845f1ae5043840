"""SQS event source mappings: batches, partial failures, visibility, redrive, enable/disable."""

from __future__ import annotations

import json
import time

from events_support import deliveries, deploy, drain, log_text, queue, settled

BATCH = """
import json
def handler(event, context):
    print("BATCH", json.dumps([r["body"] for r in event["Records"]]))
    return {}
"""

PARTIAL = """
def handler(event, context):
    bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}
"""


def batches(sandbox, name: str) -> list[list[str]]:
    text = log_text(sandbox, name)
    return [
        json.loads(line.split("BATCH ", 1)[1]) for line in text.splitlines() if "BATCH " in line
    ]


def send(sandbox, url: str, bodies: list[str]) -> None:
    sqs = sandbox.client("sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )


def count(sandbox, url: str) -> int:
    attributes = sandbox.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_messages_arrive_in_batches_and_are_deleted(sandbox):
    url, arn = queue(sandbox, "jobs")
    deploy(sandbox, "worker", BATCH)
    send(sandbox, url, [f"m{i}" for i in range(25)])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="worker", BatchSize=10
    )
    deliveries(sandbox, lambda e: settled(e, 3), source="jobs")
    seen = batches(sandbox, "worker")
    assert sorted(b for batch in seen for b in batch) == sorted(f"m{i}" for i in range(25))
    assert max(len(batch) for batch in seen) == 10
    assert count(sandbox, url) == 0


def test_record_shape(sandbox):
    url, arn = queue(sandbox, "shape")
    deploy(sandbox, "shape-fn", "import json\ndef handler(e, c):\n    print('EV', json.dumps(e))\n")
    sandbox.client("sqs").send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "csv"}},
    )
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="shape-fn"
    )
    deliveries(sandbox, settled, source="shape")
    line = next(x for x in log_text(sandbox, "shape-fn").splitlines() if "EV " in x)
    (record,) = json.loads(line.split("EV ", 1)[1])["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["body"] == "hello" and record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "csv"
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"


def test_report_batch_item_failures_keeps_only_the_failed_items(sandbox):
    url, arn = queue(sandbox, "partial", VisibilityTimeout="30")
    deploy(sandbox, "partial-fn", PARTIAL)
    send(sandbox, url, ["ok1", "bad", "ok2"])
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="partial-fn",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    (entry,) = deliveries(sandbox, settled, source="partial")
    assert entry["result"] == "failed" and entry["detail"]["failed_items"] == 1
    assert count(sandbox, url) == 1  # the failed item waits out its visibility timeout


def test_failing_batch_is_redriven_to_the_dlq_after_max_receive_count(sandbox):
    dlq_url, dlq_arn = queue(sandbox, "jobs-dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url, arn = queue(sandbox, "jobs-redrive", VisibilityTimeout="60", RedrivePolicy=policy)
    deploy(sandbox, "crashes", "def handler(e, c):\n    raise ValueError('bad batch')\n")
    send(sandbox, url, ["poison"])
    sandbox.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="crashes")
    deliveries(sandbox, lambda e: len(e) == 1, source="jobs-redrive")
    sandbox.advance_time(61)  # visibility timeout over: received a second time
    deliveries(sandbox, lambda e: len(e) == 2, source="jobs-redrive")
    sandbox.advance_time(61)  # past maxReceiveCount: moved to the DLQ on the next receive
    (message,) = drain(sandbox, dlq_url, 1)
    assert message["Body"] == "poison"
    entries = sandbox.events(source="jobs-redrive")
    assert [e["result"] for e in entries] == ["failed", "failed"]
    assert entries[0]["error"] == "ValueError: bad batch"


def test_batching_window_waits_on_the_sandbox_clock(sandbox):
    url, arn = queue(sandbox, "windowed")
    deploy(sandbox, "windowed-fn", BATCH)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="windowed-fn",
        BatchSize=10,
        MaximumBatchingWindowInSeconds=300,
    )
    send(sandbox, url, ["a", "b"])
    time.sleep(1.0)
    assert sandbox.events(source="windowed") == []
    sandbox.advance_time(300)
    deliveries(sandbox, settled, source="windowed")
    assert batches(sandbox, "windowed-fn") == [["a", "b"]]


def test_disabled_mapping_stops_polling_and_enabling_resumes(sandbox):
    url, arn = queue(sandbox, "toggled")
    deploy(sandbox, "toggled-fn", BATCH)
    lam = sandbox.client("lambda")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="toggled-fn", Enabled=False
    )
    send(sandbox, url, ["x"])
    time.sleep(1.0)
    assert sandbox.events(source="toggled") == []
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    deliveries(sandbox, settled, source="toggled")
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    send(sandbox, url, ["y"])
    time.sleep(1.0)
    assert len(sandbox.events(source="toggled")) == 1
    assert count(sandbox, url) == 1
