"""Shared by the cases (not a case): the reference solves, to deploy variants of the solution."""

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.lab.solution_dir / "solve.py")


def deploy_variant(ctx, *edits: tuple[str, str]) -> None:
    """Package model v1 with the solution's inference.py changed by ``edits`` (old, new) and
    deploy it as step 2 does."""
    lab = solves(ctx)
    source = lab.inference_source(ctx)
    for old, new in edits:
        source = lab.replace(source, old, new)
    lab.package(ctx, "v1", source)
    lab.deploy_endpoint(ctx)
