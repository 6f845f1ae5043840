import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.runner import run_checks
from crosstrain.labs.solves import load_solves, skip
from crosstrain.labs.workspace import start_workspace

DEMO = "00-sandbox-orientation"
HANDLER = "function/handler.py"


def test_every_step_has_one_solve_and_a_teardown(content):
    solves = load_solves(get_lab(DEMO))
    assert list(solves.steps) == ["store-dataset", "dynamodb-item", "deploy-function"]
    assert callable(solves.teardown)


def test_a_step_without_a_solve_is_refused(content):
    path = content / "solutions" / DEMO / "solve.py"
    path.write_text(path.read_text().replace('@solve("dynamodb-item")\n', ""))
    with pytest.raises(CrosstrainError, match="no solve for step"):
        load_solves(get_lab(DEMO))


def test_skip_runs_the_solves_up_to_the_step(content, workspace_root, sandbox):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    result = skip(lab, "dynamodb-item", sandbox, workspace)
    assert result.steps == ["store-dataset", "dynamodb-item"]
    passed = {r.step for r in run_checks(lab, sandbox, workspace) if r.passed}
    assert passed == {"store-dataset", "dynamodb-item"}


def test_skip_asks_before_replacing_a_changed_file_and_stops_if_declined(
    content, workspace_root, sandbox
):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    (workspace / HANDLER).write_text("mine")
    asked = []

    def decline(files):
        asked.append(files)
        return False

    with pytest.raises(CrosstrainError, match="--yes"):
        skip(lab, "deploy-function", sandbox, workspace, confirm=decline)
    assert asked == [[HANDLER]]
    assert (workspace / HANDLER).read_text() == "mine"
    assert sandbox.client("s3").list_buckets()["Buckets"] == []


def test_skip_backs_up_a_changed_file_before_replacing_it(content, workspace_root, sandbox):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    (workspace / HANDLER).write_text("mine")
    result = skip(lab, "deploy-function", sandbox, workspace, confirm=lambda files: True)
    assert (result.backup / HANDLER).read_text() == "mine"
    assert "BEGIN SOLUTION" in (workspace / HANDLER).read_text()


def test_skip_does_not_ask_about_untouched_files(content, workspace_root, sandbox):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    result = skip(lab, "store-dataset", sandbox, workspace, confirm=lambda files: 1 / 0)
    assert result.backup is None


def test_a_solve_may_not_write_undeclared_files(content, workspace_root, sandbox):
    path = content / "solutions" / DEMO / "solve.py"
    path.write_text(path.read_text().replace('files=["function/handler.py"]', "files=[]"))
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    with pytest.raises(CrosstrainError, match="without declaring it"):
        skip(lab, "deploy-function", sandbox, workspace)
