"""A submission that rewrites the lab's grader files is caught, not trusted."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from crosstrain.grading.batch import grade
from crosstrain.grading.isolate import Isolation

pytestmark = pytest.mark.slow
ROOT_PARTS = ("labs", "graders", "solutions")


def test_unjailed_rewrite_of_the_graders_is_caught(tmp_path, repo_root, monkeypatch):
    content = tmp_path / "content"
    for part in ROOT_PARTS:
        shutil.copytree(repo_root / part, content / part)
    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    checks = content / "graders" / "00-sandbox-orientation" / "checks.py"
    cell = f"open({str(checks)!r}, 'a').write('\\n# every check passes now\\n')"
    (tmp_path / "subs" / "eve").mkdir(parents=True)
    nb = new_notebook(cells=[new_code_cell(cell)])
    nbformat.write(nb, tmp_path / "subs" / "eve" / "orientation.ipynb")
    summary = grade(
        tmp_path / "subs", "00", tmp_path / "out", jobs=1, progress=False, isolation=Isolation()
    )
    assert summary.statuses == {"tampered": 1} and summary.mean_points == 0
