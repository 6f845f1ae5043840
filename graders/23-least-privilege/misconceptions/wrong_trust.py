"""The endpoint role is copied from the function's and trusts lambda.amazonaws.com: SageMaker
cannot assume it, so the endpoint has no credentials at all."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "trust"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    solves = helpers.solves(ctx)
    solves.scope(ctx, trusts={"endpoint": solves.trust("lambda.amazonaws.com")})
