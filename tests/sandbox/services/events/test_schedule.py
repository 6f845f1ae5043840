"""rate/cron/at schedule expressions (AWS grammar) and the sandbox clock."""

import threading
from datetime import UTC, datetime

import pytest

from crosstrain.sandbox.services.events.schedule import Clock, ScheduleError, parse

T0 = datetime(2026, 12, 7, 10, 2, 30, tzinfo=UTC)  # a Monday


def nxt(expr, moment=T0, anchor=None):
    return parse(expr).next_after(moment, anchor)


def test_rate_counts_from_the_anchor():
    anchor = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert nxt("rate(5 minutes)", anchor=anchor) == datetime(2026, 12, 7, 10, 5, tzinfo=UTC)
    assert nxt("rate(1 hour)", anchor=anchor) == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert nxt("rate(2 days)", anchor=anchor) == datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)"])
def test_rate_grammar_is_aws_s(bad):
    with pytest.raises(ScheduleError):
        parse(bad)


def test_cron_daily_at_noon():
    assert nxt("cron(0 12 * * ? *)") == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_cron_day_of_week_is_numbered_from_sunday_one():
    # 2 = MON in AWS; from Monday 10:02 the next Monday-10:00 is a week later
    assert nxt("cron(0 10 ? * 2 *)") == datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    assert nxt("cron(0 10 ? * MON-FRI *)") == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert nxt("cron(0 10 ? * 1 *)") == datetime(2026, 12, 13, 10, 0, tzinfo=UTC)  # Sunday


def test_cron_last_day_of_month_and_weekday_nearest():
    assert nxt("cron(0 8 L * ? *)") == datetime(2026, 12, 31, 8, 0, tzinfo=UTC)
    assert nxt("cron(0 8 15W * ? *)") == datetime(2026, 12, 15, 8, 0, tzinfo=UTC)


def test_cron_nth_and_last_weekday():
    # third Friday (AWS 6) of December 2026 is the 18th; last Friday is the 25th
    assert nxt("cron(0 9 ? * 6#3 *)") == datetime(2026, 12, 18, 9, 0, tzinfo=UTC)
    assert nxt("cron(0 9 ? * 6L *)") == datetime(2026, 12, 25, 9, 0, tzinfo=UTC)


def test_cron_year_field_filters():
    assert nxt("cron(0 0 1 1 ? 2028)") == datetime(2028, 1, 1, tzinfo=UTC)
    assert nxt("cron(0 0 1 1 ? 2020-2025)") is None


def test_cron_every_15_minutes():
    assert nxt("cron(0/15 * * * ? *)") == datetime(2026, 12, 7, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        "cron(0 12 * * *)",  # five fields
        "cron(0 12 * * * *)",  # neither day field is ?
        "cron(0 12 ? * ? *)",  # both are
        "cron(0 12 ? * 9 *)",
        "cron(99 12 * * ? *)",
        "every day",
    ],
)
def test_bad_cron_is_refused(bad):
    with pytest.raises(ScheduleError):
        parse(bad)


def test_at_fires_once():
    assert nxt("at(2026-12-24T18:00:00)") == datetime(2026, 12, 24, 18, tzinfo=UTC)
    assert nxt("at(2026-01-01T00:00:00)") is None


def test_clock_advances_and_never_goes_back():
    clock = Clock()
    before = clock.time()
    clock.advance(3600)
    assert clock.time() - before >= 3600
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_advance_wakes_a_waiter():
    clock = Clock()
    woke = threading.Event()
    target = clock.time() + 1000
    thread = threading.Thread(target=lambda: clock.wait_until(target) and woke.set())
    thread.start()
    clock.advance(1001)
    thread.join(timeout=5)
    assert woke.is_set()


def test_wait_until_stops_when_asked():
    clock = Clock()
    stop = threading.Event()
    stop.set()
    assert clock.wait_until(clock.time() + 1000, stop) is False


def test_reset_returns_to_wall_time():
    clock = Clock()
    clock.advance(5000)
    clock.reset()
    assert clock.offset == 0.0
