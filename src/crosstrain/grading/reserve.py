"""What one ``crosstrain grade`` run holds for itself: a slot, its uids and its temporary folder.

Runs on one machine take different slots, each held by an exclusive ``flock`` on
``<tmp>/crosstrain-grading-<euid>/batch-<slot>.lock`` for as long as the run lives. A slot owns

- a range of :data:`UIDS_PER_BATCH` bare uids: each submission is graded as a fresh one, never
  reused within the run, never shared with a concurrent run;
- a temporary folder ``batch-<slot>/`` that holds every submission's folder;
- the cgroups named after it (:mod:`crosstrain.grading.unit`).

A lock nobody holds belongs to a run that died (``kill -9``): the next run sweeps what it left
(its learners' processes, its folder, its cgroups) — and never touches a slot that is held.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from crosstrain.errors import CrosstrainError
from crosstrain.grading.jail import FIRST_LEARNER_UID

UIDS_PER_BATCH = 100_000
SLOTS = (2**31 - 1 - FIRST_LEARNER_UID) // UIDS_PER_BATCH  # uids stay below 2**31


def lock_root() -> Path:
    return Path(tempfile.gettempdir()) / f"crosstrain-grading-{os.geteuid()}"


@dataclass
class Reservation:
    """A held slot: its uids (:meth:`next_uid`) and its folder (:attr:`root`)."""

    slot: int
    fd: int
    uids_used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def root(self) -> Path:
        return lock_root() / f"batch-{self.slot}"

    @property
    def first_uid(self) -> int:
        return FIRST_LEARNER_UID + self.slot * UIDS_PER_BATCH

    def next_uid(self) -> int:
        """A uid no submission of this run (or of any other live run) has had."""
        with self._lock:
            if self.uids_used >= UIDS_PER_BATCH:
                raise CrosstrainError(
                    f"this run graded {UIDS_PER_BATCH} submissions; run the command again to "
                    "grade the rest"
                )
            self.uids_used += 1
            return self.first_uid + self.uids_used - 1

    def owns(self, uid: int) -> bool:
        return self.first_uid <= uid < self.first_uid + UIDS_PER_BATCH

    def release(self) -> None:
        """Sweep what the run leaves, then let the slot go."""
        sweep(self.slot)
        os.close(self.fd)


def _try_lock(slot: int) -> int | None:
    root = lock_root()
    root.mkdir(mode=0o755, exist_ok=True)
    fd = os.open(root / f"batch-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def reserve() -> Reservation:
    """Take the first free slot (sweeping what a dead run left in it), and sweep every other
    slot whose run died; a slot another live run holds is never touched."""
    mine = None
    for slot in range(SLOTS):
        fd = _try_lock(slot)
        if fd is None:
            continue
        sweep(slot)
        if mine is None:
            mine = Reservation(slot, fd)
            mine.root.mkdir(mode=0o755)
        else:
            os.close(fd)
        if mine is not None and not _slot_files(slot + 1):
            break
    if mine is None:
        raise CrosstrainError("every grading slot on this machine is taken; wait for a run to end")
    return mine


def _slot_files(start: int) -> list[Path]:
    root = lock_root()
    return [
        p
        for p in root.glob("batch-*.lock")
        if p.stem.removeprefix("batch-").isdigit() and int(p.stem.removeprefix("batch-")) >= start
    ]


def sweep(slot: int) -> int:
    """Kill the processes of the slot's uids, remove its folder and cgroups; return how many
    processes were killed."""
    from crosstrain.grading import unit

    first = FIRST_LEARNER_UID + slot * UIDS_PER_BATCH
    killed = kill_uids(range(first, first + UIDS_PER_BATCH))
    unit.remove_batch(slot)
    folder = lock_root() / f"batch-{slot}"
    if folder.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(folder)], check=False)
    return killed


def kill_uids(uids: range) -> int:
    """SIGSTOP, then SIGKILL, every process whose real or effective uid is in ``uids`` (only
    learner uids: never the grader's or anyone else's)."""
    if os.geteuid() != 0:
        return 0
    found = []
    for proc in psutil.process_iter(["uids"]):
        ids = proc.info.get("uids")
        if ids and (ids.real in uids or ids.effective in uids):
            found.append(proc)
    for sig in (signal.SIGSTOP, signal.SIGKILL):  # frozen first: none can fork a successor
        for proc in found:
            try:
                proc.send_signal(sig)
            except psutil.Error:
                continue
    return len(found)
