"""A failing cell is named as the learner sees it and tied to its step."""

from __future__ import annotations

from crosstrain.grading.cells import locate
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")
STARTER = LAB.lab_dir / "orientation.ipynb"


def test_the_starters_first_todo_is_placed_in_its_step():
    said = locate("cell 4 raised NotImplementedError", STARTER, LAB.manifest.step_ids)
    assert said == "cell 4 (code cell 2, step store-dataset) raised NotImplementedError"


def test_a_cell_before_any_step_has_no_step():
    said = locate("cell 2 raised NameError: x", STARTER, LAB.manifest.step_ids)
    assert said == "cell 2 (code cell 1) raised NameError: x"


def test_messages_without_a_cell_are_unchanged():
    assert locate("timed out after 120 s", STARTER, LAB.manifest.step_ids) == (
        "timed out after 120 s"
    )


def test_an_unreadable_notebook_leaves_the_message(tmp_path):
    (tmp_path / "nb.ipynb").write_text("not json")
    assert locate("cell 4 raised X", tmp_path / "nb.ipynb", []) == "cell 4 raised X"
