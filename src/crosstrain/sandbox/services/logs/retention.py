"""CloudWatch Logs retention, so logs (Lambda's, training jobs', endpoints') do not grow forever.

moto stores ``RetentionInDays`` and never expires anything. Here every log group keeps events no
older than its ``RetentionInDays`` (on the sandbox clock, so ``advance-time`` ages logs too) and,
whatever the policy, at most :data:`DEFAULT_MAX_EVENTS` events (the oldest go first). A stream
left empty by expiry is deleted, as AWS does. Groups are swept every :data:`SWEEP_SECONDS`, and
a group at once when ``PutRetentionPolicy`` is called on it.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable

from crosstrain.sandbox.core.accounts import account_for
from crosstrain.sandbox.core.router import Call, Router, Runtime, signing_scope

DEFAULT_MAX_EVENTS = 10_000  # per log group
SWEEP_SECONDS = 30.0
DAY_MS = 86_400_000


def prune_group(group, now_ms: int, max_events: int = DEFAULT_MAX_EVENTS) -> int:
    """Drop ``group``'s events past its retention and beyond ``max_events``; returns how many."""
    days = group.retention_in_days
    cutoff = now_ms - int(days) * DAY_MS if days else None
    dropped = 0
    for stream in group.streams.values():
        if cutoff is not None and stream.events and stream.events[0].timestamp < cutoff:
            kept = [event for event in stream.events if event.timestamp >= cutoff]
            dropped += len(stream.events) - len(kept)
            stream.events = kept
    total = sum(len(stream.events) for stream in group.streams.values())
    if total > max_events:  # the oldest events across the group's streams go first
        excess = total - max_events
        stamps = (e.timestamp for s in group.streams.values() for e in s.events)
        threshold = heapq.nsmallest(excess, stamps)[-1]
        for stream in group.streams.values():
            if excess <= 0:
                break
            before = len(stream.events)
            kept, removed = [], 0
            for event in stream.events:
                if removed < excess and event.timestamp <= threshold:
                    removed += 1
                else:
                    kept.append(event)
            stream.events = kept
            excess -= before - len(kept)
            dropped += before - len(kept)
    if dropped:
        for name in [n for n, s in group.streams.items() if not s.events]:
            del group.streams[name]
    return dropped


def prune_all(router: Router, now_ms: int, max_events: int = DEFAULT_MAX_EVENTS) -> int:
    """Apply retention to every log group of every account and region."""
    from moto.logs.models import logs_backends

    dropped = 0
    with router.moto_lock:
        for regions in list(logs_backends.values()):
            for backend in list(regions.values()):
                for group in list(backend.groups.values()):
                    dropped += prune_group(group, now_ms, max_events)
    if dropped:
        router.mark_dirty({"logs"})
    return dropped


class LogRetention(Runtime):
    """Sweeps log groups on a thread; prunes a group when its retention policy is set."""

    name = "log-retention"

    def __init__(self, router: Router):
        super().__init__(router)
        self.max_events = DEFAULT_MAX_EVENTS
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crosstrain-logs", daemon=True)
        self._thread.start()

    def now_ms(self) -> int:
        """Milliseconds on the sandbox clock (the events runtime's, when there is one)."""
        clock = next((rt.clock for rt in self.router.runtimes if hasattr(rt, "clock")), None)
        seconds: Callable[[], float] = clock.time if clock is not None else time.time
        return int(seconds() * 1000)

    def observe(self, call: Call) -> None:
        if call.service != "logs" or call.action != "PutRetentionPolicy" or not call.ok:
            return
        from moto.logs.models import logs_backends

        name = call.json().get("logGroupName", "")
        region = signing_scope(call.request)[1] or self.router.region
        with self.router.moto_lock:
            group = logs_backends[account_for(call.request)][region].groups.get(name)
            dropped = prune_group(group, self.now_ms(), self.max_events) if group else 0
        if dropped:
            self.dropped += dropped
            self.router.mark_dirty({"logs"})

    def sweep(self) -> int:
        dropped = prune_all(self.router, self.now_ms(), self.max_events)
        self.dropped += dropped
        return dropped

    def _run(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - one bad sweep must not stop the next
                continue

    def health(self) -> dict:
        return {"events_dropped": self.dropped, "max_events_per_group": self.max_events}

    def close(self) -> None:
        self._stop.set()
