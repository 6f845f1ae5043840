"""Events in the sandbox: S3 put -> handler start, SQS -> Lambda and Kinesis -> Lambda
throughput, Step Functions per-state overhead, each against a direct Lambda invoke measured in the
same run.

- **S3 put -> handler start** (target p50 <= 20 ms warm): the client notes the time before
  ``PutObject``; the handler prints the time it started; the difference, over ``--puts`` puts to
  a warm function. Baseline: the same from before a direct ``Invoke`` to the handler's start.
- **SQS -> Lambda, batch 10** (target >= 1,000 messages/s on 2 cores): ``--messages`` messages
  are queued first, then a mapping with ``BatchSize=10`` is created; the clock runs until the
  queue is empty. Baseline: direct invokes of the same handler with 10-record events, one after
  another, counted in messages/s.
- **Kinesis -> Lambda, batch 100**: ``--records`` records are put on a one-shard stream first
  (``PutRecords``, 500 a call), then a mapping with ``BatchSize=100`` from ``TRIM_HORIZON`` is
  created; the clock runs until the delivery log has them all. Baseline: direct invokes of the
  same handler with 100-record Kinesis events, one after another, counted in records/s.
- **Step Functions per state** (target <= 2 ms): an execution of ``--states`` chained Pass
  states, from ``ExecutionStarted`` to ``ExecutionSucceeded`` in its history, per state.
  Baseline: one direct invoke (p50).

    .venv/bin/python benchmarks/events.py [--puts 50] [--messages 2000] [--records 20000]
        [--states 100]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
import zipfile

from crosstrain import sandbox

HANDLER = """
import time
def handler(event, context):
    started = time.time()
    records = event.get("Records") or []
    key = records[0]["s3"]["object"]["key"] if records and "s3" in records[0] else event.get("k")
    if key is not None:
        print("STARTED", key, repr(started))
    return len(records)
"""


def deploy(sb, name: str) -> str:
    role = sb.client("iam").create_role(RoleName=f"bench-{name}", AssumeRolePolicyDocument="{}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    answer = sb.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        MemorySize=256,
    )
    return answer["FunctionArn"]


def started_at(sb, function: str) -> dict[str, float]:
    logs = sb.client("logs")
    group = f"/aws/lambda/{function}"
    found = {}
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        token = None
        while True:
            kwargs = {"logGroupName": group, "logStreamName": stream["logStreamName"]}
            if token:
                kwargs["nextToken"] = token
            page = logs.get_log_events(startFromHead=True, **kwargs)
            for event in page["events"]:
                parts = event["message"].split()
                if len(parts) == 3 and parts[0] == "STARTED":
                    found[parts[1]] = float(parts[2])
            if page.get("nextForwardToken") in (None, token):
                break
            token = page["nextForwardToken"]
    return found


def direct_latency(sb, name: str, count: int) -> list[float]:
    lam = sb.client("lambda")
    sent = {}
    for i in range(count):
        key = f"direct-{i}"
        sent[key] = time.time()
        lam.invoke(FunctionName=name, Payload=json.dumps({"k": key}))
    started = started_at(sb, name)
    return [(started[k] - sent[k]) * 1000 for k in sent]


def s3_latency(sb, name: str, arn: str, count: int) -> list[float]:
    lam, s3 = sb.client("lambda"), sb.client("s3")
    lam.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    s3.create_bucket(Bucket="bench-in")
    s3.put_bucket_notification_configuration(
        Bucket="bench-in",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    sent = {}
    for i in range(count):
        key = f"put-{i}"
        sent[key] = time.time()
        s3.put_object(Bucket="bench-in", Key=key, Body=b"x")
        time.sleep(0.02)  # one at a time: latency, not queueing
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = started_at(sb, name)
        if all(k in started for k in sent):
            break
        time.sleep(0.2)
    return [(started[k] - sent[k]) * 1000 for k in sent if k in started]


def direct_throughput(sb, name: str, messages: int) -> float:
    lam = sb.client("lambda")
    event = json.dumps({"Records": [{"body": f"m{i}"} for i in range(10)]})
    began = time.perf_counter()
    for _ in range(messages // 10):
        lam.invoke(FunctionName=name, Payload=event)
    return messages / (time.perf_counter() - began)


def sqs_throughput(sb, name: str, messages: int) -> float:
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName="bench-jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for start in range(0, messages, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    began = time.perf_counter()
    sb.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=10
    )
    while True:
        done = sum(e["detail"].get("batch_size", 0) for e in sb.events(source="bench-jobs"))
        if done >= messages:
            break
        if time.perf_counter() - began > 300:
            raise SystemExit(f"only {done} of {messages} messages processed in 300 s")
        time.sleep(0.05)
    return messages / (time.perf_counter() - began)


def kinesis_event(count: int) -> str:
    record = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "k",
            "sequenceNumber": "1",
            "data": "eyJ4IjogMX0=",
            "approximateArrivalTimestamp": time.time(),
        },
        "eventSource": "aws:kinesis",
        "eventName": "aws:kinesis:record",
    }
    return json.dumps({"Records": [record] * count})


def direct_kinesis_throughput(sb, name: str, records: int) -> float:
    lam = sb.client("lambda")
    event = kinesis_event(100)
    began = time.perf_counter()
    for _ in range(records // 100):
        lam.invoke(FunctionName=name, Payload=event)
    return records / (time.perf_counter() - began)


def kinesis_throughput(sb, name: str, records: int) -> float:
    kinesis = sb.client("kinesis")
    kinesis.create_stream(StreamName="bench-clicks", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="bench-clicks")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    for start in range(0, records, 500):
        entries = [
            {"Data": json.dumps({"x": start + i}).encode(), "PartitionKey": "k"}
            for i in range(min(500, records - start))
        ]
        kinesis.put_records(StreamName="bench-clicks", Records=entries)
    began = time.perf_counter()
    sb.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=100, StartingPosition="TRIM_HORIZON"
    )
    while True:
        entries = sb.events(source="bench-clicks", kind="kinesis")
        done = sum(e["detail"]["batch_size"] for e in entries if e["result"] == "delivered")
        if done >= records:
            break
        if time.perf_counter() - began > 300:
            raise SystemExit(f"only {done} of {records} records processed in 300 s")
        time.sleep(0.05)
    return records / (time.perf_counter() - began)


def states_overhead(sb, count: int) -> float:
    states = {
        f"S{i}": {"Type": "Pass", **({"Next": f"S{i + 1}"} if i + 1 < count else {"End": True})}
        for i in range(count)
    }
    sfn = sb.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="bench-chain",
        definition=json.dumps({"StartAt": "S0", "States": states}),
        roleArn="arn:aws:iam::123456789012:role/bench",
    )["stateMachineArn"]
    runs = []
    for _ in range(3):
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.02)
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        first, last = events[0]["timestamp"], events[-1]["timestamp"]
        runs.append((last - first).total_seconds() * 1000 / count)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--puts", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--states", type=int, default=100)
    args = parser.parse_args()
    with sandbox.start() as sb:
        arn = deploy(sb, "bench")
        direct_latency(sb, "bench", 5)  # warm up
        direct = statistics.median(direct_latency(sb, "bench", args.puts))
        s3 = statistics.median(s3_latency(sb, "bench", arn, args.puts))
        direct_rate = direct_throughput(sb, "bench", args.messages)
        sqs_rate = sqs_throughput(sb, "bench", args.messages)
        direct_records = direct_kinesis_throughput(sb, "bench", args.records)
        kinesis_rate = kinesis_throughput(sb, "bench", args.records)
        per_state = states_overhead(sb, args.states)
    rows = [
        ("direct invoke -> handler start p50", f"{direct:8.2f} ms", "(baseline)"),
        ("S3 put -> handler start p50", f"{s3:8.2f} ms", f"x{s3 / direct:.2f}  target <= 20 ms"),
        ("direct invoke, 10-record events", f"{direct_rate:8.0f} msg/s", "(baseline)"),
        (
            "SQS -> Lambda, batch 10",
            f"{sqs_rate:8.0f} msg/s",
            f"x{sqs_rate / direct_rate:.2f}  target >= 1000 msg/s",
        ),
        ("direct invoke, 100-record events", f"{direct_records:8.0f} rec/s", "(baseline)"),
        (
            "Kinesis -> Lambda, batch 100",
            f"{kinesis_rate:8.0f} rec/s",
            f"x{kinesis_rate / direct_records:.2f}",
        ),
        (
            "Step Functions per state (Pass)",
            f"{per_state:8.2f} ms",
            f"x{per_state / direct:.2f} of a direct invoke  target <= 2 ms",
        ),
    ]
    for name, value, note in rows:
        print(f"{name:<38} {value:>14}  {note}")


if __name__ == "__main__":
    main()
