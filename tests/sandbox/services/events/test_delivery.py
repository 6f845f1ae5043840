"""The delivery engine: retries on the sandbox clock, final outcomes, loops, the log."""

import threading

import pytest

from crosstrain.sandbox.services.events.delivery import (
    Delivery,
    DeliveryEngine,
    Result,
    RetryPolicy,
    delivery_from_dict,
    delivery_to_dict,
)
from crosstrain.sandbox.services.events.schedule import Clock


class Recorder:
    def __init__(self, results):
        self.results = list(results)
        self.calls = []
        self.outcomes = []
        self.done = threading.Event()

    def deliver(self, delivery):
        self.calls.append(delivery.attempts)
        result = self.results.pop(0) if self.results else Result.success()
        if isinstance(result, BaseException):
            raise result
        return result

    def finished(self, delivery, result, outcome):
        self.outcomes.append((outcome, result.error))
        self.done.set()


@pytest.fixture
def engine():
    engine = DeliveryEngine(Clock())
    engine.start()
    yield engine
    engine.close()


def send(engine, target, **kw):
    engine.register("t", target)
    return engine.submit(Delivery("t", "arn:src", "arn:dst", b"{}", **kw))


def test_success_is_delivered_once_and_logged(engine):
    target = Recorder([])
    send(engine, target)
    assert target.done.wait(5)
    assert target.outcomes == [("delivered", "")]
    (entry,) = engine.log.query()
    assert entry["result"] == "delivered" and entry["attempts"] == 1 and entry["payload_size"] == 2


def test_failure_retries_after_aws_delays_only_when_the_clock_moves(engine):
    target = Recorder([Result.failure("KeyError: 'Records'")] * 3)
    send(engine, target)
    assert engine.wait_idle()
    assert target.calls == [1]
    assert engine.log.query()[0]["result"] == "retrying"
    engine.clock.advance(60)
    assert engine.wait_idle()
    assert target.calls == [1, 2]
    engine.clock.advance(119)
    assert engine.wait_idle()
    assert target.calls == [1, 2]  # second retry waits two minutes
    engine.clock.advance(1)
    assert target.done.wait(5)
    assert target.calls == [1, 2, 3]
    assert target.outcomes == [("failed", "KeyError: 'Records'")]
    entry = engine.log.query()[0]
    assert entry["retries"] == 2 and entry["error"] == "KeyError: 'Records'"


def test_maximum_retry_attempts_zero(engine):
    target = Recorder([Result.failure("boom")])
    send(engine, target, policy=RetryPolicy(max_retries=0))
    assert target.done.wait(5)
    assert target.calls == [1] and target.outcomes[0][0] == "failed"


def test_non_retryable_failure_is_final(engine):
    target = Recorder([Result.failure("no such function", retry=False)])
    send(engine, target)
    assert target.done.wait(5)
    assert target.calls == [1]


def test_event_older_than_maximum_age_expires(engine):
    target = Recorder([Result.failure("boom")] * 5)
    send(engine, target, policy=RetryPolicy(max_retries=2, max_age=90, delays=(100,)))
    assert engine.wait_idle()
    engine.clock.advance(100)
    assert target.done.wait(5)
    assert target.outcomes[0][0] == "expired"
    assert target.calls == [1]


def test_a_raising_target_counts_as_a_failed_attempt(engine):
    target = Recorder([RuntimeError("bug")])
    send(engine, target, policy=RetryPolicy(max_retries=0))
    assert target.done.wait(5)
    assert target.outcomes == [("failed", "RuntimeError: bug")]


def test_a_hanging_target_does_not_block_others(engine):
    release = threading.Event()
    fast_done = threading.Event()

    class Slow(Recorder):
        def deliver(self, delivery):
            release.wait(10)
            return Result.success()

    class Fast(Recorder):
        def finished(self, delivery, result, outcome):
            fast_done.set()

    engine.register("slow", Slow([]))
    engine.register("fast", Fast([]))
    engine.submit(Delivery("slow", "s", "t", b""))
    engine.submit(Delivery("fast", "s", "t", b""))
    assert fast_done.wait(5)
    release.set()


def test_unknown_kind_fails_without_retry(engine):
    engine.submit(Delivery("nope", "s", "t", b""))
    assert engine.wait_idle()
    assert engine.log.query()[0]["result"] == "failed"


def test_loop_is_stopped_at_the_limit(engine):
    engine.loop_limit = 4
    target = Recorder([])
    engine.register("t", target)
    header = None
    for _ in range(6):
        root, depth = engine.lineage(header)
        d = engine.submit(Delivery("t", "bucket", "fn", b"", trace=root, depth=depth))
        header = engine.trace_header(d)
    assert engine.wait_idle()
    results = [e["result"] for e in engine.log.query()]
    assert results[:4] == ["delivered"] * 4
    assert set(results[4:]) == {"loop-detected"}
    assert engine.loops and engine.loops[0]["source"] == "bucket"


def test_unrelated_calls_start_new_lineages(engine):
    assert engine.lineage(None)[1] == 0
    assert engine.lineage("Root=unknown-root")[1] == 1


def test_record_logs_a_synchronous_delivery(engine):
    engine.record("sqs-esm", "arn:queue", "arn:fn", 120, Result.failure("Unhandled"), attempts=3)
    (entry,) = engine.log.query(source="queue")
    assert entry["result"] == "failed" and entry["retries"] == 2


def test_query_filters(engine):
    engine.record("a", "arn:s3:::b1", "arn:fn1", 1, Result.success())
    engine.record("a", "arn:s3:::b2", "arn:fn2", 1, Result.failure("x"))
    assert len(engine.log.query(source="b1")) == 1
    assert len(engine.log.query(result="failed")) == 1
    assert len(engine.log.query(limit=1)) == 1


def test_pending_deliveries_round_trip_and_run_after_restore():
    clock = Clock()
    first = DeliveryEngine(clock)
    first.submit(Delivery("t", "s", "d", b"\x00\xff", meta={"dlq": "arn:q"}))
    saved = [delivery_to_dict(d) for d in first.pending()]
    first.close()
    second = DeliveryEngine(clock)
    target = Recorder([])
    second.register("t", target)
    second.restore([delivery_from_dict(d) for d in saved])
    second.start()
    try:
        assert target.done.wait(5)
    finally:
        second.close()
    assert len(target.calls) == 1
