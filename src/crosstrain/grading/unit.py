"""One supervision unit per submission: a cgroup holding its notebook and script runs, its
sandbox, every worker the sandbox starts and the learner-code service's runs.

- **cgroup v2** where this process's cgroup can delegate the ``memory`` and ``pids``
  controllers: ``memory.max`` (which counts shared memory, memfd and tmpfs pages),
  ``memory.swap.max`` 0, ``pids.max``, and ``cgroup.kill`` for teardown.
- **cgroup v1** where ``memory`` and ``pids`` hierarchies are mounted writable (as root): the
  same limits (``memory.limit_in_bytes`` counts shmem too) and teardown by freezing
  (``freezer``) and killing every task.
- **neither**: no unit; the per-process limits, the per-uid sweep and the supervisor's
  process-tree limits still apply (:func:`describe` says which applies, for ``doctor``).

A process joins a unit by writing its pid to each of :meth:`Unit.procs_files` (as root, before
it drops to the learner's uid); its children are born inside. Units are named after the batch's
slot (:mod:`crosstrain.grading.reserve`), so what a killed run left is found and removed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
V1_CONTROLLERS = ("memory", "pids", "freezer")


@dataclass
class Unit:
    """One submission's cgroup (v2: one folder; v1: one folder per controller)."""

    kind: str  # "v2" or "v1"
    dirs: dict[str, Path]
    memory_mb: int

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def oom_kills(self) -> int:
        return oom_kills(self.kind, self.dirs)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs.values():
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found

    def kill(self) -> int:
        """Kill every process in the unit (none can fork meanwhile); return how many."""
        victims = self.pids()
        if self.kind == "v2":
            _write(self.dirs["unified"] / "cgroup.kill", "1")
        else:
            freezer = self.dirs.get("freezer")
            if freezer is not None:
                _write(freezer / "freezer.state", "FROZEN")
                _await(lambda: _read(freezer / "freezer.state") != "FREEZING", 1.0)
            for pid in self.pids():
                _kill(pid)
            if freezer is not None:
                _write(freezer / "freezer.state", "THAWED")
        _await(lambda: not self.pids(), 3.0)
        for pid in self.pids():  # born between the read and the freeze (no freezer)
            _kill(pid)
        return len(victims)

    def remove(self) -> None:
        self.kill()
        for d in self.dirs.values():
            try:
                d.rmdir()
            except OSError:
                continue


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
    except OSError:
        return False
    return True


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _await(done, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


def oom_kills(kind: str, dirs: dict[str, Path]) -> int:
    """How many processes the kernel killed for the unit's memory limit so far."""
    path = (
        dirs["unified"] / "memory.events" if kind == "v2" else dirs["memory"] / "memory.oom_control"
    )
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0


def _own_cgroups() -> dict[str, str]:
    """Controller (``unified`` for v2) → this process's cgroup path."""
    found = {}
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else ["unified"]:
                found[name] = path
    return found


def _mounts() -> dict[str, Path]:
    """Controller (``unified`` for the cgroup2 mount) → its mount point."""
    found: dict[str, Path] = {}
    with open("/proc/self/mounts") as fh:
        for line in fh:
            _, point, fstype, options, *_ = line.split()
            if fstype == "cgroup2":
                found.setdefault("unified", Path(point))
            elif fstype == "cgroup":
                for option in options.split(","):
                    if option in V1_CONTROLLERS:
                        found[option] = Path(point)
    return found


def _bases(slot: int) -> tuple[str, dict[str, Path]] | None:
    """Where this run's units go (inside this process's own cgroups), and the kind."""
    if os.geteuid() != 0:
        return None
    mounts, own = _mounts(), _own_cgroups()
    name = f"crosstrain-batch-{slot}"
    if "unified" in mounts and "unified" in own:
        base = mounts["unified"] / own["unified"].lstrip("/")
        if {"memory", "pids"} <= set(_read(base / "cgroup.controllers").split()):
            return "v2", {"unified": base / name}
    if all(c in mounts and c in own for c in ("memory", "pids")):
        dirs = {c: mounts[c] / own[c].lstrip("/") / name for c in V1_CONTROLLERS if c in mounts}
        return "v1", dirs
    return None


def _delegate_v2(base: Path) -> bool:
    """Let ``base``'s children have memory and pids limits (v2: no process may sit in a cgroup
    that delegates, so this process moves to a leaf of its own first)."""
    if _write(base / "cgroup.subtree_control", "+memory +pids"):
        return True
    leaf = base / "crosstrain-grader"
    leaf.mkdir(exist_ok=True)
    for pid in _read(base / "cgroup.procs").split():
        _write(leaf / "cgroup.procs", pid)
    return _write(base / "cgroup.subtree_control", "+memory +pids")


def create(slot: int, name: str, memory_mb: int, tasks: int) -> Unit | None:
    """A fresh unit for one submission, or ``None`` where cgroups cannot be used here."""
    found = _bases(slot)
    if found is None:
        return None
    kind, bases = found
    try:
        if kind == "v2":
            base = bases["unified"]
            if not _delegate_v2(base.parent):
                return None
            base.mkdir(exist_ok=True)
            if not _write(base / "cgroup.subtree_control", "+memory +pids"):
                return None
            unit_dir = base / name
            unit_dir.mkdir()
            ok = _write(unit_dir / "memory.max", str(memory_mb * MB))
            _write(unit_dir / "memory.swap.max", "0")
            ok = ok and _write(unit_dir / "pids.max", str(tasks))
            return Unit("v2", {"unified": unit_dir}, memory_mb) if ok else None
        dirs = {c: b / name for c, b in bases.items()}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        ok = _write(dirs["memory"] / "memory.limit_in_bytes", str(memory_mb * MB))
        ok = ok and _write(dirs["pids"] / "pids.max", str(tasks))
        unit = Unit("v1", dirs, memory_mb)
        if not ok:
            unit.remove()
            return None
        return unit
    except OSError:
        return None


def remove_batch(slot: int) -> None:
    """Kill and remove every unit of ``slot`` (a run that died left them behind)."""
    found = _bases(slot)
    if found is None:
        return
    kind, bases = found
    names = {p.name for b in bases.values() if b.is_dir() for p in b.iterdir() if p.is_dir()}
    for name in names:
        if name != "crosstrain-grader":
            Unit(kind, {c: b / name for c, b in bases.items()}, 0).remove()
    for b in bases.values():
        try:
            b.rmdir()
        except OSError:
            continue


def join(procs_files: list[str]) -> None:
    """Move this process into a unit (in a child, as root, before it drops its user)."""
    pid = str(os.getpid())
    for path in procs_files:
        with open(path, "w") as fh:
            fh.write(pid)


@functools.cache
def describe() -> str:
    """Which supervision unit grading uses on this machine, in one sentence (``doctor``)."""
    found = _bases(0)
    if found is None:
        return (
            "no cgroups (not root, or no writable memory and pids controllers): per-process "
            "limits, the process-tree supervisor and the per-uid sweep apply; shared memory "
            "(memfd, tmpfs) is not counted"
        )
    kind, _ = found
    if kind == "v2":
        return "cgroup v2 per submission: memory.max (shared memory counted), pids.max, cgroup.kill"
    return (
        "cgroup v1 per submission: memory.limit_in_bytes (shared memory counted), pids.max, "
        "freezer teardown"
    )
