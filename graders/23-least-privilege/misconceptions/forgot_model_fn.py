"""The endpoint role gets no permissions because "predictions call nothing": it forgets that
model_fn reads the offer threshold from S3 when an instance starts, so the endpoint cannot
start."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "missing"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    helpers.solves(ctx).scope(ctx)
    ctx.client("iam").delete_role_policy(
        RoleName="churn-endpoint-role", PolicyName="least-privilege"
    )
