"""The README's promises hold: its make commands exist, CI runs the README's test command."""

import re


def test_readme_make_commands_are_makefile_targets(repo_root):
    readme = (repo_root / "README.md").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", (repo_root / "Makefile").read_text(), re.M))
    shown = set(re.findall(r"\bmake ([a-z][\w-]*)", readme))
    assert {"up", "test"} <= shown
    assert shown <= targets, f"README shows make targets the Makefile lacks: {shown - targets}"


def test_ci_runs_make_test(repo_root):
    ci = (repo_root / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "|| true" not in ci  # nothing may mask pytest's exit code
