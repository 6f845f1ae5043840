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


def plain_solution_notebook(path):
    """A solution notebook whose answer cell has markers but no nbgrader metadata."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell("import boto3"),
            new_code_cell("x = 1\n### BEGIN SOLUTION\nx = 42\n### END SOLUTION\nprint(x)"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)


def test_markers_in_a_cell_without_metadata_are_cleared(content):
    lab = get_lab(DEMO)
    plain_solution_notebook(lab.solution_dir / "extra.ipynb")
    assert "extra.ipynb" in release(lab)
    cells = json.loads((lab.lab_dir / "extra.ipynb").read_text())["cells"]
    answer = "".join(cells[1]["source"])
    assert "x = 42" not in answer and "x = 1" in answer and "print(x)" in answer
    assert cells[1]["metadata"]["nbgrader"]["solution"] is True
    assert "nbgrader" not in cells[0]["metadata"]


def test_author_mark_writes_the_metadata_into_the_solution(content):
    from click.testing import CliRunner

    from crosstrain.cli import main

    lab = get_lab(DEMO)
    plain_solution_notebook(lab.solution_dir / "extra.ipynb")
    result = CliRunner().invoke(main, ["author", "mark", DEMO])
    assert result.exit_code == 0, result.output
    assert "extra.ipynb: marked solution-1" in result.output
    cells = json.loads((lab.solution_dir / "extra.ipynb").read_text())["cells"]
    assert cells[1]["metadata"]["nbgrader"]["grade_id"] == "solution-1"
