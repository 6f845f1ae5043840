"""Helpers for the events tests: deploy a function, wait for deliveries, read a queue."""

from __future__ import annotations

import io
import json
import textwrap
import time
import zipfile

import pytest
from support import lambda_role


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, textwrap.dedent(content))
    return buffer.getvalue()


def deploy(sandbox, name: str, source: str, **config) -> str:
    """Create a python3.12 function from ``app.py`` source; returns its ARN."""
    role = lambda_role(sandbox, f"role-{name}")
    answer = sandbox.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
        **config,
    )
    return answer["FunctionArn"]


def allow(sandbox, name: str, principal: str, sid: str = "allow") -> None:
    sandbox.client("lambda").add_permission(
        FunctionName=name,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal=principal,
    )


def queue(sandbox, name: str, **attributes) -> tuple[str, str]:
    """Create a queue; returns (url, arn)."""
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(sandbox, url: str, count: int, timeout: float = 20.0) -> list[dict]:
    """Receive (and delete) ``count`` messages from ``url``; fail if they do not come."""
    sqs = sandbox.client("sqs")
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"only {len(got)} of {count} messages arrived: {got}")
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        )
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            got.append(message)
        if len(got) < count:
            time.sleep(0.05)
    return got


def deliveries(sandbox, done, timeout: float = 20.0, **filters) -> list[dict]:
    """Poll the delivery log until ``done(entries)``; returns the entries."""
    deadline = time.monotonic() + timeout
    while True:
        entries = sandbox.events(**filters)
        if done(entries):
            return entries
        if time.monotonic() > deadline:
            pytest.fail(f"delivery log never got there: {json.dumps(entries, indent=1)}")
        time.sleep(0.05)


def settled(entries: list[dict], count: int = 1) -> bool:
    """At least ``count`` entries, none of them still queued or retrying."""
    return len(entries) >= count and all(e["result"] not in ("queued", "retrying") for e in entries)


def log_text(sandbox, function: str) -> str:
    logs = sandbox.client("logs")
    group = f"/aws/lambda/{function}"
    lines = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        lines += [e["message"] for e in events["events"]]
    return "\n".join(lines)
