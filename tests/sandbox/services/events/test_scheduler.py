"""Schedules fire on the sandbox clock, once per occurrence, never twice."""

from datetime import timedelta

from crosstrain.sandbox.services.events.schedule import Clock, parse
from crosstrain.sandbox.services.events.scheduler import Scheduler


def make():
    fired = []
    clock = Clock()
    return clock, Scheduler(clock, lambda key, when: fired.append((key, when))), fired


def test_nothing_fires_before_time():
    clock, scheduler, fired = make()
    scheduler.put("r", parse("rate(5 minutes)"))
    assert scheduler.run_due() == 0
    assert fired == []


def test_advancing_fires_every_missed_occurrence_in_order():
    clock, scheduler, fired = make()
    job = scheduler.put("r", parse("rate(1 minute)"))
    clock.advance(10 * 60 + 1)
    assert scheduler.run_due() == 10
    assert [when for _, when in fired] == [job.anchor + timedelta(minutes=i) for i in range(1, 11)]
    assert scheduler.run_due() == 0  # nothing twice


def test_restored_last_fire_is_not_repeated():
    clock, scheduler, fired = make()
    anchor = clock.now() - timedelta(minutes=3, seconds=1)
    scheduler.put("r", parse("rate(1 minute)"), anchor=anchor, last=anchor + timedelta(minutes=3))
    assert scheduler.run_due() == 0
    clock.advance(60)
    assert scheduler.run_due() == 1


def test_disabled_job_does_not_fire_and_catch_up_is_bounded():
    clock, scheduler, fired = make()
    scheduler.max_catch_up = 5
    scheduler.put("off", parse("rate(1 minute)"), enabled=False)
    scheduler.put("on", parse("rate(1 minute)"))
    clock.advance(3600)
    assert scheduler.run_due() == 5
    assert {key for key, _ in fired} == {"on"}
    assert scheduler.run_due() == 0  # skipped occurrences are not replayed


def test_a_failing_fire_does_not_stop_other_jobs():
    clock = Clock()
    seen = []

    def fire(key, when):
        if key == "bad":
            raise RuntimeError("boom")
        seen.append(key)

    scheduler = Scheduler(clock, fire)
    scheduler.put("bad", parse("rate(1 minute)"))
    scheduler.put("good", parse("rate(1 minute)"))
    clock.advance(61)
    scheduler.run_due()
    assert seen == ["good"]


def test_background_thread_fires_after_advance():
    import threading

    clock = Clock()
    done = threading.Event()
    scheduler = Scheduler(clock, lambda key, when: done.set())
    scheduler.put("r", parse("rate(1 hour)"))
    scheduler.start()
    try:
        clock.advance(3601)
        assert done.wait(5)
    finally:
        scheduler.close()
