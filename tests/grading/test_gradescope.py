"""The Gradescope autograder bundle: its run_autograder, run locally, writes results.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

from click.testing import CliRunner

from crosstrain.cli import main
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")


def unpack_bundle(tmp_path, *extra):
    bundle = tmp_path / "autograder.zip"
    result = CliRunner().invoke(
        main, ["course", "export-gradescope", "00", "--out", str(bundle), *extra]
    )
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile drops modes: restore them as Gradescope does
            mode = info.external_attr >> 16 & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    return root, bundle


def run_autograder(root):
    env = os.environ | {
        "AUTOGRADER_ROOT": str(root),
        "CROSSTRAIN": f"{sys.executable} -m crosstrain.cli",
    }
    env.pop("CROSSTRAIN_GRADING_SECRET", None)
    subprocess.run(["bash", str(root / "source/run_autograder")], env=env, check=True, timeout=300)
    return json.loads((root / "results/results.json").read_text())


def test_the_bundle_holds_setup_run_and_graders_but_no_solutions(tmp_path):
    _, bundle = unpack_bundle(tmp_path)
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert f"course/graders/{LAB.slug}/checks.py" in names
    assert f"course/labs/{LAB.slug}/lab.yaml" in names
    assert not any("solution" in n for n in names)
    mode = zipfile.ZipFile(bundle).getinfo("run_autograder").external_attr >> 16
    assert mode & 0o111


def test_run_autograder_grades_a_renamed_solution_to_full_points(tmp_path):
    root, _ = unpack_bundle(tmp_path)
    (root / "submission").mkdir()
    shutil.copy(LAB.solution_dir / "orientation.ipynb", root / "submission/orientation (2).ipynb")
    shutil.copytree(LAB.solution_dir / "function", root / "submission/function")
    data = run_autograder(root)
    assert data["score"] == 10
    assert data["tests"] and all(t["status"] == "passed" for t in data["tests"])


def test_run_autograder_reports_a_submission_it_cannot_grade(tmp_path):
    root, _ = unpack_bundle(tmp_path)
    (root / "submission").mkdir()
    (root / "submission/notes.txt").write_text("no notebook")
    data = run_autograder(root)
    assert data["score"] == 0 and "no notebook found" in json.dumps(data)


def test_an_existing_zip_is_not_overwritten(tmp_path):
    (tmp_path / "a.zip").write_text("x")
    result = CliRunner().invoke(
        main, ["course", "export-gradescope", "00", "--out", str(tmp_path / "a.zip")]
    )
    assert result.exit_code == 2 and "--force" in result.output
