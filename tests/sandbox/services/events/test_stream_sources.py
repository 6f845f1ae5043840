"""Which shard source reads an ARN, and moto timestamps as epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from crosstrain.sandbox.services.events.stream_sources import epoch, source_for


def test_source_for_tells_the_stream_kinds_apart():
    ddb = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-12-07T00:00:00.000"
    assert source_for(ddb).kind == "dynamodb"
    assert source_for("arn:aws:kinesis:us-east-1:000000000000:stream/clicks").kind == "kinesis"
    assert source_for("arn:aws:dynamodb:us-east-1:000000000000:table/t") is None
    assert source_for("arn:aws:sqs:us-east-1:000000000000:jobs") is None
    assert source_for("") is None


def test_epoch_reads_naive_utc_aware_and_numbers():
    moment = datetime(2026, 12, 7, 12, 0, 0, 500000)
    expected = datetime(2026, 12, 7, 12, 0, 0, 500000, tzinfo=UTC).timestamp()
    assert epoch(moment) == expected
    assert epoch(moment.replace(tzinfo=UTC)) == expected
    assert epoch(expected) == expected and epoch(str(expected)) == expected
    assert epoch("2026-12-07T12:00:00.5Z") == expected
