"""Sandbox lifecycle for the CLI: up, down, status, reset, env, and which backend is in use.

A running sandbox is recorded in ``<home>/run/sandbox-<port>.json`` (pid, endpoint, state dir) so
``status`` and ``down`` find it from any shell; a record whose process is gone is stale and is
removed. The chosen backend (embedded, an external endpoint, or real AWS) is kept in
``<home>/backend.json``.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from crosstrain.sandbox.core.clients import DEFAULT_REGION
from crosstrain.sandbox.core.handle import (
    Sandbox,
    SandboxError,
    http_json,
    pid_alive,
    start,
    terminate,
)
from crosstrain.sandbox.core.ports import port_holder, port_is_free

AWS_OPT_IN_FLAG = "--i-understand-this-uses-real-aws"


def home() -> Path:
    """crosstrain's per-user folder (setting ``home``: ``CROSSTRAIN_HOME``)."""
    from crosstrain.settings import settings

    return settings().home


def default_state_dir() -> Path:
    from crosstrain.settings import settings

    return settings().state_dir


def default_port() -> int:
    """The sandbox's port (setting ``sandbox_port``: ``CROSSTRAIN_SANDBOX_PORT``)."""
    from crosstrain.settings import settings

    return settings().sandbox_port


def run_file(port: int) -> Path:
    from crosstrain.settings import settings

    return settings().run_dir / f"sandbox-{port}.json"


# -- backends ----------------------------------------------------------------------------------
@dataclass
class Backend:
    """Where crosstrain sends AWS calls: ``embedded`` (default), ``endpoint`` or ``aws``."""

    kind: str = "embedded"
    endpoint_url: str | None = None
    profile: str | None = None
    region: str = DEFAULT_REGION


def load_backend() -> Backend:
    path = home() / "backend.json"
    if not path.exists():
        return Backend()
    try:
        return Backend(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        raise SandboxError(
            f"{path} is not a valid backend file; delete it or run "
            "`crosstrain sandbox up --backend embedded`"
        ) from None


def save_backend(backend: Backend) -> None:
    path = home() / "backend.json"
    if backend.kind == "embedded":
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(backend), indent=2))


def use_endpoint(endpoint_url: str, region: str = DEFAULT_REGION) -> Sandbox:
    """Point crosstrain at an emulator someone else runs (LocalStack, another sandbox)."""
    if not endpoint_url.startswith(("http://", "https://")):
        raise SandboxError(
            f"--endpoint-url must start with http:// or https://, got {endpoint_url}"
        )
    handle = Sandbox(endpoint_url.rstrip("/"), region=region, kind="endpoint")
    try:
        handle.client("sts").get_caller_identity()
    except Exception as exc:  # noqa: BLE001 - any failure means the endpoint does not answer
        raise SandboxError(
            f"nothing AWS-like answers at {endpoint_url} ({type(exc).__name__}); start the "
            "emulator first or check the URL"
        ) from None
    save_backend(Backend("endpoint", handle.endpoint_url, region=region))
    return handle


def use_aws(profile: str | None, opted_in: bool, region: str = DEFAULT_REGION) -> Sandbox:
    """Point crosstrain at a real AWS account: only with the explicit opt-in and a profile."""
    if not opted_in:
        raise SandboxError(
            f"--backend aws uses a real AWS account and can cost money; add {AWS_OPT_IN_FLAG} "
            "and --profile NAME if that is what you want"
        )
    if not profile:
        raise SandboxError("--backend aws needs --profile NAME (a named profile, never defaults)")
    save_backend(Backend("aws", None, profile=profile, region=region))
    return Sandbox(None, region=region, profile=profile, kind="aws")


# -- embedded sandbox --------------------------------------------------------------------------
def read_record(port: int) -> dict | None:
    """The run record for ``port``, or ``None``; a stale record (dead pid) is removed."""
    path = run_file(port)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        pid = int(record["pid"])
    except (ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not pid_alive(pid):
        path.unlink(missing_ok=True)
        return None
    return record


def write_record(sandbox: Sandbox, state_dir: Path | None, detached: bool) -> None:
    path = run_file(sandbox.port)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": sandbox.pid,
        "endpoint": sandbox.endpoint_url,
        "port": sandbox.port,
        "state_dir": str(state_dir) if state_dir else None,
        "detached": detached,
        "started": time.time(),
        "token": sandbox.token,
    }
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, path)


def owns(record: dict) -> dict | None:
    """The health of the sandbox this record started, if that is what answers at its endpoint
    (same start token and pid); ``None`` when something else answers there, or nothing."""
    from crosstrain.sandbox.core.admin import instance_id

    token = record.get("token")
    try:
        health = http_json(f"{record['endpoint']}/_crosstrain/health", timeout=2)
    except Exception:  # noqa: BLE001 - nothing (or something else) answers there
        return None
    if not token or health.get("instance") != instance_id(token):
        return None
    return health if health.get("pid") == record.get("pid") else None


def shut_down(record: dict, timeout: float) -> None:
    """Ask the sandbox to stop, with its start token; wait until its process is gone."""
    from crosstrain.sandbox.core.admin import TOKEN_HEADER

    request = urllib.request.Request(
        f"{record['endpoint']}/_crosstrain/shutdown",
        method="POST",
        data=b"",
        headers={TOKEN_HEADER: record["token"]},
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - local URL
        pass
    deadline = time.monotonic() + timeout
    while pid_alive(int(record["pid"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(int(record["pid"])):  # proven ours above, and still there
        terminate(int(record["pid"]), timeout=timeout)


def clear_record(port: int) -> None:
    run_file(port).unlink(missing_ok=True)


def busy_port_error(host: str, port: int) -> SandboxError:
    holder = port_holder(port)
    by = f" by {holder}" if holder else ""
    return SandboxError(
        f"port {port} on {host} is already in use{by}; stop it or pass --port with a free port"
    )


def up(
    port: int | None = None,
    host: str = "127.0.0.1",
    state_dir: Path | None = None,
    ephemeral: bool = False,
    enforce_iam: bool = False,
    detach: bool = False,
    account: str | None = None,
) -> Sandbox:
    """Start the embedded sandbox (learner mode keeps state in ``state_dir``)."""
    port = default_port() if port is None else port
    existing = read_record(port) if port else None
    if existing:
        raise SandboxError(
            f"a sandbox is already running at {existing['endpoint']} (pid {existing['pid']}); "
            "use it, or stop it with `crosstrain sandbox down`"
        )
    if port and not port_is_free(port, host):
        raise busy_port_error(host, port)
    save_backend(Backend())
    state = None if ephemeral else Path(state_dir or default_state_dir()).expanduser()
    log_file = None
    if detach:
        log_dir = state or home() / "run"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / "sandbox.log"
    sandbox = start(
        port,
        host=host,
        state_dir=state,
        enforce_iam=enforce_iam,
        detach=detach,
        log_file=log_file,
        account=account,
    )
    write_record(sandbox, state, detach)
    return sandbox


def find(port: int | None = None) -> Sandbox | None:
    """The running embedded sandbox on ``port`` (record first, then whoever answers there)."""
    port = default_port() if port is None else port
    record = read_record(port)
    endpoint = record["endpoint"] if record else f"http://127.0.0.1:{port}"
    try:
        health = http_json(f"{endpoint}/_crosstrain/health", timeout=2)
    except Exception:  # noqa: BLE001 - nothing (or something else) answers there
        return None
    if health.get("service") != "crosstrain-sandbox":
        return None
    return Sandbox(
        endpoint,
        pid=health.get("pid"),
        region=health.get("region", DEFAULT_REGION),
        ca_bundle=(health.get("settings") or {}).get("ca_bundle"),
    )


def connect(port: int | None = None) -> Sandbox:
    """A handle on the configured target: the running sandbox, an endpoint, or real AWS."""
    backend = load_backend()
    if backend.kind == "endpoint":
        return Sandbox(backend.endpoint_url, region=backend.region, kind="endpoint")
    if backend.kind == "aws":
        return Sandbox(None, region=backend.region, profile=backend.profile, kind="aws")
    found = find(port)
    if found is None:
        where = port or default_port()
        raise SandboxError(
            f"no sandbox is running on port {where}; start one with "
            "`crosstrain sandbox up --detach` (or `make up`)"
        )
    return found


def down(port: int | None = None, timeout: float = 10.0) -> str:
    """Stop the sandbox on ``port``; return what was done."""
    port = default_port() if port is None else port
    backend = load_backend()
    if backend.kind != "embedded":
        save_backend(Backend())
        return f"stopped using the {backend.kind} backend; back to the embedded sandbox"
    had_file = run_file(port).exists()
    record = read_record(port)
    if record and owns(record):
        shut_down(record, timeout)
        clear_record(port)
        return f"stopped the sandbox on port {port} (pid {record['pid']})"
    if record:
        clear_record(port)
        return (
            f"the process answering on port {port} is not the sandbox this record started; "
            "left it running (removed the record)"
        )
    if find(port) is not None:
        raise SandboxError(
            f"a sandbox answers on port {port}, but it was not started from this crosstrain "
            f"home ({home()}); stop it where it was started"
        )
    if had_file:
        return f"no sandbox was running on port {port} (removed a stale record)"
    return f"no sandbox is running on port {port}"


def status(port: int | None = None) -> dict:
    """What is running and where, as data for ``sandbox status``."""
    port = default_port() if port is None else port
    backend = load_backend()
    if backend.kind != "embedded":
        return {"running": True, "backend": backend.kind, **asdict(backend)}
    found = find(port)
    if found is None:
        return {"running": False, "backend": "embedded", "port": port}
    info = found.health()
    record = read_record(port) or {}
    return {
        "running": True,
        "backend": "embedded",
        "endpoint": found.endpoint_url,
        "pid": info["pid"],
        "uptime_seconds": info["uptime_seconds"],
        "detached": record.get("detached"),
        "state": info["state"],
        "enforce_iam": info["settings"].get("enforce_iam"),
        "services_used": info["services_used"],
        "notices": info["notices"],
    }


def env_lines(sandbox: Sandbox) -> list[str]:
    """``export`` lines a shell can eval."""
    import shlex

    return [f"export {key}={shlex.quote(value)}" for key, value in sandbox.env().items()]
