from crosstrain.labs.catalog import get_lab
from crosstrain.labs.workspace import changed_files, reset_workspace, start_workspace

DEMO = "00-sandbox-orientation"
HANDLER = "function/handler.py"


def test_start_copies_the_starter_without_the_manifest(content, workspace_root):
    result = start_workspace(get_lab(DEMO))
    assert result.workspace == workspace_root / DEMO
    assert "orientation.ipynb" in result.copied
    assert HANDLER in result.copied
    assert not (result.workspace / "lab.yaml").exists()


def test_start_never_overwrites_a_learner_file(content, workspace_root):
    lab = get_lab(DEMO)
    mine = start_workspace(lab).workspace / HANDLER
    mine.write_text("my work")
    again = start_workspace(lab)
    assert mine.read_text() == "my work"
    assert HANDLER in again.kept
    assert again.copied == []


def test_start_restores_a_deleted_file(content, workspace_root):
    lab = get_lab(DEMO)
    (start_workspace(lab).workspace / HANDLER).unlink()
    assert start_workspace(lab).copied == [HANDLER]


def test_changed_files_are_those_that_differ_from_the_starter(content, workspace_root):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    assert changed_files(lab, workspace) == []
    (workspace / HANDLER).write_text("mine")
    assert changed_files(lab, workspace) == [HANDLER]


def test_reset_backs_up_every_file_then_restores_the_starter(content, workspace_root):
    lab = get_lab(DEMO)
    workspace = start_workspace(lab).workspace
    (workspace / HANDLER).write_text("mine")
    (workspace / "notes.txt").write_text("my notes")
    saved = reset_workspace(lab)
    assert (saved / HANDLER).read_text() == "mine"
    assert (saved / "notes.txt").read_text() == "my notes"
    assert saved.parent == workspace_root / ".backups"
    assert (workspace / HANDLER).read_bytes() == (lab.lab_dir / HANDLER).read_bytes()
    assert not (workspace / "notes.txt").exists()
