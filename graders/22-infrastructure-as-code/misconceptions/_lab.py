"""Shared by the cases (not a case): the reference solves, and the solution's template."""

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.lab.solution_dir / "solve.py")


def template(ctx) -> str:
    return ctx.solution_file("template.yaml").read_text()
