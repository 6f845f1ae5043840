"""Run what a graded submission runs: the manifest's notebooks top to bottom, then its scripts.

Each runs in the workspace folder with the sandbox's environment and the manifest's time limit.
A failure in learner code is recorded, never raised.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab
    from crosstrain.sandbox import Sandbox

SCRUBBED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@dataclass
class RunOutcome:
    file: str
    ok: bool
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def sandbox_environment(sandbox: Sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    return env | sandbox.env()


def run_notebook(path: Path, env: dict[str, str], timeout: int) -> RunOutcome:
    """Run the notebook with :mod:`crosstrain.labs.nbrun` (the runner grading uses too)."""
    from crosstrain.labs.nbrun import execute

    report = execute(path, timeout, env=env)
    return RunOutcome(path.name, bool(report["ok"]), "" if report["ok"] else report["message"])


def run_script(path: Path, env: dict[str, str], timeout: int) -> RunOutcome:
    try:
        proc = subprocess.run(
            [sys.executable, path.name],
            cwd=path.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return RunOutcome(path.name, False, f"timed out after {timeout} s")
    if proc.returncode:
        tail = (proc.stderr.strip().splitlines() or ["exit code"])[-1]
        return RunOutcome(path.name, False, f"exit {proc.returncode}: {tail}")
    return RunOutcome(path.name, True)


def run_submission(lab: Lab, workspace: Path, sandbox: Sandbox) -> list[RunOutcome]:
    """Execute the manifest's notebooks, then its scripts, in ``workspace``."""
    spec = lab.manifest.submission
    env = sandbox_environment(sandbox)
    outcomes = []
    for rel in spec.notebooks:
        path = workspace / rel
        if not path.is_file():
            outcomes.append(RunOutcome(rel, False, "file not found"))
            continue
        outcomes.append(run_notebook(path, env, spec.time_limit))
    for rel in spec.scripts:
        path = workspace / rel
        if not path.is_file():
            outcomes.append(RunOutcome(rel, False, "file not found"))
            continue
        outcomes.append(run_script(path, env, spec.time_limit))
    return outcomes
