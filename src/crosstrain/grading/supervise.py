"""The supervisor: runs one learner command under limits and reports what happened as JSON.

Started by :mod:`crosstrain.grading.isolate` as ``python -I -m crosstrain.grading.supervise`` with
its configuration on stdin. It makes itself a child subreaper, so every process the learner's
code starts (even one that double-forks or calls ``setsid``) stays its descendant; it enforces
the wall time, the memory of the whole tree, the number of processes, the disk used by the
submission's folder and the captured output; and when the command ends, or a limit is hit, it
freezes and kills every descendant. Its one line of JSON output says what happened.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import deque

import psutil

from crosstrain.grading import jail, unit

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
MB = 1024 * 1024
POLL = 0.1
DISK_EVERY = 0.5


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


class Capture:
    """Drains a pipe, keeping the first and last ``cap / 2`` bytes and counting the rest."""

    def __init__(self, stream, cap: int):
        self.stream, self.half = stream, max(1, cap // 2)
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while chunk := self.stream.read1(1 << 20):
            self.total += len(chunk)
            room = self.half - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail.append(chunk)
                self.tail_size += len(chunk)
                while self.tail_size - len(self.tail[0]) >= self.half:
                    self.tail_size -= len(self.tail.popleft())

    def text(self) -> str:
        tail = b"".join(self.tail)[-self.half :]
        skipped = self.total - len(self.head) - len(tail)
        middle = f"\n[... {skipped} bytes of output not kept ...]\n".encode() if skipped else b""
        return (bytes(self.head) + middle + tail).decode(errors="replace")


def entries(folder: str | os.PathLike):
    """Every entry under ``folder``, links not followed. A stack, not recursion, so a tree
    thousands of folders deep is walked, not a crash (``os.walk`` recurses before 3.12)."""
    pending = [os.fspath(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as found:
                for entry in found:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    yield entry
        except OSError:
            continue


def folder_bytes(folder: str, stop_at: int) -> int:
    """Bytes used under ``folder`` (stops counting once past ``stop_at``)."""
    total = 0
    for entry in entries(folder):
        try:
            if not entry.is_dir(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue
        if total > stop_at:
            return total
    return total


def descendants(exclude: int = 0) -> list[psutil.Process]:
    """Our live descendants (orphans included: we are their subreaper), except ``exclude``."""
    try:
        procs = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    alive = []
    for proc in procs:
        try:
            if proc.pid != exclude and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.Error:
            continue
    return alive


def kill_all(exclude: int = 0) -> int:
    """Freeze every descendant (so none can fork), then kill them all; return how many."""
    seen: dict[int, psutil.Process] = {}
    for _ in range(50):
        fresh = [p for p in descendants(exclude) if p.pid not in seen]
        if not fresh:
            break
        for proc in fresh:
            seen[proc.pid] = proc
            try:
                proc.send_signal(signal.SIGSTOP)
            except psutil.Error:
                continue
    for proc in seen.values():
        try:
            proc.kill()
        except psutil.Error:
            continue
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        reap()
        if not any(_running(p) for p in seen.values()):
            break
        time.sleep(0.01)
    return len(seen)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def reap() -> None:
    """Collect exited orphans that were reparented to us."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def limiter(config: dict):
    """The ``preexec_fn`` of the learner's command: limits, parent-death signal, jail, user."""
    memory = config["memory_mb"] * MB
    disk = config["disk_mb"] * MB
    cpu = int(config["timeout"]) + 30
    user = config.get("run_as")
    plan = config.get("jail")
    cgroup = config.get("cgroup") or {}
    netns = config.get("netns")

    supervisor = os.getpid()

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        if config.get("nproc"):
            resource.setrlimit(resource.RLIMIT_NPROC, (config["nproc"], config["nproc"]))
        if cgroup:
            unit.join(cgroup["procs"])
        if netns:
            jail.enter_netns(netns)
        if plan is not None:
            jail.enter(plan)
        if user is not None:
            jail.drop_to(user)
        # After the user change: changing credentials clears the parent-death signal.
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != supervisor:  # the supervisor died before the signal was armed
            os._exit(1)

    return apply


def supervise(config: dict) -> dict:
    """Run ``config['argv']`` under the limits in ``config``; return the report."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    cgroup = config.get("cgroup") or {}
    ooms = unit.oom_kills(cgroup["kind"], _dirs(cgroup)) if cgroup else 0
    started = time.monotonic()
    proc = subprocess.Popen(
        config["argv"],
        cwd=config["cwd"],
        env=config["env"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=limiter(config),  # noqa: PLW1509 - this process has no other threads yet
        start_new_session=True,
    )
    capture = Capture(proc.stdout, config["output_kb"] * 1024)
    verdict, peak = watch(proc, config, started, stopping)
    if proc.poll() is None:  # a limit was hit: stop the command before sweeping its tree
        proc.send_signal(signal.SIGSTOP)
        kill_all(exclude=proc.pid)
        proc.kill()
        returncode, leftovers = proc.wait(), 0
    else:
        returncode = proc.wait()
        leftovers = kill_all()
    reap()
    capture.thread.join(timeout=5)
    if verdict == "orphaned":
        sys.exit(1)
    if not verdict and cgroup and unit.oom_kills(cgroup["kind"], _dirs(cgroup)) > ooms:
        verdict = "memory"  # the unit's limit (shared memory counted): the kernel killed
    return {
        "verdict": verdict,
        "returncode": returncode,
        "seconds": round(time.monotonic() - started, 3),
        "peak_rss_mb": round(peak / MB, 1),
        "killed": leftovers,
        "output": capture.text(),
        "output_bytes": capture.total,
    }


def _dirs(cgroup: dict) -> dict:
    from pathlib import Path

    return {k: Path(v) for k, v in cgroup["dirs"].items()}


def watch(proc, config: dict, started: float, stopping: threading.Event) -> tuple[str, int]:
    """Poll until the command ends or breaks a limit; return (verdict, peak resident bytes)."""
    parent = os.getppid()
    timeout, memory_cap = config["timeout"], config["memory_mb"] * MB
    disk_cap, max_procs = config["disk_mb"] * MB, config["max_processes"]
    verdict, peak, next_disk = "", 0, 0.0
    while proc.poll() is None:
        time.sleep(POLL)
        now = time.monotonic()
        procs = descendants()
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
            except psutil.Error:
                continue
        peak = max(peak, rss)
        if now - started > timeout:
            verdict = "timeout"
        elif rss > memory_cap:
            verdict = "memory"
        elif len(procs) > max_procs:
            verdict = "processes"
        elif os.getppid() != parent or stopping.is_set():
            verdict = "orphaned"
        elif now >= next_disk:
            next_disk = now + DISK_EVERY
            if folder_bytes(config["folder"], disk_cap) > disk_cap:
                verdict = "disk"
        if verdict:
            break
    return verdict, peak


def main() -> None:
    config = json.loads(sys.stdin.read())
    sys.stdin.close()
    report = supervise(config)
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
