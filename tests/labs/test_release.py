import json

import pytest

from crosstrain.labs.catalog import get_lab, list_labs
from crosstrain.labs.release import release, stale_starters

DEMO = "00-sandbox-orientation"


@pytest.mark.parametrize("slug", [lab.slug for lab in list_labs()])
def test_committed_starters_are_not_stale(slug):
    """Fails when a solution changed without `crosstrain author release`."""
    assert stale_starters(get_lab(slug)) == []


def test_a_changed_solution_makes_the_starter_stale(content):
    lab = get_lab(DEMO)
    handler = lab.solution_dir / "function" / "handler.py"
    handler.write_text(handler.read_text().replace("what a customer", "what each customer"))
    assert stale_starters(lab) == ["function/handler.py"]
    assert release(lab) == ["function/handler.py"]
    assert stale_starters(lab) == []


def test_release_clears_solutions_with_nbgrader_stubs(content):
    lab = get_lab(DEMO)
    (lab.lab_dir / "orientation.ipynb").unlink()
    release(lab)
    starter = json.loads((lab.lab_dir / "orientation.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in starter["cells"]]
    assert not any("BEGIN SOLUTION" in s or "put_bucket_versioning" in s for s in sources)
    assert sum("raise NotImplementedError()" in s for s in sources) == 3
    assert all(not cell.get("outputs") for cell in starter["cells"])


def test_release_keeps_the_text_around_a_solution_region(content):
    lab = get_lab(DEMO)
    starter = (lab.lab_dir / "function" / "handler.py").read_text()
    assert "def handler(event, context):" in starter
    assert "    raise NotImplementedError()" in starter
    assert "round(" not in starter


def test_a_yaml_solution_region_becomes_a_yaml_comment(content):
    lab = get_lab(DEMO)
    (lab.solution_dir / "template.yaml").write_text(
        "Resources:\n  ### BEGIN SOLUTION\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "  ### END SOLUTION\nOutputs: {}\n"
    )
    release(lab)
    starter = (lab.lab_dir / "template.yaml").read_text()
    assert "NotImplementedError" not in starter and "AWS::S3::Bucket" not in starter
    assert starter == "Resources:\n  # YOUR CODE HERE\nOutputs: {}\n"
