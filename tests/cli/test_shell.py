"""`crosstrain shell` and `crosstrain sandbox env`: a shell wired to the sandbox, real AWS out."""

from __future__ import annotations

import os
import subprocess
import sys

CLI = [sys.executable, "-m", "crosstrain.cli"]
REAL = {"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAREAL", "AWS_DEFAULT_REGION": "eu-west-1"}


def run(*args: str, home) -> subprocess.CompletedProcess:
    env = {**os.environ, **REAL, "HOME": str(home), "CROSSTRAIN_HOME": str(home / ".ct")}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_shell_runs_commands_against_the_sandbox_without_the_real_profile(sandbox, tmp_path):
    (tmp_path / ".bashrc").write_text("export AWS_PROFILE=from-rc\n")
    script = 'echo "$AWS_ENDPOINT_URL ${AWS_PROFILE:-none} $AWS_ACCESS_KEY_ID"; command -v aws'
    done = run("shell", "--port", str(sandbox.port), "-c", script, home=tmp_path)
    assert done.returncode == 0, done.stderr
    first, aws = done.stdout.strip().splitlines()[-2:]
    endpoint, profile, key = first.split()
    assert (endpoint, profile) == (sandbox.endpoint_url, "none")
    assert key != REAL["AWS_ACCESS_KEY_ID"]
    assert aws.endswith("/aws")


def test_shell_passes_the_commands_exit_code_on(sandbox, tmp_path):
    assert run("shell", "--port", str(sandbox.port), "-c", "exit 3", home=tmp_path).returncode == 3


def test_sandbox_env_unsets_the_real_credentials(sandbox, tmp_path):
    done = run("sandbox", "env", "--port", str(sandbox.port), home=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("unset ") and "AWS_PROFILE" in lines[0]
    assert f"export AWS_ENDPOINT_URL={sandbox.endpoint_url}" in lines
    assert any(line.startswith("export AWS_CONFIG_FILE=") for line in lines)
