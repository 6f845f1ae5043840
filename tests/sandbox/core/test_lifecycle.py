"""The sandbox commands as a user runs them: up/down/status/env/reset, detach, stale records,
busy ports, Ctrl-C, and the endpoint/aws backends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from crosstrain import sandbox as sandbox_api

CLI = [sys.executable, "-m", "crosstrain.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def crosstrain(*args: str, home: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "CROSSTRAIN_HOME": str(home)}
    result = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_detach_status_env_reset_down(home):
    port = str(free_port())
    crosstrain("sandbox", "up", "--detach", "--port", port, home=home, check=True)
    try:
        status = json.loads(
            crosstrain("sandbox", "status", "--port", port, "--json", home=home).stdout
        )
        assert status["running"] and status["detached"] is True
        assert status["state"]["dir"] == str(home / "sandbox")
        env = crosstrain("sandbox", "env", "--port", port, home=home, check=True).stdout
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in env
        assert "export AWS_ACCESS_KEY_ID=test" in env
        sb = sandbox_api.Sandbox(f"http://127.0.0.1:{port}")
        sb.client("s3").create_bucket(Bucket="cli-bucket")
        reset = crosstrain("sandbox", "reset", "--port", port, home=home, check=True)
        assert "reset in" in reset.stdout
        assert sb.client("s3").list_buckets()["Buckets"] == []
    finally:
        down = crosstrain("sandbox", "down", "--port", port, home=home, check=True)
    assert "stopped the sandbox" in down.stdout
    gone = crosstrain("sandbox", "status", "--port", port, home=home)
    assert gone.returncode == 1 and "no sandbox is running" in gone.stdout


def test_stale_run_record_is_recovered(home):
    port = free_port()
    record = home / "run" / f"sandbox-{port}.json"
    record.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record.write_text(json.dumps({"pid": dead.pid, "endpoint": f"http://127.0.0.1:{port}"}))
    result = crosstrain("sandbox", "down", "--port", str(port), home=home, check=True)
    assert "stale" in result.stdout
    assert not record.exists()
    started = crosstrain("sandbox", "up", "--detach", "--ephemeral", "--port", str(port), home=home)
    assert started.returncode == 0, started.stderr
    crosstrain("sandbox", "down", "--port", str(port), home=home, check=True)


def test_busy_port_is_one_line_naming_the_port_and_the_fix(home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = crosstrain("sandbox", "up", "--port", str(port), "--ephemeral", home=home)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]


def test_second_up_on_a_running_port_says_so(home):
    port = str(free_port())
    crosstrain("sandbox", "up", "--detach", "--ephemeral", "--port", port, home=home, check=True)
    try:
        again = crosstrain("sandbox", "up", "--detach", "--port", port, home=home)
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        crosstrain("sandbox", "down", "--port", port, home=home, check=True)


def test_ctrl_c_stops_the_foreground_sandbox_without_orphans(home):
    port = free_port()
    env = {**os.environ, "CROSSTRAIN_HOME": str(home)}
    proc = subprocess.Popen(
        [*CLI, "sandbox", "up", "--ephemeral", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        assert "sandbox running at" in proc.stdout.readline()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the sandbox runs in a child process"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the foreground job
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    assert not (home / "run" / f"sandbox-{port}.json").exists()


def test_endpoint_backend_points_crosstrain_at_another_sandbox(home):
    with sandbox_api.start() as other:
        result = crosstrain(
            "sandbox",
            "up",
            "--backend",
            "endpoint",
            "--endpoint-url",
            other.endpoint_url,
            home=home,
        )
        assert result.returncode == 0, result.stderr
        target = sandbox_api.connect()
        assert target.kind == "endpoint" and target.endpoint_url == other.endpoint_url
        target.client("s3").create_bucket(Bucket="via-endpoint")
        assert other.client("s3").head_bucket(Bucket="via-endpoint")
        env = crosstrain("sandbox", "env", home=home, check=True).stdout
        assert f"AWS_ENDPOINT_URL={other.endpoint_url}" in env
        crosstrain("sandbox", "down", home=home, check=True)
    assert not (home / "backend.json").exists()


def test_endpoint_backend_refuses_a_dead_url(home):
    port = free_port()
    result = crosstrain(
        "sandbox",
        "up",
        "--backend",
        "endpoint",
        "--endpoint-url",
        f"http://127.0.0.1:{port}",
        home=home,
    )
    assert result.returncode == 2 and "nothing AWS-like answers" in result.stderr


def test_aws_backend_needs_an_explicit_opt_in_and_a_profile(home):
    refused = crosstrain("sandbox", "up", "--backend", "aws", "--profile", "x", home=home)
    assert refused.returncode == 2 and "--i-understand-this-uses-real-aws" in refused.stderr
    no_profile = crosstrain(
        "sandbox", "up", "--backend", "aws", "--i-understand-this-uses-real-aws", home=home
    )
    assert no_profile.returncode == 2 and "--profile" in no_profile.stderr
    assert not (home / "backend.json").exists()


def test_sandbox_start_api_port_zero_picks_distinct_isolated_sandboxes():
    with sandbox_api.start() as a, sandbox_api.start() as b:
        assert a.port != b.port and a.pid != b.pid
        a.client("s3").create_bucket(Bucket="only-in-a")
        assert b.client("s3").list_buckets()["Buckets"] == []


def test_stop_leaves_no_process():
    sb = sandbox_api.start()
    pid = sb.pid
    sb.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_down_never_stops_a_sandbox_it_did_not_start(home):
    """Another user's (or namespace's) sandbox on the port, behind a record with its pid but not
    its start token, is left running."""
    with sandbox_api.start(tls_dir=home / "tls") as theirs:
        record = home / "run" / f"sandbox-{theirs.port}.json"
        record.parent.mkdir(parents=True)
        forged = {"pid": theirs.pid, "endpoint": theirs.endpoint_url, "token": "not-theirs"}
        record.write_text(json.dumps(forged))
        result = crosstrain("sandbox", "down", "--port", str(theirs.port), home=home, check=True)
        assert "left it running" in result.stdout
        assert theirs.alive()
        no_record = crosstrain("sandbox", "down", "--port", str(theirs.port), home=home)
        assert no_record.returncode != 0 and "not started from this crosstrain home" in (
            no_record.stderr
        )
        assert theirs.alive()


def test_shutdown_needs_the_start_token_and_health_never_shows_it(sandbox):
    import urllib.error
    import urllib.request

    health = sandbox.health()
    assert sandbox.token not in json.dumps(health) and health["instance"]
    request = urllib.request.Request(
        f"{sandbox.endpoint_url}/_crosstrain/shutdown",
        method="POST",
        data=b"",
        headers={"X-Crosstrain-Token": "guess"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - local URL
    assert refused.value.code == 403
    assert sandbox.alive()
