"""The Python API: start a sandbox in its own process and talk to it.

>>> from crosstrain import sandbox
>>> with sandbox.start() as sb:           # port=0 picks a free port; ephemeral by default
...     sb.client("s3").create_bucket(Bucket="demo")
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.sandbox.core.clients import DEFAULT_REGION, DUMMY_KEY, make_client, make_session

START_TIMEOUT = 60.0


class SandboxError(CrosstrainError):
    """The sandbox could not start, stop or be reached."""


ACCESS_HEADER = "X-Crosstrain-Access-Key"  # unsigned calls to a sandbox that requires a key


def http_json(
    url: str, method: str = "GET", timeout: float = 5.0, headers: dict | None = None
) -> dict:
    """GET/POST ``url`` and decode its JSON answer (urllib: no heavy imports)."""
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local URL
        return json.loads(response.read() or b"{}")


class Sandbox:
    """A handle on a running sandbox (ours or someone else's endpoint).

    ``process`` is set when this handle started the sandbox and owns its lifetime.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        *,
        pid: int | None = None,
        process: subprocess.Popen | None = None,
        region: str = DEFAULT_REGION,
        profile: str | None = None,
        kind: str = "embedded",
        ca_bundle: str | None = None,
        token: str | None = None,
        access_key: str | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.pid = pid
        self.process = process
        self.region = region
        self.profile = profile
        self.kind = kind
        self.ca_bundle = ca_bundle
        self.token = token  # set when this handle started the sandbox: proves it is ours
        self.access_key = access_key  # the key the sandbox requires on every request, if any

    def __repr__(self) -> str:
        return f"Sandbox({self.endpoint_url or 'aws'}, kind={self.kind}, pid={self.pid})"

    @property
    def port(self) -> int | None:
        if not self.endpoint_url:
            return None
        return int(self.endpoint_url.rsplit(":", 1)[1].split("/")[0])

    # -- clients -------------------------------------------------------------------------------
    def session(self):
        """A boto3 session with this sandbox's credentials (dummy ones unless real AWS)."""
        return make_session(self.region, profile=self.profile, key=self.access_key)

    def client(self, service: str, **config):
        """A boto3 client bound to this sandbox (one attempt, no 25 s retries)."""
        return make_client(service, self.endpoint_url, self.region, self.session(), **config)

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3, the aws CLI and awslocal at this sandbox."""
        if self.kind == "aws":
            return {"AWS_PROFILE": self.profile or "", "AWS_DEFAULT_REGION": self.region}
        host_port = self.endpoint_url.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key or DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": self.access_key or DUMMY_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "LOCALSTACK_HOST": host_port,
            "EDGE_PORT": port,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "DISABLE_DEPRECATION_NOTICE": "1",
            "LOCALSTACK_HOSTNAME": host,
            **({"AWS_CA_BUNDLE": self.ca_bundle} if self.ca_bundle else {}),
        }

    # -- control -------------------------------------------------------------------------------
    def _internal(self, path: str, method: str = "GET", timeout: float = 10.0) -> dict:
        if self.kind != "embedded":
            raise SandboxError(
                f"{path} needs a crosstrain sandbox; this target is {self.kind} "
                f"({self.endpoint_url or 'real AWS'})"
            )
        try:
            headers = {ACCESS_HEADER: self.access_key} if self.access_key else None
            url = f"{self.endpoint_url}{path}"
            return http_json(url, method=method, timeout=timeout, headers=headers)
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(
                f"no sandbox answers at {self.endpoint_url} ({exc}); "
                "start one with `crosstrain sandbox up`"
            ) from None

    def health(self) -> dict:
        return self._internal("/_crosstrain/health")

    def reset(self) -> dict:
        """Clear every resource in the sandbox (milliseconds)."""
        return self._internal("/_crosstrain/reset", method="POST", timeout=60.0)

    def flush(self) -> dict:
        """Write pending state to disk now (learner mode)."""
        return self._internal("/_crosstrain/flush", method="POST")

    def advance_time(self, seconds: float, *, wait: bool = True) -> dict:
        """Move the sandbox clock ``seconds`` forward: due schedules fire, Wait states and
        retry delays elapse, alarm periods fill (``wait``: until the deliveries settle)."""
        query = urllib.parse.urlencode({"seconds": seconds, "wait": int(wait)})
        return self._internal(f"/_crosstrain/time?{query}", method="POST", timeout=60)

    def events(self, **filters) -> list[dict]:
        """The delivery log, oldest first; filter by ``source``, ``target`` (substrings of
        ARNs), ``kind``, ``result`` (``delivered``, ``failed``, ...) or ``limit``."""
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self._internal(f"/_crosstrain/events?{query}")["deliveries"]

    def calls(self, **filters) -> list[dict]:
        """The call log, oldest first; filter by ``service``, ``operation``, ``principal`` (a
        substring of its ARN), ``source`` (sdk, cli, cdk, check, sandbox), ``result`` (ok,
        denied, error), ``since`` (epoch seconds) or ``limit``."""
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self._internal(f"/_crosstrain/calls?{query}")["calls"]

    def decisions(self, **filters) -> list[dict]:
        """The permission decisions under ``--enforce-iam``, one per row, oldest first: who
        (``principal``, ``role``) was or was not ``allowed`` which IAM ``action`` on which
        ``resource``; filter by ``role``, ``action`` (substrings), ``allowed`` or ``limit``."""
        if isinstance(filters.get("allowed"), bool):
            filters["allowed"] = str(filters["allowed"]).lower()
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self._internal(f"/_crosstrain/decisions?{query}")["calls"]

    def alive(self) -> bool:
        try:
            self.health()
        except SandboxError:
            return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the sandbox process (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        pid = self.process.pid if self.process else self.pid
        if pid is None:
            return
        terminate(pid, timeout=timeout, process=self.process)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def terminate(pid: int, timeout: float = 10.0, process: subprocess.Popen | None = None) -> None:
    """SIGTERM ``pid`` and wait for it; SIGKILL if it has not stopped in ``timeout`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return
        elif not pid_alive(pid):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if process is not None:
        process.wait(timeout=5)


def _server_command(
    options: dict, state_dir: str | Path | None, account: str | None, tls_dir: str | Path | None
) -> list[str]:
    """``python -m crosstrain.sandbox.core.server`` with its options; what is not given comes
    from crosstrain's settings (read here, so the sandbox process never needs to)."""
    from crosstrain.sandbox.core.server import LIMITS
    from crosstrain.settings import settings

    current = settings()
    tls_dir = current.home / "tls" if tls_dir is None else tls_dir
    cmd = [sys.executable, "-m", "crosstrain.sandbox.core.server"]
    for name, value in options.items():
        cmd += [f"--{name}", str(value)]
    if state_dir is not None:
        cmd += ["--state-dir", str(Path(state_dir).expanduser().resolve())]
    cmd += ["--account", account or current.account]
    cmd += ["--tls-dir", str(Path(tls_dir).expanduser().resolve())]
    for name in LIMITS:
        cmd += ["--" + name.replace("_", "-"), str(getattr(current, name))]
    return cmd


def start(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    state_dir: str | Path | None = None,
    enforce_iam: bool = False,
    region: str = DEFAULT_REGION,
    account: str | None = None,
    tls_dir: str | Path | None = None,
    detach: bool = False,
    log_file: str | Path | None = None,
    timeout: float = START_TIMEOUT,
    env: dict[str, str] | None = None,
    launcher: list[str] | None = None,
    token: str | None = None,
) -> Sandbox:
    """Start a sandbox in a new process and wait until it is ready.

    ``state_dir=None`` keeps nothing (tests, grading); a directory makes state survive restarts.
    ``port=0`` picks a free port. A non-detached sandbox dies with the process that started it.
    ``env`` replaces the inherited environment; ``launcher`` is a command prefix the sandbox
    runs under (grading runs it jailed, as the learner's user). With ``token`` the sandbox
    serves only requests carrying it (as the SigV4 access key id, or the ``ACCESS_HEADER`` on
    unsigned calls; public API URLs and health excepted): grading's per-submission key where
    no network namespace keeps other submissions away. The handle signs with it.
    """
    access_key, token = token, secrets.token_hex(16)  # token: the start token (shutdown)
    read_fd, write_fd = os.pipe()
    options = {"host": host, "port": port, "region": region, "ready-fd": write_fd}
    cmd = [*(launcher or []), *_server_command(options, state_dir, account, tls_dir)]
    if enforce_iam:
        cmd.append("--enforce-iam")
    if not detach:
        cmd.append("--die-with-parent")
    environ = {
        **(os.environ if env is None else env),
        "CROSSTRAIN_SANDBOX_TOKEN": token,
        **({"CROSSTRAIN_SANDBOX_ACCESS_KEY": access_key} if access_key else {}),
    }
    process = _spawn(cmd, write_fd, environ, detach=detach, log_file=log_file)
    message = _await_ready(read_fd, process, timeout)
    if not message.get("ready"):
        process.wait(timeout=5)
        where = f"{host}:{port}"
        raise SandboxError(f"the sandbox could not start on {where}: {message.get('error')}")
    return Sandbox(
        message["endpoint"],
        pid=message["pid"],
        process=process,
        region=region,
        ca_bundle=message.get("ca_bundle"),
        token=token,
        access_key=access_key,
    )


def _spawn(
    cmd: list[str], ready_fd: int, env: dict, *, detach: bool, log_file: str | Path | None
) -> subprocess.Popen:
    """Run the sandbox process, handing it ``ready_fd`` (closed here once it has it); output
    goes to ``log_file`` or nowhere. A detached sandbox gets its own session."""
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(ready_fd,),
            start_new_session=detach,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        os.close(ready_fd)
        if log_file:
            log.close()


def _await_ready(read_fd: int, process: subprocess.Popen, timeout: float) -> dict:
    """Block until the child writes its ready line (or dies, or ``timeout`` passes)."""
    buffer = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                terminate(process.pid, timeout=2, process=process)
                raise SandboxError(f"the sandbox did not become ready within {timeout:.0f} s")
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 4096)
            if not chunk:
                code = process.wait(timeout=5)
                raise SandboxError(
                    f"the sandbox process exited with code {code} before it was ready; "
                    "run `crosstrain sandbox up` in a terminal to see its output"
                )
            buffer += chunk
    finally:
        os.close(read_fd)
    return json.loads(buffer.split(b"\n", 1)[0])
