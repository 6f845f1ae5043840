"""Where the scenario tests find the tools learners bring (node, the CDK, awslocal)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CDK_APP = HERE / "cdk_app"


def need_tool(path: Path | str | None, what: str, install: str) -> str:
    """The tool's path; a skip naming ``install`` when it is absent (a failure in CI)."""
    if path and (Path(path).exists() or shutil.which(str(path))):
        return str(path)
    message = f"{what} is not installed: run `{install}`"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it: see .ci/run)")
    pytest.skip(message)
