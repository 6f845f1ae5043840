"""JupyterLab for learners: rooted at the workspace, wired to the sandbox, closed to everyone else.

:func:`start_jupyter` starts it as a child of ``crosstrain up`` with

- the :func:`~crosstrain.web.safe_env.safe_env` environment, inherited by every kernel and
  terminal (a terminal re-applies it after the learner's ``~/.bashrc``, which could set
  ``AWS_PROFILE``), with ``crosstrain``, ``aws`` and ``awslocal`` first on ``PATH``;
- a token (the site's links carry it), 127.0.0.1 only, the ``Host`` header checked (DNS
  rebinding) and no cross-origin access;
- a private Jupyter configuration folder in which nbgrader's extensions (the instructor's
  "Create Assignment" and formgrader) are off, and nothing asks the internet for news or updates.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.settings import settings
from crosstrain.web.safe_env import safe_env, shell_rc

READY_TIMEOUT = 90.0
TERMINAL_WORKSPACE = "crosstrain-terminal"
TERMINAL_NAME = "crosstrain"  # letters only: Jupyter's terminal routes take \w+ names
# JupyterLab front-end plugins learners do not get: nbgrader's (instructor tools) and the ones
# that would fetch news from the internet.
DISABLED_LAB_PLUGINS = ("@jupyter/nbgrader", "@jupyterlab/apputils-extension:announcements")
# Settings learners start with: a kit notebook opens with its Python kernel, no kernel dialog.
LEARNER_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True},
}
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader",
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


@dataclass
class Jupyter:
    """A running JupyterLab: its process, base URL and token."""

    process: subprocess.Popen
    base: str
    token: str
    log: Path

    @property
    def url(self) -> str:
        return f"{self.base}lab?token={self.token}"

    @property
    def terminal_url(self) -> str:
        """JupyterLab opened on a workbench terminal (the workspace :func:`add_terminal` saves)."""
        return f"{self.base}lab/workspaces/{TERMINAL_WORKSPACE}?token={self.token}"

    def info(self) -> dict:
        """What the site needs to link into it (``/api/sandbox`` serves this)."""
        return {
            "url": self.url,
            "base": self.base,
            "token": self.token,
            "terminal": self.terminal_url,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def config_dir(folder: Path, env: dict[str, str]) -> Path:
    """Write the learners' Jupyter configuration into ``folder`` (its ``JUPYTER_CONFIG_DIR``)."""
    labconfig = folder / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    disabled = dict.fromkeys(DISABLED_LAB_PLUGINS, True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": disabled}))
    server = {
        "ServerApp": {
            "jpserver_extensions": dict.fromkeys(NBGRADER_SERVER_EXTENSIONS, False),
            "allow_remote_access": False,  # refuse a Host that is not this machine
            "allow_origin": "",  # no cross-origin access
            "open_browser": False,
        },
        "LabApp": {"check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }
    shell = shutil.which("bash")
    if shell:
        server["ServerApp"]["terminado_settings"] = {
            "shell_command": [shell, "--rcfile", str(shell_rc(folder, env)), "-i"]
        }
    (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=2))
    prefer_settings(folder / "lab" / "user-settings", LEARNER_SETTINGS)
    return folder


def prefer_settings(user_settings: Path, wanted: dict[str, dict]) -> None:
    """Set JupyterLab user settings (``{plugin: {key: value}}``), keeping the learner's others."""
    for plugin, values in wanted.items():
        package, name = plugin.split(":")
        path = user_settings / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            current = json.loads(path.read_text()) if path.is_file() else {}
        except ValueError:
            continue  # the learner's own file with comments: leave it as it is
        path.write_text(json.dumps({**current, **values}, indent=2))


def crosstrain_env(workspace: Path, sandbox) -> dict[str, str]:
    """What makes ``crosstrain`` typed in a workbench terminal act on this workspace and sandbox
    (the terminal starts in the workspace, not in the checkout)."""
    env = {"CROSSTRAIN_WORKSPACE": str(workspace.resolve())}
    if sandbox.port:
        env["CROSSTRAIN_SANDBOX_PORT"] = str(sandbox.port)
    return env


def start_jupyter(
    workspace: Path, sandbox, port: int | None = None, *, wait: bool = True
) -> Jupyter:
    """Start JupyterLab on ``workspace`` for ``sandbox``; return once it answers (with
    ``wait=False`` at once: call :func:`ready` when it must answer)."""
    workspace.mkdir(parents=True, exist_ok=True)
    run = settings().run_dir
    env = safe_env(sandbox) | crosstrain_env(workspace, sandbox)
    env["JUPYTER_CONFIG_DIR"] = str(config_dir(run / "jupyter", env))
    port, token = port or free_port(), secrets.token_urlsafe(24)
    log = run / "jupyter.log"
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
        process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=workspace
        )
    jupyter = Jupyter(process, f"http://127.0.0.1:{port}/", token, log)
    if wait:
        ready(jupyter)
    return jupyter


def ready(jupyter: Jupyter) -> None:
    """Wait until JupyterLab answers and save its terminal workspace; stop it if it cannot."""
    try:
        wait_ready(jupyter)
        add_terminal(jupyter)
    except BaseException:
        jupyter.stop()
        raise


def add_terminal(jupyter: Jupyter) -> None:
    """Save a JupyterLab workspace whose layout is one terminal, so a link can open a terminal
    (JupyterLab has no URL that opens one; opening a workspace restores its widgets)."""
    import httpx

    terminal = f"terminal:{TERMINAL_NAME}"
    layout = {
        "main": {
            "dock": {"type": "tab-area", "currentIndex": 0, "widgets": [terminal]},
            "current": terminal,
        },
        "left": {"collapsed": False, "visible": True, "current": "filebrowser"},
        "right": {"collapsed": True, "visible": True, "widgets": []},
    }
    workspace = {
        "data": {"layout-restorer:data": layout, terminal: {"data": {"name": TERMINAL_NAME}}},
        "metadata": {"id": TERMINAL_WORKSPACE},
    }
    url = f"{jupyter.base}lab/api/workspaces/{TERMINAL_WORKSPACE}"
    httpx.put(url, params={"token": jupyter.token}, json=workspace, timeout=10).raise_for_status()


def wait_ready(jupyter: Jupyter) -> None:
    """Poll JupyterLab's status route until it answers (or it exits, or time runs out)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if jupyter.process.poll() is not None:
            lines = jupyter.log.read_text(errors="replace").strip().splitlines()[-1:] or ["-"]
            raise CrosstrainError(
                f"JupyterLab exited at start-up ({lines[0]}); its log is {jupyter.log}; "
                "`crosstrain up --no-jupyter` runs without it"
            )
        try:
            status = f"{jupyter.base}api/status?token={jupyter.token}"
            with urllib.request.urlopen(status, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise CrosstrainError(
        f"JupyterLab did not answer within {READY_TIMEOUT:.0f} s; see {jupyter.log}"
    )
