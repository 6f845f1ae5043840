"""Shared by the cases (not a case): the reference solves, a changed train.py, running a job."""

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.solution_file("solve.py"))


def variant(ctx, *changes: tuple[str, str]) -> str:
    """The reference train.py with each ``(old, new)`` change made (each must apply)."""
    source = ctx.solution_file("train.py").read_text()
    for old, new in changes:
        if old not in source:
            raise ValueError(f"train.py no longer contains {old!r}: update this case")
        source = source.replace(old, new)
    return source


def run(ctx, source: str | None = None, wait: bool = True, **job):
    """Upload ``source`` as the job's code (if given), start a job; its description or name."""
    ref = solves(ctx)
    if source is not None:
        ref.upload_source(ctx.client("s3"), source)
    name = ref.start_job(ctx, **job)
    return ref.wait_job(ctx, name) if wait else name
