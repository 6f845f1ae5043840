"""One gradebook, one grading policy; --student regrades just those students."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest
from click.testing import CliRunner

from crosstrain.errors import CrosstrainError
from crosstrain.grading.batch import grade
from crosstrain.grading.policy import Policy, differences


def slip(path, payload="x"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.py", payload)  # rejected at once: no sandbox needed


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    slip(folder / "ann.zip")
    slip(folder / "ben.zip")
    return folder


def run(subs, out, **kw):
    return grade(subs, "00", out, progress=False, **kw)


def rows(out) -> dict[str, dict]:
    db = sqlite3.connect(out / "grades.sqlite")
    try:
        return {s: json.loads(d) for s, d in db.execute("SELECT student, data FROM results")}
    finally:
        db.close()


def test_every_row_records_its_policy(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    policies = {r["policy"] for r in rows(tmp_path / "out").values()}
    assert len(policies) == 1 and "secret:" in policies.pop()


def test_another_secret_is_refused_naming_the_fix(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    with pytest.raises(CrosstrainError, match="another grading policy.*--regrade"):
        run(subs, tmp_path / "out", secret="s2")


def test_grading_without_the_secret_after_grading_with_it_is_refused(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    with pytest.raises(CrosstrainError, match="this run without a secret"):
        run(subs, tmp_path / "out")


def test_a_new_student_under_another_policy_is_refused(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    slip(subs / "cat.zip")
    with pytest.raises(CrosstrainError, match="another grading policy"):
        run(subs, tmp_path / "out", secret="s2")
    assert sorted(rows(tmp_path / "out")) == ["ann", "ben"]


def test_regrade_moves_everyone_to_the_new_policy(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    (subs / "ben.zip").unlink()  # a row no longer in the folder cannot stay under the old policy
    summary = run(subs, tmp_path / "out", secret="s2", regrade=True)
    assert sorted(rows(tmp_path / "out")) == ["ann"]
    assert any("regraded everyone" in w for w in summary.warnings)


def test_changed_graders_are_named():
    assert "graders changed" in differences(Policy("a", "g1"), Policy("a", "g2"))


def test_student_regrades_only_that_student(subs, tmp_path):
    run(subs, tmp_path / "out")
    before = rows(tmp_path / "out")
    summary = run(subs, tmp_path / "out", students=["ann"])
    after = rows(tmp_path / "out")
    assert (summary.graded, summary.skipped) == (1, 1)
    assert after["ben"] == before["ben"]


def test_student_regrade_under_another_policy_is_refused(subs, tmp_path):
    run(subs, tmp_path / "out", secret="s1")
    with pytest.raises(CrosstrainError, match="another grading policy"):
        run(subs, tmp_path / "out", secret="s2", students=["ann"])


def test_an_unknown_student_is_named_with_the_close_ones(subs, tmp_path):
    with pytest.raises(CrosstrainError, match="unknown student 'anne'.*ann"):
        run(subs, tmp_path / "out", students=["anne"])


def test_cli_refuses_a_mixed_policy_in_one_line(subs, tmp_path):
    from crosstrain.cli import main as cli

    out = str(tmp_path / "out")
    runner = CliRunner()
    args = ["grade", str(subs), "--lab", "00", "--out", out, "--json"]
    assert runner.invoke(cli, [*args, "--secret", "s1"]).exit_code == 0
    again = runner.invoke(cli, [*args, "--secret", "s2"])
    assert again.exit_code != 0
    assert "Traceback" not in again.output and "--regrade" in again.output
