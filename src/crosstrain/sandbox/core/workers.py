"""Worker subprocesses that load code once and serve many requests over a pipe.

A :class:`WorkerPool` runs up to ``max_workers`` Python subprocesses for one :class:`WorkerSpec`.
A worker imports the spec's *factory* (``"module:function"`` or ``"/path/file.py:function"``),
calls it once with the spec's ``config`` and gets back ``serve(header, body) -> (header, body)``,
which then answers every request sent to that worker. Warm workers are reused (at most
:data:`~crosstrain.sandbox.core.idle.idle_workers`' cap idle in the whole sandbox); a worker that
times out, exceeds its memory limit or dies is killed and replaced on the next call.

The protocol is length-prefixed frames (JSON header + raw bytes body) on the worker's stdin and
stdout; the worker's stdout/stderr go to a file the parent reads after each call
(:attr:`CallInfo.output`). Limits: a per-call timeout; memory as the worker's own anonymous
resident memory, sampled while the parent waits, with ``RLIMIT_AS`` as a hard ceiling;
``PR_SET_PDEATHSIG`` so no worker outlives the process that started it. A worker forks from a
zygote with the heavy imports done (:mod:`crosstrain.sandbox.core.zygotes`) or starts as a blank
Python (:mod:`crosstrain.sandbox.core.worker_spawner`); its environment, folder and output file
arrive with its setup frame. Nothing here knows about Lambda or SageMaker. The child's side is
:mod:`crosstrain.sandbox.core.worker_process`, run as a script so a cold start imports little.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.sandbox.core.idle import idle_workers
from crosstrain.sandbox.core.worker_process import FRAME, anon_memory_mb
from crosstrain.sandbox.core.worker_spawner import blank_process, exit_status, kill_process
from crosstrain.sandbox.core.zygotes import zygotes

_TICK = 0.02  # seconds between memory samples while a call runs


class WorkerError(Exception):
    """A call could not complete; ``info`` holds what was seen (output, duration, memory)."""

    def __init__(self, message: str, info: CallInfo):
        super().__init__(message)
        self.info = info


class WorkerTimeout(WorkerError):
    """The call ran past its timeout; the worker was killed."""


class WorkerMemoryExceeded(WorkerError):
    """The worker went over its memory limit; it was killed."""


class WorkerDied(WorkerError):
    """The worker process exited (``os._exit``, a signal, a crash) during the call."""

    def __init__(self, message: str, info: CallInfo, exit_status: str):
        super().__init__(message, info)
        self.exit_status = exit_status


class WorkerInitError(WorkerError):
    """The factory raised while the worker was loading; ``error`` describes the exception."""

    def __init__(self, message: str, info: CallInfo, error: dict):
        super().__init__(message, info)
        self.error = error


class PoolFull(Exception):
    """Every worker is busy and the caller asked not to wait."""


class PoolClosed(Exception):
    """The pool was closed (the sandbox is stopping)."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker runs: the factory, its config, and the process it runs in."""

    factory: str
    config: dict = field(default_factory=dict)
    env: dict[str, str] | None = None  # the worker's whole environment (None: inherit ours)
    cwd: str | None = None
    path: tuple[str, ...] = ()  # prepended to sys.path before the factory is imported
    memory_mb: int | None = None
    init_timeout: float = 30.0


@dataclass
class CallInfo:
    """What one call (and the cold start before it, if any) looked like."""

    output: str = ""
    duration: float = 0.0
    max_memory_mb: float = 0.0
    cold: bool = False
    init_duration: float | None = None
    init_output: str = ""
    worker_id: str = ""


@dataclass
class Result:
    """A served call: ``ok`` is False when ``serve`` raised (``error`` then describes it)."""

    ok: bool
    header: dict
    body: bytes
    info: CallInfo
    error: dict | None = None


class Worker:
    """One worker subprocess (used by :class:`WorkerPool`; one call at a time)."""

    def __init__(self, spec: WorkerSpec, output_dir: Path, worker_id: str):
        self.spec = spec
        self.id = worker_id
        self.output_path = output_dir / f"{worker_id}.out"
        self.process: subprocess.Popen | None = None
        self.uses = 0
        self.last_used = time.monotonic()
        self.generation = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> CallInfo:
        """Fork from a zygote (or take a spare, or start one) and wait until the factory loaded."""
        self.output_path.touch()
        self.process = zygotes.process_for(self.spec) or blank_process()
        info = CallInfo(cold=True, worker_id=self.id)
        began = time.perf_counter()
        self._send(
            {
                "factory": self.spec.factory,
                "config": self.spec.config,
                "path": list(self.spec.path),
                "memory_mb": self.spec.memory_mb,
                "env": dict(os.environ if self.spec.env is None else self.spec.env),
                "cwd": self.spec.cwd,
                "output": str(self.output_path),
            },
            b"",
        )
        try:
            header, _ = self._receive(self.spec.init_timeout, info)
        finally:
            info.init_duration = time.perf_counter() - began
            info.init_output = self.read_output()
        if not header.get("ready"):
            error = header.get("error") or {}
            self.kill()
            raise WorkerInitError(
                f"{error.get('type', 'Error')}: {error.get('message', '')}", info, error
            )
        zygotes.learn(self.spec, header.get("imports") or [])
        return info

    @property
    def forked(self) -> bool:
        """Whether this worker was forked from a zygote (else it started blank)."""
        return hasattr(self.process, "inherited_mb")

    def call(self, header: dict, body: bytes, timeout: float, info: CallInfo) -> Result:
        """Send one request; wait for its answer at most ``timeout`` seconds."""
        self.uses += 1
        began = time.perf_counter()
        try:
            self._send(header, body)
            answer, payload = self._receive(timeout, info)
        finally:
            info.duration = time.perf_counter() - began
            info.output = self.read_output()
            self.last_used = time.monotonic()
        info.max_memory_mb = max(info.max_memory_mb, answer.get("memory_mb", 0.0))
        if answer.get("imports"):  # what the first call imported lazily
            zygotes.learn(self.spec, answer["imports"])
        if answer.get("ok"):
            return Result(True, answer.get("header") or {}, payload, info)
        return Result(False, {}, payload, info, error=answer.get("error") or {})

    def read_output(self) -> str:
        """What the worker printed since the last read (the file is emptied)."""
        try:
            with open(self.output_path, "r+b") as fh:
                data = fh.read()
                fh.truncate(0)
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def kill(self, wait: bool = True) -> None:
        if self.process is not None:
            kill_process(self.process, wait)

    def close(self, wait: bool = True) -> None:
        """Kill the process and remove its output file (``wait=False``: a forked worker's end
        is not waited for; its zygote reaps it)."""
        self.kill(wait)
        with contextlib.suppress(OSError):
            self.output_path.unlink()

    # -- frames --------------------------------------------------------------------------------
    def _send(self, header: dict, body: bytes) -> None:
        data = json.dumps(header).encode()
        # A worker that is gone raises here; _receive then reports how it ended.
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.process.stdin.write(FRAME.pack(len(data), len(body)) + data + body)

    def _receive(self, timeout: float, info: CallInfo) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout
        head = self._read(FRAME.size, deadline, timeout, info)
        header_len, body_len = FRAME.unpack(head)
        rest = self._read(header_len + body_len, deadline, timeout, info)
        return json.loads(rest[:header_len]), rest[header_len:]

    def _read(self, size: int, deadline: float, timeout: float, info: CallInfo) -> bytes:
        fd = self.process.stdout.fileno()
        chunks, remaining = [], size
        limit = self.spec.memory_mb
        while remaining:
            ready, _, _ = select.select([fd], [], [], _TICK)
            if ready:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    code = self.process.wait(timeout=5)
                    status = exit_status(code)
                    raise WorkerDied(f"worker exited ({status})", info, status)
                chunks.append(chunk)
                remaining -= len(chunk)
                continue
            used = anon_memory_mb(self.process.pid)
            used = max(0.0, used - getattr(self.process, "inherited_mb", 0.0)) if used else 0.0
            info.max_memory_mb = max(info.max_memory_mb, used)
            if limit and used > limit:
                self.kill()
                raise WorkerMemoryExceeded(
                    f"worker used {used:.0f} MB, over its {limit} MB limit", info
                )
            if time.monotonic() > deadline:
                self.kill()
                raise WorkerTimeout(f"timed out after {timeout:.2f} seconds", info)
        return b"".join(chunks)


class WorkerPool:
    """Up to ``max_workers`` warm workers of one spec; a call takes a free one or starts one."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        max_workers: int = 4,
        idle_seconds: float = 600.0,
        output_dir: Path | None = None,
        name: str = "pool",
    ):
        self.spec = spec
        self.max_workers = max(0, max_workers)
        self.idle_seconds = idle_seconds
        self.name = name
        self._own_dir = output_dir is None
        self._dir = Path(output_dir or tempfile.mkdtemp(prefix="crosstrain-workers-"))
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._cond = threading.Condition()
        self._closed = False
        self._generation = 0
        self._count = 0

    def call(
        self,
        header: dict,
        body: bytes = b"",
        *,
        timeout: float,
        wait: bool = True,
    ) -> Result:
        """Serve one request; raises :class:`WorkerError` subclasses, ``PoolFull``, ``PoolClosed``.

        ``wait=False`` raises :class:`PoolFull` at once when ``max_workers`` are busy.
        """
        worker, info = self._acquire(wait)
        try:
            if not worker.alive():
                info = worker.start()
            result = worker.call(header, body, timeout, info)
        except BaseException:
            self._discard(worker)
            raise
        self._release(worker)
        return result

    def _acquire(self, wait: bool) -> tuple[Worker, CallInfo]:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed(f"{self.name} is closed")
                while self._idle:
                    worker = self._idle.pop()
                    idle_workers.take(worker)
                    if worker.alive():
                        self._busy.add(worker)
                        return worker, CallInfo(worker_id=worker.id)
                    worker.close()
                if len(self._busy) < self.max_workers:
                    self._count += 1
                    worker = Worker(self.spec, self._dir, f"{self.name}-{self._count}")
                    worker.generation = self._generation
                    self._busy.add(worker)
                    return worker, CallInfo()
                if not wait:
                    raise PoolFull(f"all {self.max_workers} workers of {self.name} are busy")
                self._cond.wait()

    def _release(self, worker: Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            parked = not (
                self._closed or worker.generation != self._generation or not worker.alive()
            )
            if parked:
                self._idle.append(worker)
            else:
                worker.close(wait=False)
            self._cond.notify()
        if parked:  # outside our lock: parking may evict a worker of any pool, this one too
            idle_workers.park(worker, self)

    def evict(self, worker: Worker) -> None:
        """Stop ``worker`` if it is still idle here (the global idle cap or time-out chose it)."""
        with self._cond:
            if worker not in self._idle:
                return
            self._idle.remove(worker)
        worker.close(wait=False)

    def _discard(self, worker: Worker) -> None:
        worker.close()
        with self._cond:
            self._busy.discard(worker)
            self._cond.notify()

    def retire(self) -> None:
        """Stop idle workers now and busy ones when their call ends (code or config changed)."""
        with self._cond:
            self._generation += 1
            idle, self._idle = self._idle, []
        for worker in idle:
            idle_workers.take(worker)
            worker.close(wait=False)

    def pids(self) -> list[int]:
        with self._cond:
            return [w.pid for w in [*self._idle, *self._busy] if w.pid and w.alive()]

    def stats(self) -> dict:
        with self._cond:
            return {"idle": len(self._idle), "busy": len(self._busy), "max": self.max_workers}

    def busy(self) -> int:
        with self._cond:
            return len(self._busy)

    def close(self, kill_busy: bool = True) -> None:
        """Stop the workers; later calls raise :class:`PoolClosed`.

        ``kill_busy=False`` lets running calls finish (their workers stop when they return).
        """
        with self._cond:
            self._closed = True
            for worker in self._idle:
                idle_workers.take(worker)
            workers = [*self._idle, *(self._busy if kill_busy else ())]
            self._idle = []
            self._cond.notify_all()
        for worker in workers:
            worker.close(wait=kill_busy)
        if self._own_dir and (kill_busy or not self._busy):
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
