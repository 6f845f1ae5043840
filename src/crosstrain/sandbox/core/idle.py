"""Idle workers across every pool: a global cap (least recently used first out) and idle
time-outs that shrink under memory pressure.

Each :class:`~crosstrain.sandbox.core.workers.WorkerPool` parks a worker here when a call ends
and takes it back when a call starts. At most :attr:`IdleWorkers.cap` workers stay idle in the
whole sandbox: parking one more stops the one idle longest, whichever pool it is in (its next
call starts cold, which a zygote makes cheap). A reaper thread stops workers idle longer than
their pool's ``idle_seconds`` as adapted by :func:`idle_timeout`: the full time while at least
half the memory is available, down to :data:`PRESSED_IDLE_SECONDS` as available memory falls to
a tenth (of the machine, or of the sandbox's cgroup when it has a limit).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

DEFAULT_CAP = 8
PRESSED_IDLE_SECONDS = 10.0
REAP_INTERVAL = 2.0
_V1 = "/sys/fs/cgroup/memory/"


def _meminfo() -> tuple[float, float]:
    """(available, total) bytes of the machine."""
    values = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("MemAvailable", "MemTotal"):
                    values[key] = float(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return values.get("MemAvailable", 1.0), values.get("MemTotal", 1.0)


def _cgroup_room() -> tuple[float, float] | None:
    """(available, limit) bytes of this process's memory cgroup when it has a limit (v2, v1)."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (_V1 + "memory.limit_in_bytes", _V1 + "memory.usage_in_bytes"),
    ):
        try:
            raw = Path(limit_file).read_text().strip()
            if raw == "max" or int(raw) >= 1 << 60:
                continue
            limit, usage = float(raw), float(Path(usage_file).read_text())
        except (OSError, ValueError):
            continue
        return max(0.0, limit - usage), limit
    return None


def available_fraction() -> float:
    """The smaller of the machine's and the cgroup's available share of memory."""
    available, total = _meminfo()
    fraction = available / total if total else 1.0
    room = _cgroup_room()
    if room is not None and room[1]:
        fraction = min(fraction, room[0] / room[1])
    return fraction


def idle_timeout(seconds: float, fraction: float | None = None) -> float:
    """``seconds`` while half the memory is free, shrinking to PRESSED_IDLE_SECONDS at a tenth."""
    fraction = available_fraction() if fraction is None else fraction
    floor = min(seconds, PRESSED_IDLE_SECONDS)
    if fraction >= 0.5:
        return seconds
    if fraction <= 0.1:
        return floor
    return max(floor, seconds * (fraction - 0.1) / 0.4)


class IdleWorkers:
    """The idle workers of every pool, least recently used first."""

    def __init__(self, cap: int = DEFAULT_CAP):
        self.cap = cap
        self._lock = threading.Lock()
        self._idle: OrderedDict = OrderedDict()  # worker -> its pool
        self._reaper: threading.Thread | None = None

    def park(self, worker, pool) -> None:
        """``worker`` of ``pool`` went idle; stop the least recently used beyond the cap."""
        with self._lock:
            self._idle[worker] = pool
            self._idle.move_to_end(worker)
            victims = []
            while len(self._idle) > max(0, self.cap):
                victims.append(self._idle.popitem(last=False))
            if self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._reap_forever, name="crosstrain-idle-reaper", daemon=True
                )
                self._reaper.start()
        for victim, owner in victims:
            owner.evict(victim)

    def take(self, worker) -> None:
        """``worker`` is busy again (or gone)."""
        with self._lock:
            self._idle.pop(worker, None)

    def count(self) -> int:
        with self._lock:
            return len(self._idle)

    def reap(self, fraction: float | None = None) -> int:
        """Stop the workers idle past their (adapted) time-out; returns how many."""
        fraction = available_fraction() if fraction is None else fraction
        now = time.monotonic()
        with self._lock:
            victims = [
                (worker, pool)
                for worker, pool in self._idle.items()
                if now - worker.last_used > idle_timeout(pool.idle_seconds, fraction)
            ]
            for worker, _ in victims:
                self._idle.pop(worker, None)
        for worker, pool in victims:
            pool.evict(worker)
        return len(victims)

    def _reap_forever(self) -> None:
        while True:
            time.sleep(REAP_INTERVAL)
            try:
                self.reap()
            except Exception:  # noqa: BLE001 - the reaper must outlive one bad pass
                continue


idle_workers = IdleWorkers()
