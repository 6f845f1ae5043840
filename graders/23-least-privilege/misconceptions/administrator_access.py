"""The training role gets AdministratorAccess attached "until the job works": the inline policy
is right, and meaningless next to a policy that allows everything."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "admin"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    helpers.solves(ctx).scope(ctx)
    ctx.client("iam").attach_role_policy(
        RoleName="churn-training-role",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
