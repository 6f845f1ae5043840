"""Each grade run holds its own slot: fresh uids, its own folder; a dead run's leftovers are swept
by the next run, a live run's never."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from crosstrain.grading import reserve

HOLD = textwrap.dedent(
    """
    import sys, time
    from crosstrain.grading.reserve import reserve
    held = reserve()
    (held.root / "sub-live").mkdir()
    print(held.slot, flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def holder():
    """Another grade run, alive, holding a slot (a subprocess that reserved one)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    slot = int(proc.stdout.readline())
    yield slot, proc
    proc.kill()
    proc.wait()


def test_uids_are_never_reused_within_a_run():
    held = reserve.reserve()
    try:
        uids = [held.next_uid() for _ in range(50)]
        assert len(set(uids)) == 50 and all(held.owns(u) for u in uids)
    finally:
        held.release()


def test_two_live_runs_never_share_a_slot_or_uids(holder):
    slot, _ = holder
    held = reserve.reserve()
    try:
        assert held.slot != slot
        other = reserve.FIRST_LEARNER_UID + slot * reserve.UIDS_PER_BATCH
        assert not held.owns(other) and not held.owns(other + reserve.UIDS_PER_BATCH - 1)
    finally:
        held.release()


def test_a_killed_runs_folder_is_swept_and_a_live_runs_is_not(holder):
    live_slot, _ = holder
    dead = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    dead_slot = int(dead.stdout.readline())
    dead.kill()  # kill -9: no chance to clean up
    dead.wait()
    dead_root = reserve.lock_root() / f"batch-{dead_slot}"
    assert (dead_root / "sub-live").is_dir()
    held = reserve.reserve()
    try:
        assert not (dead_root / "sub-live").exists()  # (the slot itself may be ours now)
        assert (reserve.lock_root() / f"batch-{live_slot}" / "sub-live").is_dir()
    finally:
        held.release()


@pytest.mark.skipif(os.geteuid() != 0, reason="learner uids need root")
def test_a_dead_runs_learner_processes_are_killed():
    held = reserve.reserve()
    uid = held.next_uid()
    sleeper = subprocess.Popen(["sleep", "60"], preexec_fn=lambda: (os.setgid(uid), os.setuid(uid)))
    os.close(held.fd)  # the run dies without releasing its slot
    try:
        again = reserve.reserve()  # takes the same (now free) slot and sweeps it first
        again.release()
        deadline = time.monotonic() + 5
        while sleeper.poll() is None:
            assert time.monotonic() < deadline, "the dead run's learner process survived"
            time.sleep(0.05)
    finally:
        sleeper.kill()
