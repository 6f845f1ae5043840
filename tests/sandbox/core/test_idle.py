"""Idle workers across pools: the global cap evicts the least recently used; time-outs adapt."""

from __future__ import annotations

import textwrap
import time

import psutil
import pytest

from crosstrain.sandbox.core.idle import PRESSED_IDLE_SECONDS, idle_timeout, idle_workers
from crosstrain.sandbox.core.workers import WorkerPool, WorkerSpec

APP = textwrap.dedent(
    """
    import os

    def make(config):
        return lambda header, body: ({"pid": os.getpid()}, b"")
    """
)


@pytest.fixture
def pools(tmp_path, monkeypatch):
    (tmp_path / "app.py").write_text(APP)
    spec = WorkerSpec(f"{tmp_path / 'app.py'}:make")
    made: list[WorkerPool] = []

    def make(idle_seconds: float = 600.0) -> WorkerPool:
        made.append(WorkerPool(spec, idle_seconds=idle_seconds, name=f"idle{len(made)}"))
        return made[-1]

    yield make
    for pool in made:
        pool.close()


def _pid(pool: WorkerPool) -> int:
    return pool.call({}, timeout=30).header["pid"]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _ends(pid: int, seconds: float = 10.0) -> bool:
    """Whether ``pid`` ends within ``seconds`` (eviction kills without waiting)."""
    deadline = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_parking_beyond_the_cap_stops_the_least_recently_used_worker(pools, monkeypatch):
    monkeypatch.setattr(idle_workers, "cap", 2)
    first, second, third = pools(), pools(), pools()
    first_pid, second_pid = _pid(first), _pid(second)
    _pid(first)  # first is now more recently used than second
    _pid(third)
    assert first.stats()["idle"] == 1 and third.stats()["idle"] == 1
    assert second.stats()["idle"] == 0
    assert _ends(second_pid) and not _gone(first_pid)
    assert idle_workers.count() == 2


def test_an_evicted_pool_starts_cold_on_its_next_call(pools, monkeypatch):
    monkeypatch.setattr(idle_workers, "cap", 1)
    first, second = pools(), pools()
    _pid(first)
    _pid(second)
    assert first.call({}, timeout=30).info.cold


def test_idle_timeout_shrinks_as_available_memory_falls():
    assert idle_timeout(900, fraction=0.8) == 900
    assert idle_timeout(900, fraction=0.5) == 900
    assert idle_timeout(900, fraction=0.3) == pytest.approx(450)
    assert idle_timeout(900, fraction=0.05) == PRESSED_IDLE_SECONDS
    assert idle_timeout(3, fraction=0.05) == 3  # never longer than asked


def test_reaper_stops_workers_idle_past_their_adapted_time_out(pools):
    pool = pools(idle_seconds=900)
    pid = _pid(pool)
    worker = pool._idle[0]
    worker.last_used -= PRESSED_IDLE_SECONDS + 1
    assert idle_workers.reap(fraction=0.9) == 0 and pool.stats()["idle"] == 1
    assert idle_workers.reap(fraction=0.05) == 1 and pool.stats()["idle"] == 0
    assert _ends(pid)
