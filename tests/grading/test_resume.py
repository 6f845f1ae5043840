"""Resumable batches: a rerun skips graded students; a kill loses no finished grade."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from crosstrain.grading.batch import grade


def slip(path, payload="x"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.py", payload)


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    slip(folder / "ann.zip")
    slip(folder / "ben.zip")
    return folder


def run(subs, out, **kw):
    return grade(subs, "00", out, progress=False, **kw)


def test_rerun_skips_graded_students(subs, tmp_path):
    run(subs, tmp_path / "out")
    again = run(subs, tmp_path / "out")
    assert (again.graded, again.skipped) == (0, 2)


def test_regrade_grades_everyone_again(subs, tmp_path):
    run(subs, tmp_path / "out")
    assert run(subs, tmp_path / "out", regrade=True).graded == 2


def test_a_changed_submission_is_graded_again(subs, tmp_path):
    run(subs, tmp_path / "out")
    slip(subs / "ann.zip", payload="changed")
    assert run(subs, tmp_path / "out").graded == 1


@pytest.mark.slow
def test_killing_the_batch_keeps_finished_grades(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("a", "b", "c"):
        (subs / name).mkdir(parents=True)
        cells = [new_code_cell("x = 1")] if name == "a" else [new_code_cell("while True: pass")]
        nbformat.write(new_notebook(cells=cells), subs / name / "orientation.ipynb")
    cmd = [sys.executable, "-m", "crosstrain.cli", "grade", str(subs), "--lab", "00"]
    cmd += ["--out", str(out), "--jobs", "1", "--timeout", "30", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "grades.sqlite"
    deadline = time.monotonic() + 240
    while not (db.exists() and _count(db)):
        assert proc.poll() is None and time.monotonic() < deadline, "no grade was saved"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rows = sqlite3.connect(db).execute("SELECT student, points, data FROM results").fetchall()
    assert [r[0] for r in rows] == ["a"]
    assert json.loads(rows[0][2])["student"] == "a"
    again = run(subs, out, timeout=2)
    assert (again.skipped, again.graded) == (1, 2)


def _count(db) -> int:
    try:
        return sqlite3.connect(db).execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_an_out_folder_inside_the_submissions_is_not_a_student(subs):
    (subs / "grades").mkdir()
    summary = run(subs, subs / "grades")
    assert summary.total == 2


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("a", "b"):
        (subs / name).mkdir(parents=True)
        cells = [new_code_cell("x = 1")] if name == "a" else [new_code_cell("while True: pass")]
        nbformat.write(new_notebook(cells=cells), subs / name / "orientation.ipynb")
    cmd = [sys.executable, "-m", "crosstrain.cli", "grade", str(subs), "--lab", "00"]
    cmd += ["--out", str(out), "--jobs", "1", "--timeout", "120", "--json"]
    # An earlier test (nbgrader's apps) may leave SIGINT ignored in this process; the child would
    # inherit that. A user's terminal delivers Ctrl-C with the default disposition.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    db = out / "grades.sqlite"
    deadline = time.monotonic() + 240
    while not (db.exists() and _count(db)):
        assert proc.poll() is None and time.monotonic() < deadline, "no grade was saved"
        time.sleep(0.2)
    time.sleep(2)  # b's notebook is running now
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "run the same command again to resume" in err
    assert _count(db) == 1
