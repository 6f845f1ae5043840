"""How worker processes start and end, for :mod:`crosstrain.sandbox.core.workers`.

Every worker process is forked by one long-lived spawner thread (``PR_SET_PDEATHSIG`` fires when
the thread that forked a child ends), starts as a *blank* Python running
:mod:`crosstrain.sandbox.core.worker_process` and waits for its setup frame. Once workers are in
use one blank spare is kept started (:func:`blank_process` takes it), so a cold start skips
Python's own start-up. :func:`kill_process` ends a worker and its process group;
:func:`exit_status` words how a worker ended, as AWS reports a dead runtime.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

CHILD = Path(__file__).with_name("worker_process.py")

_spawner = None  # a ThreadPoolExecutor with one long-lived thread
_spawner_lock = threading.Lock()


def spawner():
    """One long-lived thread that starts every worker process.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that forked the child ends, so workers must not
    be forked from short-lived request threads.
    """
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            from concurrent.futures import ThreadPoolExecutor

            _spawner = ThreadPoolExecutor(1, thread_name_prefix="crosstrain-spawner")
    return _spawner


def popen_blank() -> subprocess.Popen:
    """A worker process that starts Python and waits for its setup frame (spawner thread only)."""
    return subprocess.Popen(
        [sys.executable, "-u", str(CHILD)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CROSSTRAIN_WORKER_PARENT": str(os.getpid())},
        process_group=0,
        bufsize=0,
    )


def start_blank() -> subprocess.Popen:
    return spawner().submit(popen_blank).result()


class Spares:
    """One blank worker kept ready once workers are in use, so a cold start skips Python's own
    start-up (tens of milliseconds). It dies with this process like any worker."""

    def __init__(self):
        self._lock = threading.Lock()
        self._spare: subprocess.Popen | None = None
        self._filling = False

    def take(self) -> subprocess.Popen | None:
        with self._lock:
            spare, self._spare = self._spare, None
        self._refill()
        if spare is not None and spare.poll() is None:
            return spare
        return None

    def _refill(self) -> None:
        with self._lock:
            if self._filling or self._spare is not None:
                return
            self._filling = True
        spawner().submit(self._fill)

    def _fill(self) -> None:  # runs on the spawner thread
        try:
            spare = popen_blank()
        finally:
            with self._lock:
                self._filling = False
        with self._lock:
            self._spare, extra = spare, self._spare
        if extra is not None:
            kill_process(extra)

    def close(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            kill_process(spare)


def kill_process(process: subprocess.Popen, wait: bool = True) -> None:
    """SIGKILL the worker and whatever it started (its process group), then reap it.

    ``wait=False``: a worker forked from a zygote (the zygote reaps it) is not waited for.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if wait or not hasattr(process, "zygote"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


spares = Spares()
atexit.register(spares.close)


def blank_process() -> subprocess.Popen:
    """A blank worker process: the spare if one is ready, else a new one."""
    return spares.take() or start_blank()


# How the Lambda runtime interface (written in Go) names the signals that end a process.
SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
}


def exit_status(code: int | None) -> str:
    """``exit status 3`` or ``signal: segmentation fault``, as AWS reports a dead runtime."""
    if code is None:
        return "unknown"
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"signal: {-code}"
        return f"signal: {SIGNAL_NAMES.get(sig, sig.name.lower())}"
    return f"exit status {code}"
