"""LocalStack-style samples: deploy scripts that call `awslocal`, run unchanged on the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scenarios.tools import HERE, need_tool

pytestmark = pytest.mark.slow


def run_script(sandbox, script: Path) -> list[str]:
    bin_dir = Path(sys.executable).parent
    need_tool(bin_dir / "awslocal", "awslocal", "pip install -e '.[dev]'")
    need_tool("curl", "curl", "apt-get install curl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.env())
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()


def test_the_awslocal_deploy_script_deploys_a_stack_that_works(sandbox):
    lines = run_script(sandbox, HERE / "awslocal_stack" / "deploy.sh")
    account = sandbox.client("sts").get_caller_identity()["Account"]
    role = next(i for i, line in enumerate(lines) if line.startswith("role "))
    assert lines[role].startswith(f"role arn:aws:iam::{account}:role/")
    attached = lines[role + 1].split()
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in attached
    assert "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" in attached
    summary = json.loads(lines[-1])
    assert summary == {"reports": 1, "keys": ["reports/2026-12-07.csv"]}


def test_the_sam_deploy_script_packages_deploys_and_the_api_answers(sandbox):
    lines = run_script(sandbox, HERE / "sam_app" / "deploy.sh")
    answers = [json.loads(line) for line in lines if line.startswith("{")]
    assert answers == [{"page": "home", "visits": 1}, {"page": "home", "visits": 2}]
