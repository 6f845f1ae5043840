"""`crosstrain grade` and `crosstrain course export-nbgrader` as a user types them."""

from __future__ import annotations

import json
import zipfile

from click.testing import CliRunner

from crosstrain.cli import main


def slip_folder(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "mallory.zip", "w") as archive:
        archive.writestr("../evil.py", "x")
    return subs


def test_grade_writes_the_gradebook_and_summarises(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["grade", str(slip_folder(tmp_path)), "--lab", "00", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "mallory" in (out / "gradebook.csv").read_text()
    assert "(1 rejected)" in result.output
    assert "learner code ran as " in result.output  # how it was isolated is always said


def test_grade_json_summary(tmp_path):
    args = ["grade", str(slip_folder(tmp_path)), "--lab", "00", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, [*args, "--json", "--secret", "s"])
    assert json.loads(result.output)["statuses"] == {"rejected": 1}


def test_grade_unknown_lab_is_one_line(tmp_path):
    args = ["grade", str(slip_folder(tmp_path)), "--lab", "0x", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "unknown lab" in result.output


def test_export_nbgrader_writes_a_course(tmp_path):
    result = CliRunner().invoke(main, ["course", "export-nbgrader", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c/source/00-sandbox-orientation/orientation.ipynb").is_file()
    assert (tmp_path / "c/nbgrader_config.py").is_file()
