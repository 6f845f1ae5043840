"""Shared by the cases (not a case): the reference solves, to deploy variants of the handler."""

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.lab.solution_dir / "solve.py")


def redeploy_variant(ctx, old: str, new: str, **stages) -> None:
    """Deploy the solution handler (at ``stages``) with ``old`` replaced by ``new``."""
    lab = solves(ctx)
    source = lab.replace(lab.handler_source(ctx, **stages), old, new)
    lab.redeploy(ctx, source, write=False)
