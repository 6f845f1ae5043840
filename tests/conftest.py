"""Shared fixtures: a real sandbox process per test session, reset before each test that asks."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_sandbox():
    """One ephemeral sandbox process for the whole test session (use ``sandbox`` instead)."""
    from crosstrain import sandbox

    sb = sandbox.start()
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(shared_sandbox):
    """The session's sandbox, reset to empty before the test."""
    shared_sandbox.reset()
    return shared_sandbox


@pytest.fixture
def aws_env(sandbox, monkeypatch):
    """Point boto3 in this process at the sandbox through the environment."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    return sandbox
