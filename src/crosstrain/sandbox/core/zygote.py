"""A zygote process: a pre-forked parent that new workers fork from, copy-on-write.

A *zygote* runs :mod:`crosstrain.sandbox.core.zygote_process` as a script: it imports what it
is told to preload, then forks a worker per request on its control socket (answering with a child
forked ahead of time, so the fork itself is off the cold start's path). The forked worker then
receives the same setup frame as a blank one. Which zygotes exist and what they preload is
:mod:`crosstrain.sandbox.core.zygotes`' business.

Forked workers are the zygote's children, not ours: the zygote reaps them and reports exit codes
over its control socket; :class:`ForkedProcess` gives them ``subprocess.Popen``'s shape.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping

from crosstrain.sandbox.core.worker_spawner import spawner

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote_process.py")

READY_TIMEOUT = 120.0  # seconds a zygote may take to preload
FORK_TIMEOUT = 10.0


class ZygoteGone(Exception):
    """The zygote exited or did not answer; start the worker blank instead."""


class ForkedProcess:
    """A worker forked by a zygote, with the parts of ``subprocess.Popen`` the pool uses."""

    def __init__(self, zygote: Zygote, pid: int, stdin_fd: int, stdout_fd: int, inherited: float):
        self.zygote = zygote
        self.pid = pid
        self.stdin = os.fdopen(stdin_fd, "wb", buffering=0)
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)
        self.inherited_mb = inherited  # copy-on-write memory shared with the zygote
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.poll() is None:
            self.returncode = self.zygote.wait_exit(self.pid, timeout)
        return self.returncode


class Zygote:
    """One zygote process and the thread that reads what it reports."""

    def __init__(self, modules: tuple[str, ...], factories: tuple[str, ...], env: Mapping):
        self.modules, self.factories = modules, factories
        self.packages = tuple(sorted({m.partition(".")[0] for m in modules}))
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        setup = {"fd": theirs.fileno(), "modules": list(modules), "factories": list(factories)}
        full_env = {
            **env,
            "CROSSTRAIN_WORKER_PARENT": str(os.getpid()),
            "CROSSTRAIN_ZYGOTE": json.dumps(setup),
        }
        with theirs:
            self.process = spawner().submit(self._popen, full_env, theirs.fileno()).result()
        self._cond = threading.Condition()
        self._exits: dict[int, int] = {}
        self._forked: list[tuple[int, float]] = []
        self._fork_lock = threading.Lock()
        self.dead = False
        self._sock.settimeout(READY_TIMEOUT)
        try:
            first = self._sock.recv(4096)
        except OSError:
            first = b""
        if not first.startswith(b"ready "):
            self.kill()
            why = "a preloaded module started a thread" if first == b"threads" else "no answer"
            raise ZygoteGone(f"the zygote did not start: {why}")
        self.failed = json.loads(first[6:])
        self._sock.settimeout(None)
        threading.Thread(target=self._reader, name="crosstrain-zygote", daemon=True).start()

    @staticmethod
    def _popen(env: dict, fd: int) -> subprocess.Popen:  # on the spawner thread (PDEATHSIG)
        return subprocess.Popen(
            [sys.executable, "-u", SCRIPT],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            pass_fds=[fd],
            process_group=0,
        )

    def fork(self) -> ForkedProcess:
        """A new worker process, waiting for its setup frame like a blank one."""
        child_in, ours_in = os.pipe()
        ours_out, child_out = os.pipe()
        try:
            with self._fork_lock, self._cond:
                if self.dead:
                    raise ZygoteGone("the zygote has exited")
                try:
                    socket.send_fds(self._sock, [b"fork"], [child_in, child_out])
                except OSError as exc:
                    raise ZygoteGone(str(exc)) from None
                if not self._cond.wait_for(lambda: self._forked or self.dead, FORK_TIMEOUT):
                    raise ZygoteGone("the zygote did not fork in time")
                if not self._forked:
                    raise ZygoteGone("the zygote has exited")
                pid, inherited = self._forked.pop(0)
        except BaseException:
            for fd in (ours_in, ours_out):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        return ForkedProcess(self, pid, ours_in, ours_out, inherited)

    def exit_code(self, pid: int) -> int | None:
        with self._cond:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float | None) -> int:
        with self._cond:
            if not self._cond.wait_for(lambda: pid in self._exits or self.dead, timeout):
                raise subprocess.TimeoutExpired(f"worker {pid}", timeout)
            # A zygote that died took its workers with it (PDEATHSIG): report them killed.
            return self._exits.get(pid, -signal.SIGKILL)

    def _reader(self) -> None:
        while True:
            try:
                message = self._sock.recv(4096)
            except OSError:
                message = b""
            with self._cond:
                if not message:
                    self.dead = True
                    self._cond.notify_all()
                    break
                kind, _, rest = message.decode().partition(" ")
                if kind == "forked":
                    pid, inherited = rest.split()
                    self._forked.append((int(pid), float(inherited)))
                elif kind == "exit":
                    pid, code = rest.split()
                    self._exits[int(pid)] = int(code)
                self._cond.notify_all()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._sock.close()

    def retire(self) -> None:
        """Fork no more; the zygote exits once its last worker has."""
        with self._fork_lock, contextlib.suppress(OSError):
            self._sock.send(b"retire")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
