"""`crosstrain up` as a learner runs it: serves site and API, reuses a sandbox, stops on Ctrl-C."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from crosstrain.sandbox.core.handle import pid_alive

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_up(tmp_path, repo_site, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CROSSTRAIN_HOME": str(tmp_path / "home"),
        "CROSSTRAIN_SITE_DIR": str(repo_site),
        "CROSSTRAIN_WORKSPACE": str(tmp_path / "workspace"),
    }
    cmd = [sys.executable, "-m", "crosstrain.cli", "up", "--no-browser", *args]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def wait_for(process: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """Read the process's stderr until a line contains ``text``; return everything read."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0 and process.poll() is None, f"no {text!r} in: {seen}"
        ready, _, _ = select.select([process.stderr], [], [], remaining)
        if ready:
            seen += process.stderr.readline()
    return seen


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    return err


def test_up_serves_site_and_api_then_ctrl_c_stops_the_sandbox_it_started(tmp_path, repo_site):
    port, sandbox_port = free_port(), free_port()
    args = ("--port", str(port), "--sandbox-port", str(sandbox_port), "--no-jupyter")
    up = start_up(tmp_path, repo_site, *args)
    try:
        said = wait_for(up, "crosstrain is up")
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/").status_code == 200
        labs = httpx.get(f"{base}/api/labs").json()["labs"]
        assert "00-sandbox-orientation" in [lab["id"] for lab in labs]
        sandbox = httpx.get(f"{base}/api/sandbox").json()
        assert sandbox["endpoint"] == f"http://127.0.0.1:{sandbox_port}"
        pid = httpx.get(f"{sandbox['endpoint']}/_crosstrain/health").json()["pid"]
    finally:
        said = stop(up)
    assert up.returncode == 0, said
    assert "stopping the sandbox" in said
    assert not pid_alive(pid)
    assert not (tmp_path / "home" / "run" / f"sandbox-{sandbox_port}.json").exists()


def test_up_reuses_a_running_sandbox_and_leaves_it_running(tmp_path, repo_site, sandbox):
    port = free_port()
    args = ("--port", str(port), "--sandbox-port", str(sandbox.port), "--no-jupyter")
    up = start_up(tmp_path, repo_site, *args)
    try:
        said = wait_for(up, "crosstrain is up")
        assert f"using the sandbox already running at {sandbox.endpoint_url}" in said
    finally:
        stop(up)
    assert up.returncode == 0
    assert sandbox.alive()


def test_up_on_a_busy_port_says_so_in_one_line(tmp_path, repo_site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        up = start_up(tmp_path, repo_site, "--port", str(port), "--no-jupyter")
        _, err = up.communicate(timeout=60)
    assert up.returncode != 0
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: the site's port {port} on 127.0.0.1 is in use")
    assert line.endswith("pass --port with a free port")


def test_up_with_a_foreign_process_on_the_sandbox_port_names_the_right_flag(tmp_path, repo_site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        args = ("--port", str(free_port()), "--sandbox-port", str(taken), "--no-jupyter")
        up = start_up(tmp_path, repo_site, *args)
        _, err = up.communicate(timeout=60)
    assert up.returncode != 0
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: the sandbox's port {taken} is in use")
    assert line.endswith("pass --sandbox-port with a free port")


def test_up_with_jupyter_serves_jupyterlab_on_the_workspace_and_stops_it(
    tmp_path, repo_site, sandbox
):
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "hello.txt").write_text("hi\n")
    port = free_port()
    args = ("--port", str(port), "--sandbox-port", str(sandbox.port))  # JupyterLab by default
    up = start_up(tmp_path, repo_site, *args)
    try:
        wait_for(up, "crosstrain is up")
        jupyter = httpx.get(f"http://127.0.0.1:{port}/api/sandbox").json()["jupyter"]
        status = httpx.get(f"{jupyter['base']}api/status", params={"token": jupyter["token"]})
        assert status.status_code == 200
        contents = httpx.get(f"{jupyter['base']}api/contents", params={"token": jupyter["token"]})
        assert "hello.txt" in [item["name"] for item in contents.json()["content"]]
    finally:
        said = stop(up)
    assert "stopping JupyterLab" in said
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{jupyter['base']}api/status")
