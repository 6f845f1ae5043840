"""Fixtures for the labs room: a private copy of the content, a workspace, the test sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO = "00-sandbox-orientation"


def copy_lab(repo_root: Path, dest: Path, slug: str = DEMO) -> Path:
    """Copy one lab's four places from the repository into ``dest``; return ``dest``."""
    for place in ("labs", "solutions", "graders"):
        shutil.copytree(repo_root / place / slug, dest / place / slug)
    (dest / "docs" / "labs").mkdir(parents=True)
    shutil.copy2(repo_root / "docs" / "labs" / f"{slug}.md", dest / "docs" / "labs")
    return dest


@pytest.fixture
def content(repo_root, tmp_path, monkeypatch) -> Path:
    """A content root holding a copy of the demo lab, selected with CROSSTRAIN_CONTENT_DIR."""
    root = copy_lab(repo_root, tmp_path / "content")
    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(root))
    return root


@pytest.fixture
def workspace_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "workspace"
    monkeypatch.setenv("CROSSTRAIN_WORKSPACE", str(root))
    return root


@pytest.fixture
def connected(sandbox, monkeypatch):
    """``crosstrain.sandbox.connect()`` answers with the test session's (reset) sandbox."""
    import crosstrain.sandbox

    monkeypatch.setattr(crosstrain.sandbox, "connect", lambda port=None: sandbox)
    return sandbox
