"""`crosstrain up` says how to get `crosstrain` on PATH when the shell would not find it."""

from __future__ import annotations

import sys
from pathlib import Path

from crosstrain.web import server


def test_without_crosstrain_on_path_it_names_the_workbench_terminal_and_make_shell(monkeypatch):
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    said = " ".join(server.path_hint())
    assert "JupyterLab's terminal" in said and "make shell" in said
    assert str(Path(sys.executable).parent / "activate") in said


def test_with_this_crosstrain_on_path_it_says_nothing(monkeypatch):
    mine = Path(sys.executable).parent / "crosstrain"
    monkeypatch.setattr(server.shutil, "which", lambda name: str(mine))
    assert server.path_hint() == []
