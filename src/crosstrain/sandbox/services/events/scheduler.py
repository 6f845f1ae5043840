"""Fire schedules on the sandbox clock.

:class:`Scheduler` keeps jobs (a key, a :class:`~.schedule.Schedule`, when it was created and
when it last fired). A thread waits on the :class:`~.schedule.Clock` for the earliest due time;
:meth:`Scheduler.run_due` fires everything due *now* in the caller's thread, so advancing the
clock and then calling it leaves every firing handed over before the caller goes on. A job fires
once per occurrence it missed (an hour advanced on ``rate(1 minute)`` fires 60 times), bounded
by ``max_catch_up`` per call. ``last`` is what persistence keeps, so a restart never fires an
occurrence twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from crosstrain.sandbox.services.events.schedule import Clock, Schedule

log = logging.getLogger("crosstrain.sandbox.events")

Fire = Callable[[str, datetime], None]


@dataclass
class Job:
    key: str
    schedule: Schedule
    anchor: datetime
    last: datetime | None = None
    enabled: bool = True

    def due(self, now: datetime) -> datetime | None:
        after = self.last or self.anchor
        nxt = self.schedule.next_after(after, self.anchor)
        return nxt if nxt is not None and nxt <= now else None

    def next_time(self) -> datetime | None:
        return self.schedule.next_after(self.last or self.anchor, self.anchor)


class Scheduler:
    """Jobs on one clock; ``fire(key, scheduled_time)`` is called once per occurrence."""

    def __init__(self, clock: Clock, fire: Fire, *, max_catch_up: int = 1000):
        self.clock = clock
        self.fire = fire
        self.max_catch_up = max_catch_up
        self._jobs: dict[str, Job] = {}
        self._lock = threading.RLock()
        self._firing = threading.Lock()  # one run_due at a time: nothing fires twice
        self.fired_total = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- jobs ------------------------------------------------------------------------------
    def put(
        self,
        key: str,
        schedule: Schedule,
        *,
        anchor: datetime | None = None,
        last: datetime | None = None,
        enabled: bool = True,
    ) -> Job:
        """Add or replace job ``key`` (a changed expression restarts its rate from now)."""
        with self._lock:
            old = self._jobs.get(key)
            if old is not None and old.schedule.expression == schedule.expression:
                old.enabled = enabled
                job = old
            else:
                job = Job(key, schedule, anchor or self.clock.now(), last, enabled)
                self._jobs[key] = job
        self.clock.poke()
        return job

    def remove(self, key: str) -> None:
        with self._lock:
            self._jobs.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    # -- firing ----------------------------------------------------------------------------
    def run_due(self) -> int:
        """Fire every occurrence due by now; returns how many fired (by this call)."""
        with self._firing:
            fired = self._run_due()
            self.fired_total += fired
        return fired

    def _run_due(self) -> int:
        now = self.clock.now()
        fired = 0
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.enabled]
        for job in jobs:
            count = 0
            while (moment := job.due(now)) is not None:
                if count >= self.max_catch_up:
                    log.warning("schedule %s: skipped occurrences past %d", job.key, count)
                    job.last = now
                    break
                job.last = moment
                count += 1
                try:
                    self.fire(job.key, moment)
                except Exception:  # noqa: BLE001 - one failing target never stops the others
                    log.exception("schedule %s failed to fire", job.key)
            fired += count
        return fired

    def next_due(self) -> float | None:
        with self._lock:
            times = [t for job in self._jobs.values() if job.enabled and (t := job.next_time())]
        return min(times).timestamp() if times else None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="crosstrain-scheduler", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.clock.generation
            due = self.next_due()
            # wake at least every second to see new jobs; an advance wakes it at once
            horizon = self.clock.time() + 1.0
            target = horizon if due is None else min(due, horizon)
            self.clock.wait_change(target, self._stop, seen)
            if not self._stop.is_set():
                self.run_due()

    def close(self) -> None:
        self._stop.set()
        self.clock.poke()
        if self._thread is not None:
            self._thread.join(timeout=5)


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
