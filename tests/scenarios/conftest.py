"""Scenario tests: whole tutorials driven through the tools learners bring (CDK, SAM, awslocal)."""

from __future__ import annotations

import shutil

import pytest
from scenarios.tools import CDK_APP, need_tool


@pytest.fixture
def cdk_tools() -> dict[str, str]:
    """Paths of ``cdk`` and ``cdklocal`` from the scenario app's own node_modules."""
    need_tool(shutil.which("node"), "node", "apt-get install nodejs npm")
    bins = CDK_APP / "node_modules" / ".bin"
    return {
        name: need_tool(bins / name, f"the CDK toolchain ({name})", "make cdk-toolchain")
        for name in ("cdk", "cdklocal")
    }
