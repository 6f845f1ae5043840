"""SDK drift guard: every emulated service answers the newest and the oldest supported botocore.

``drift/scenarios.py`` drives representative calls per service in plain boto3. It runs twice
against one sandbox: with this venv's (newest) botocore, and with the oldest botocore
``pyproject.toml`` allows, from ``.venv-oldest`` (``make test`` builds it: boto3 and botocore
only). When botocore moves a service to another wire protocol and the sandbox does not follow,
the newest run fails; when the sandbox drops a protocol older clients speak, the oldest run does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from crosstrain.sandbox.core.ledger import LEDGER

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = Path(__file__).parent / "drift" / "scenarios.py"


def lower_bound(package: str) -> str:
    """The ``>=`` bound ``pyproject.toml`` gives ``package``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        match = re.fullmatch(rf"{package}>=([\d.]+)(,.*)?", requirement)
        if match:
            return match.group(1)
    raise AssertionError(f"pyproject.toml gives {package} no >= bound")


def oldest_python() -> str:
    python = os.environ.get("CROSSTRAIN_OLDEST_PYTHON") or str(ROOT / ".venv-oldest/bin/python")
    if not Path(python).exists():
        pytest.skip("no .venv-oldest: `make test` builds it (boto3/botocore at pyproject's bound)")
    return python


def drive(python: str, endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [python, str(SCENARIOS), endpoint], capture_output=True, text=True, timeout=240, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("which", ["newest", "oldest"])
def test_every_service_answers_the_sdk(sandbox, which):
    python = sys.executable if which == "newest" else oldest_python()
    report = drive(python, sandbox.endpoint_url)
    if which == "oldest":
        assert report["botocore"] == lower_bound("botocore"), "test the bound pyproject states"
    failed = {k: v for k, v in report["results"].items() if v != "ok"}
    assert not failed, f"botocore {report['botocore']}: {failed}"


def test_scenarios_cover_the_ledger():
    source = SCENARIOS.read_text()
    missing = [e.service for e in LEDGER if f'("{e.service}", ' not in source]
    assert not missing, f"drift scenarios lack {missing}"
