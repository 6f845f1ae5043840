"""Log retention: RetentionInDays is honoured, and every group is capped even without a policy."""

from __future__ import annotations

import time
from types import SimpleNamespace

import boto3
from botocore.config import Config

from crosstrain.sandbox.services.logs.retention import DAY_MS, prune_group

NOW = 1_800_000_000_000


def _group(days=None, **streams):
    return SimpleNamespace(
        retention_in_days=days,
        streams={
            name: SimpleNamespace(events=[SimpleNamespace(timestamp=t) for t in stamps])
            for name, stamps in streams.items()
        },
    )


def test_events_older_than_the_retention_go_and_emptied_streams_with_them():
    group = _group(1, old=[NOW - 3 * DAY_MS], mixed=[NOW - 2 * DAY_MS, NOW - 1000, NOW])
    assert prune_group(group, NOW) == 2
    assert list(group.streams) == ["mixed"]
    assert [e.timestamp for e in group.streams["mixed"].events] == [NOW - 1000, NOW]


def test_without_a_policy_nothing_expires_but_the_group_is_capped_oldest_first():
    group = _group(None, a=[NOW - 9 * DAY_MS, NOW - 5, NOW - 1], b=[NOW - 8 * DAY_MS, NOW - 4])
    assert prune_group(group, NOW, max_events=10) == 0
    assert prune_group(group, NOW, max_events=3) == 2
    kept = sorted(e.timestamp for s in group.streams.values() for e in s.events)
    assert kept == [NOW - 5, NOW - 4, NOW - 1]


def test_put_retention_policy_expires_old_events_in_the_sandbox(sandbox):
    logs = boto3.client(
        "logs",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    logs.create_log_group(logGroupName="/aws/lambda/kept")
    logs.create_log_stream(logGroupName="/aws/lambda/kept", logStreamName="s")
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now - 3 * DAY_MS, "message": "old"},
        {"timestamp": now, "message": "new"},
    ]
    logs.put_log_events(logGroupName="/aws/lambda/kept", logStreamName="s", logEvents=events)
    logs.put_retention_policy(logGroupName="/aws/lambda/kept", retentionInDays=1)
    found = logs.get_log_events(logGroupName="/aws/lambda/kept", logStreamName="s")["events"]
    assert [e["message"] for e in found] == ["new"]
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/kept")["logGroups"][0]
    assert group["retentionInDays"] == 1
