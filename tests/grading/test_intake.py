"""Intake never grades the starter in place of a renamed, missing or wrong-lab notebook."""

from __future__ import annotations

import json
import shutil

import pytest

from crosstrain.grading import intake
from crosstrain.grading.unpack import Rejected
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")
OTHER = get_lab("11")


def solution(tmp_path, name="orientation.ipynb"):
    folder = tmp_path / "upload"
    folder.mkdir(exist_ok=True)
    shutil.copy(LAB.solution_dir / "orientation.ipynb", folder / name)
    return folder


def test_an_lms_renamed_notebook_is_matched_by_content(tmp_path):
    upload = solution(tmp_path, "orientation (1).ipynb")
    found = intake.check(LAB, upload)
    assert (upload / "orientation.ipynb").is_file()
    assert not (upload / "orientation (1).ipynb").exists()
    assert found.renamed == {"orientation (1).ipynb": "orientation.ipynb"}
    assert "graded orientation (1).ipynb as orientation.ipynb" in found.notes[0]


def test_a_renamed_notebook_without_cell_ids_is_matched_by_grade_ids(tmp_path):
    upload = solution(tmp_path, "my work.ipynb")
    nb = json.loads((upload / "my work.ipynb").read_text())
    for cell in nb["cells"]:
        cell.pop("id", None)
    (upload / "my work.ipynb").write_text(json.dumps(nb))
    intake.check(LAB, upload)
    assert (upload / "orientation.ipynb").is_file()


def test_a_folder_without_a_notebook_is_rejected_saying_what_it_holds(tmp_path):
    upload = tmp_path / "upload"
    (upload / "function").mkdir(parents=True)
    (upload / "function/handler.py").write_text("x = 1")
    with pytest.raises(Rejected, match=r"no notebook found .*it holds function/handler.py"):
        intake.check(LAB, upload)


def test_another_labs_notebook_is_rejected_naming_that_lab(tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    nb = next(iter(OTHER.manifest.submission.notebooks))
    shutil.copy(OTHER.lab_dir / nb, upload / "orientation.ipynb")
    with pytest.raises(Rejected, match=f"the notebook of lab {OTHER.slug}"):
        intake.check(LAB, upload)


def test_an_unrelated_notebook_is_rejected(tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "scratch.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))
    with pytest.raises(Rejected, match="scratch.ipynb .not this lab's notebook"):
        intake.check(LAB, upload)


def test_the_starter_counts_no_step_as_attempted(tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(LAB.lab_dir / "orientation.ipynb", upload / "orientation.ipynb")
    assert intake.check(LAB, upload).attempted == dict.fromkeys(LAB.manifest.step_ids, False)


def test_the_solution_counts_every_step_as_attempted(tmp_path):
    found = intake.check(LAB, solution(tmp_path))
    assert found.attempted == dict.fromkeys(LAB.manifest.step_ids, True)


def test_a_batch_rejects_a_folder_without_notebook_and_grades_a_renamed_one(tmp_path):
    import csv

    from crosstrain.grading.batch import grade

    subs = tmp_path / "subs"
    (subs / "empty-handed").mkdir(parents=True)
    (subs / "empty-handed/notes.txt").write_text("I forgot")
    renamed = subs / "renamed"
    renamed.mkdir()
    shutil.copy(LAB.solution_dir / "orientation.ipynb", renamed / "orientation (1).ipynb")
    shutil.copytree(LAB.solution_dir / "function", renamed / "function")
    out = tmp_path / "out"
    grade(subs, "00", out, progress=False, jobs=2)
    with open(out / "gradebook.csv") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["empty-handed"]["status"] == "rejected"
    assert "no notebook found" in rows["empty-handed"]["message"]
    assert "notes.txt" in rows["empty-handed"]["message"]
    assert rows["renamed"]["total"] == "10"
    assert (
        "graded orientation (1).ipynb as orientation.ipynb"
        in (out / "feedback/renamed.md").read_text()
    )
