"""Shared by the cases (not a case): the reference solve module."""

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.solution_file("solve.py"))
