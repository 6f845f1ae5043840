"""A check that cannot decide costs its points and says so; the grade is final, never a trap.

A learner can make a check crash or overrun on purpose (issue #17, class 6): were that an
``error``, the grade would stay pending and be regraded forever.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from crosstrain.grading.batch import grade
from crosstrain.grading.store import GradeStore

pytestmark = pytest.mark.slow
BROKEN = """

@check("store-dataset", points=0, hint="unused")
def crashes(ctx):
    raise RuntimeError("the check itself is broken")
"""


def test_a_crashing_check_gives_a_final_grade_with_a_message(tmp_path, repo_root, monkeypatch):
    content = tmp_path / "content"
    for part in ("labs", "graders", "solutions"):
        shutil.copytree(repo_root / part, content / part)
    checks = content / "graders" / "00-sandbox-orientation" / "checks.py"
    checks.write_text(checks.read_text() + BROKEN)
    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "subs" / "ann" / "orientation.ipynb")
    summary = grade(tmp_path / "subs", "00", tmp_path / "out", jobs=1, progress=False)
    assert summary.statuses == {"graded": 1}
    store = GradeStore(tmp_path / "out", "00-sandbox-orientation")
    assert list(store.done()) == ["ann"]  # final: not regraded by the next run
    (result,) = store.results()
    assert "check crashes could not decide (the check crashed: RuntimeError" in result.message
