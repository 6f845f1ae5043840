import subprocess
import sys

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.scaffold import new_lab
from crosstrain.labs.selftest import self_test


def test_new_lab_creates_the_four_places(content):
    new_lab("42-first-steps")
    lab = get_lab("42-first-steps")
    assert lab.manifest.step_ids == ["make-bucket"]
    for path in (lab.lab_dir / "lab.ipynb", lab.solution_dir / "solve.py", lab.doc_page):
        assert path.is_file()
    assert (lab.grader_dir / "misconceptions" / "versioning_off.py").is_file()


def test_new_lab_refuses_a_bad_id(content):
    with pytest.raises(CrosstrainError, match="two digits"):
        new_lab("first-steps")


def test_new_lab_never_overwrites(content):
    with pytest.raises(CrosstrainError, match="already exists"):
        new_lab("00-sandbox-orientation")


@pytest.mark.slow
def test_a_new_lab_passes_its_self_test(content):
    new_lab("42-first-steps")
    report = self_test(get_lab("42-first-steps"))
    assert [f"{f.name}: {f.detail}" for f in report.findings if not f.ok] == []


def test_a_new_lab_is_lint_clean(content):
    """`make test` runs ruff over the repository: a scaffolded lab must not break it."""
    new_lab("42-a-lab-with-a-rather-long-name-that-goes-on-and-on")
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--line-length", "100", str(content)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout
