"""Shared by the cases (not a case): the reference solves and a way to write a changed clean.py."""

from pathlib import Path

from crosstrain.labs.catalog import load_module


def solves(ctx):
    """The lab's solve module (its constants, run_query and DDL)."""
    return load_module(ctx.solution_file("solve.py"))


def write_clean(ctx, *edits: tuple[str, str]) -> None:
    """Write the reference etl/clean.py to the workspace with each (old, new) edit applied."""
    source = ctx.solution_file("etl/clean.py").read_text()
    for old, new in edits:
        if old not in source:
            raise ValueError(f"the reference clean.py no longer contains {old!r}")
        source = source.replace(old, new)
    path = Path(ctx.workspace) / "etl" / "clean.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
