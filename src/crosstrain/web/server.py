"""``crosstrain up``: the sandbox, the built site and its API on 127.0.0.1, until Ctrl-C.

:func:`serve` starts (or reuses) the sandbox, builds the site when stale, optionally starts
JupyterLab on the workspace, serves everything with uvicorn and stops what it started on exit.
:class:`Background` runs the same application in a thread (tests, benchmarks).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.settings import settings
from crosstrain.web.app import LOCAL_HOSTS, create_app

READY_TIMEOUT = 60.0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Up:
    """What :func:`serve` started, so it can stop exactly that."""

    sandbox: object = None
    owns_sandbox: bool = False
    jupyter: subprocess.Popen | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.jupyter is not None and self.jupyter.poll() is None:
            say("stopping JupyterLab ...")
            self.jupyter.terminate()
            try:
                self.jupyter.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.jupyter.kill()
        if self.owns_sandbox:
            from crosstrain.sandbox import lifecycle

            say("stopping the sandbox ...")
            self.sandbox.stop()
            lifecycle.clear_record(self.sandbox.port)


def ensure_sandbox(port: int | None, ephemeral: bool, up: Up) -> None:
    """Reuse the configured or running sandbox; otherwise start one that dies with us."""
    from crosstrain.sandbox import lifecycle

    backend = lifecycle.load_backend()
    if backend.kind != "embedded":
        up.sandbox = lifecycle.connect(port)
        say(f"using the {backend.kind} backend ({up.sandbox.endpoint_url or 'real AWS'})")
        return
    running = lifecycle.find(port)
    if running is not None:
        up.sandbox = running
        kept = " (--ephemeral ignored: it keeps its own state)" if ephemeral else ""
        say(f"using the sandbox already running at {running.endpoint_url}{kept}")
        return
    up.sandbox = lifecycle.up(port=port, ephemeral=ephemeral)
    up.owns_sandbox = True
    where = "nowhere (ephemeral)" if ephemeral else str(lifecycle.default_state_dir())
    say(f"sandbox running at {up.sandbox.endpoint_url}; state kept in {where}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_jupyter(workspace: Path, sandbox, up: Up) -> dict:
    """Start JupyterLab on ``workspace`` with the sandbox's environment; wait until it answers."""
    workspace.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_urlsafe(24)
    log = settings().run_dir / "jupyter.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={workspace}",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; Jupyter refuses by default
    with open(log, "ab") as out:
        up.jupyter = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env={**os.environ, **sandbox.env()},
        )
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if up.jupyter.poll() is not None:
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise CrosstrainError(f"JupyterLab exited at start-up ({last[0]}); its log is {log}")
        try:
            with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2):
                return {"url": f"{base}lab?token={token}", "base": base, "token": token}
        except OSError:
            time.sleep(0.2)
    raise CrosstrainError(f"JupyterLab did not answer within {READY_TIMEOUT:.0f} s; see {log}")


def allowed_hosts(host: str) -> list[str]:
    """Host names the server answers to: this machine's loopback names, and ``host`` itself."""
    hosts = list(LOCAL_HOSTS)
    if host not in hosts:
        hosts += [host, socket.gethostname(), socket.getfqdn()]
    return hosts


def can_open_browser() -> bool:
    """False where ``webbrowser`` would fall back to a text browser in this terminal."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def serve(
    port: int | None = None,
    *,
    host: str | None = None,
    sandbox_port: int | None = None,
    ephemeral: bool = False,
    open_browser: bool = True,
    jupyter: bool = False,
    site_dir: str | Path | None = None,
    workspace: str | Path | None = None,
) -> None:
    """Run the sandbox, the site and its API until Ctrl-C (or SIGTERM); stop what we started.

    ``port`` and ``host`` default to the settings' ``site_port`` and ``host``.
    """
    import uvicorn

    from crosstrain.doctor import port_holder, port_is_free
    from crosstrain.labs.workspace import workspace_root
    from crosstrain.web.site import build_site

    config = settings()
    port = config.site_port if port is None else port
    host = host or config.host
    if not port_is_free(port, host):
        holder = port_holder(port)
        by = f" by {holder}" if holder else ""
        raise CrosstrainError(f"port {port} on {host} is in use{by}; pass --port with a free port")
    up = Up()
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        ensure_sandbox(sandbox_port, ephemeral, up)
        say("building the site (when its sources changed) ...")
        site = build_site(site_dir)
        ws = workspace_root(workspace)
        lab = None
        if jupyter:
            say("starting JupyterLab ...")
            lab = start_jupyter(ws, up.sandbox, up)
            say(f"JupyterLab: {lab['url']}")
        app = create_app(
            site,
            up.sandbox,
            workspace=ws,
            jupyter=lab,
            allowed_hosts=allowed_hosts(host),
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        url = f"http://{host}:{port}/"
        announcer = threading.Thread(
            target=announce, args=(server, url, open_browser, ws), daemon=True
        )
        announcer.start()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        up.stop()
        signal.signal(signal.SIGTERM, previous)
    say("stopped")


def announce(server, url: str, open_browser: bool, workspace: Path) -> None:
    """Once the server listens: print where, and open the browser if asked and possible."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    say(f"crosstrain is up: {url}  (your work goes in {workspace})")
    say("press Ctrl-C to stop")
    if open_browser and can_open_browser():
        webbrowser.open(url)
    elif open_browser:
        say(f"no graphical browser here: open {url} yourself")


class Background:
    """The application served by uvicorn in a thread on a free port (tests and benchmarks)::

    with Background(app) as url:
        ...
    """

    def __init__(self, app, host: str = "127.0.0.1"):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise CrosstrainError("the web server did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
