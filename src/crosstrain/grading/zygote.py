"""Pre-imported sandboxes: a fork server that pays a sandbox's Python start-up once per batch.

Starting a submission's sandbox costs ~0.9 s of CPU, two thirds of it importing moto and the
router. The zygote (``python -m crosstrain.grading.zygote FD``, started once per batch with the
sandbox's scrubbed environment, no secret, before any learner code) imports all of that once;
each submission's sandbox is then a **fresh process forked from it**, which — exactly as the
jail launcher does for a new process — joins the submission's cgroup and network namespace,
makes its private mounts and becomes the submission's own uid, then serves. Isolation is that
of a freshly started sandbox: no process, uid, namespace or state is ever shared by two
submissions; only read-only library code is.

The zygote never reads a request itself: it forks a *pending* child that reads exactly one
request from the socket, so no submission's data (paths, sandbox tokens) is ever in the
zygote's memory, nor in a later submission's fork of it. The child answers with the sandbox's
ready line on the same socket and closes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading

from crosstrain.sandbox import Sandbox
from crosstrain.sandbox.core.handle import SandboxError

READY_TIMEOUT = 60.0
REGION = "us-east-1"


def server_argv() -> list[str]:
    """The sandbox server's options, as :func:`crosstrain.sandbox.start` passes them (no
    state kept, a free port on 127.0.0.1, crosstrain's settings for the rest)."""
    from crosstrain.sandbox.core.handle import _server_command

    command = _server_command({"host": "127.0.0.1", "port": 0, "region": REGION}, None, None, None)
    return command[command.index("-m") + 2 :]


class SandboxZygote:
    """The grader's side: start the fork server, ask it for sandboxes, stop it."""

    def __init__(self, env: dict[str, str]):
        from crosstrain.grading import jail

        ours, theirs = socket.socketpair()
        self.sock = ours
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            jail.python_module("crosstrain.grading.zygote", str(theirs.fileno())),
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
        )
        theirs.close()

    def start(
        self,
        argv: list[str],
        env: dict[str, str],
        spec: dict,
        region: str,
        access_key: str | None = None,
    ) -> Sandbox:
        """A fresh sandbox forked from the zygote, inside ``spec`` (the jail launcher's spec:
        ``procs``, ``netns``, ``plan``, ``user``, ``nproc``), with ``env``; ``access_key`` as
        :func:`crosstrain.sandbox.start`'s ``token`` (the only key the sandbox serves)."""
        token = secrets.token_hex(16)
        extra = {"PYTHONUNBUFFERED": "1", "CROSSTRAIN_SANDBOX_TOKEN": token}
        if access_key:
            extra["CROSSTRAIN_SANDBOX_ACCESS_KEY"] = access_key
        request = {"argv": argv, "env": env | extra, "spec": spec}
        with self.lock:
            if self.process.poll() is not None:
                raise SandboxError("the sandbox zygote has exited; run the command again")
            self.sock.settimeout(READY_TIMEOUT)
            try:
                self.sock.sendall(json.dumps(request).encode() + b"\n")
                message = json.loads(_recv_line(self.sock) or b"{}")
            except (OSError, ValueError) as exc:
                raise SandboxError(f"the sandbox zygote did not answer: {exc}") from None
        if not message.get("ready"):
            raise SandboxError(f"the sandbox could not start: {message.get('error', 'no answer')}")
        handle = Sandbox(
            message["endpoint"],
            pid=message["pid"],
            region=region,
            ca_bundle=message.get("ca_bundle"),
            token=token,
        )
        if access_key:
            handle.access_key = access_key  # the handle signs with it (as sandbox.start's does)
        return handle

    def close(self) -> None:
        """Stop the zygote (and its pending child, which dies with it)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _recv_line(sock: socket.socket) -> bytes:
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        line += chunk
    return bytes(line)


def _read_line(fd: int) -> bytes:
    """One line from ``fd``, read a byte at a time (nothing past it is consumed)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return bytes(line)


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _serve_one(sock_fd: int, took: int) -> None:
    """In a pending child: take one request, enter its unit, serve its sandbox. Never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the sandbox waits for its own workers
    line = _read_line(sock_fd)
    if not line:  # the grader closed the socket: the zygote sees our end and stops
        os._exit(0)
    os.write(took, b"x")
    os.close(took)
    try:
        request = json.loads(line)
        _enter(request["spec"])
    except Exception as exc:  # noqa: BLE001 - said to the grader, which reports it
        os.write(sock_fd, json.dumps({"ready": False, "error": f"{exc}"}).encode() + b"\n")
        os._exit(1)
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    from crosstrain.sandbox.core import server

    code = 1
    try:
        code = server.main([*request["argv"], "--ready-fd", str(sock_fd), "--die-with-parent"])
    finally:
        os._exit(code or 0)


def _enter(spec: dict) -> None:
    """What the jail launcher does before it execs, done in the forked child."""
    from crosstrain.grading import jail

    if spec.get("nproc"):
        import resource

        resource.setrlimit(resource.RLIMIT_NPROC, (spec["nproc"], spec["nproc"]))
    if spec.get("procs"):
        from crosstrain.grading import unit

        unit.join(spec["procs"])
    if spec.get("netns"):
        jail.enter_netns(spec["netns"])
    if spec.get("plan") is not None:
        jail.enter(spec["plan"])
    if spec.get("user") is not None:
        jail.drop_to(spec["user"])


def _preload() -> None:
    """Everything a sandbox imports before it is ready (what forking saves)."""
    from crosstrain.sandbox.core import server
    from crosstrain.settings import settings

    server._localstack_defaults(settings().account)
    import moto.moto_server.werkzeug_app  # noqa: F401
    import moto.s3.responses  # noqa: F401

    import crosstrain.grading.jail  # noqa: F401
    import crosstrain.grading.unit  # noqa: F401
    import crosstrain.sandbox.core.router  # noqa: F401
    import crosstrain.sandbox.core.tls  # noqa: F401

    for path in server.RUNTIMES:
        server._load(path)


def main(argv: list[str]) -> None:
    sock_fd = int(argv[0])
    _die_with_parent()
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # sandboxes are reaped by the kernel
    while True:
        took_r, took_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(took_r)
            _serve_one(sock_fd, took_w)
        os.close(took_w)
        taken = os.read(took_r, 1)
        os.close(took_r)
        if not taken:  # the pending child died without a request: the grader is gone
            return


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
