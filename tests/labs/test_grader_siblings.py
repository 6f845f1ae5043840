"""A grader may split its checks into sibling modules of its folder and import them relatively:
loaded with the checks (edits picked up), searched only in that folder (a learner's workspace
cannot shadow them), and counted in the grader fingerprint grading uses to catch tampering."""

from __future__ import annotations

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.checks import load_checks

DEMO = "00-sandbox-orientation"
HELPER_CHECK = """
from crosstrain.labs.checks import check


@check("store-dataset", points=0, hint="none")
def from_a_sibling(ctx):
    return MESSAGE
"""


def add_sibling(content, message: str) -> None:
    folder = content / "graders" / DEMO
    (folder / "extra.py").write_text(HELPER_CHECK.replace("MESSAGE", repr(message)))
    checks = folder / "checks.py"
    if "from .extra import" not in checks.read_text():
        checks.write_text(checks.read_text() + "\nfrom .extra import from_a_sibling  # noqa\n")


def test_checks_can_import_a_sibling_module(content):
    add_sibling(content, "first")
    names = [s.name for s in load_checks(get_lab(DEMO))]
    assert "from_a_sibling" in names


def test_an_edited_sibling_is_loaded_afresh(content):
    add_sibling(content, "first")
    first = next(s for s in load_checks(get_lab(DEMO)) if s.name == "from_a_sibling")
    add_sibling(content, "second")
    second = next(s for s in load_checks(get_lab(DEMO)) if s.name == "from_a_sibling")
    assert (first.fn(None), second.fn(None)) == ("first", "second")


def test_a_module_of_the_same_name_elsewhere_is_never_imported(content, tmp_path, monkeypatch):
    (tmp_path / "extra.py").write_text("raise SystemExit('the workspace was imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    add_sibling(content, "mine")
    assert "from_a_sibling" in [s.name for s in load_checks(get_lab(DEMO))]


def test_an_error_in_a_sibling_names_its_file_and_line(content):
    add_sibling(content, "x")
    (content / "graders" / DEMO / "extra.py").write_text("x = 1\nraise ValueError('broken')\n")
    with pytest.raises(CrosstrainError, match=r"extra\.py:2 failed to load: ValueError"):
        load_checks(get_lab(DEMO))


def test_siblings_count_in_the_grader_fingerprint(content):
    from crosstrain.grading.checking import grader_fingerprint

    add_sibling(content, "x")
    before = grader_fingerprint(get_lab(DEMO))
    add_sibling(content, "y")
    assert grader_fingerprint(get_lab(DEMO)) != before
