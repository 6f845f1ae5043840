"""``crosstrain up``: the sandbox, the built site and its API on 127.0.0.1, until Ctrl-C.

:func:`serve` starts (or reuses) the sandbox, builds the site when stale, optionally starts
JupyterLab on the workspace, serves everything with uvicorn and stops what it started on exit.
:class:`Background` runs the same application in a thread (tests, benchmarks).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import socket
import sys
import threading
import time
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.sandbox.core.ports import port_holder, port_is_free
from crosstrain.settings import settings
from crosstrain.web.app import LOCAL_HOSTS, create_app
from crosstrain.web.jupyter import Jupyter, ready, start_jupyter

READY_TIMEOUT = 60.0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Up:
    """What :func:`serve` started, so it can stop exactly that."""

    sandbox: object = None
    owns_sandbox: bool = False
    jupyter: Jupyter | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.jupyter is not None:
            say("stopping JupyterLab ...")
            self.jupyter.stop()
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
    port = settings().sandbox_port if port is None else port
    if not port_is_free(port):
        holder = port_holder(port)
        by = f" by {holder}" if holder else ""
        raise CrosstrainError(
            f"the sandbox's port {port} is in use{by}; stop that, or pass --sandbox-port with a "
            "free port"
        )
    up.sandbox = lifecycle.up(port=port, ephemeral=ephemeral)
    up.owns_sandbox = True
    where = "nowhere (ephemeral)" if ephemeral else str(lifecycle.default_state_dir())
    say(f"sandbox running at {up.sandbox.endpoint_url}; state kept in {where}")


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
    jupyter: bool = True,
    site_dir: str | Path | None = None,
    workspace: str | Path | None = None,
) -> None:
    """Run the sandbox, the site and its API until Ctrl-C (or SIGTERM); stop what we started.

    ``port`` and ``host`` default to the settings' ``site_port`` and ``host``.
    """
    from crosstrain.labs.workspace import workspace_root
    from crosstrain.web.site import build_site

    config = settings()
    port = config.site_port if port is None else port
    host = host or config.host
    refuse_busy_port(port, host)
    up = Up()
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The site builds (CPU, this process) while the sandbox and JupyterLab start (their own).
    builder = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="site-build")
    try:
        built = builder.submit(build_site, site_dir)
        ensure_sandbox(sandbox_port, ephemeral, up)
        if not built.done():
            say("building the site (its sources changed) ...")
        ws = workspace_root(workspace)
        lab = start_lab(ws, up, built) if jupyter else None
        app = create_app(
            built.result(),
            up.sandbox,
            workspace=ws,
            jupyter=lab,
            allowed_hosts=allowed_hosts(host),
        )
        run_until_stopped(app, host, port, open_browser, ws)
    except KeyboardInterrupt:
        pass
    finally:
        builder.shutdown(wait=True, cancel_futures=True)
        up.stop()
        signal.signal(signal.SIGTERM, previous)
    say("stopped")


def refuse_busy_port(port: int, host: str) -> None:
    """One line naming the fix when something already listens on the site's port."""
    if not port_is_free(port, host):
        holder = port_holder(port)
        by = f" by {holder}" if holder else ""
        raise CrosstrainError(
            f"the site's port {port} on {host} is in use{by}; stop that, or pass --port with a "
            "free port"
        )


def start_lab(workspace: Path, up: Up, built: concurrent.futures.Future) -> dict:
    """JupyterLab rooted at ``workspace``, started while the site builds; its connection info
    once both are ready."""
    say("starting JupyterLab ...")
    up.jupyter = start_jupyter(workspace, up.sandbox, wait=False)
    built.result()
    ready(up.jupyter)
    say(f"JupyterLab: {up.jupyter.url}")
    return up.jupyter.info()


def run_until_stopped(app, host: str, port: int, open_browser: bool, workspace: Path) -> None:
    """Serve ``app`` on ``host:port`` until Ctrl-C or SIGTERM, announcing it once it listens."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )
    url = f"http://{host}:{port}/"
    threading.Thread(
        target=announce, args=(server, url, open_browser, workspace), daemon=True
    ).start()
    server.run()


def announce(server, url: str, open_browser: bool, workspace: Path) -> None:
    """Once the server listens: print where, and open the browser if asked and possible."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    say(f"crosstrain is up: {url}  (your work goes in {workspace})")
    for line in path_hint():
        say(line)
    say("press Ctrl-C to stop")
    if open_browser and can_open_browser():
        webbrowser.open(url)
    elif open_browser:
        say(f"no graphical browser here: open {url} yourself")


def path_hint() -> list[str]:
    """How to get ``crosstrain`` on PATH, when this shell would not find this one."""
    mine = Path(sys.executable).parent / "crosstrain"
    found = shutil.which("crosstrain")
    if found and Path(found).resolve() == mine.resolve():
        return []
    return [
        "the labs' commands run in JupyterLab's terminal (File > New > Terminal), where "
        "crosstrain, aws and awslocal are ready;",
        f"in your own shell: `make shell` in the checkout (or `source {mine.parent}/activate`)",
    ]


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
