"""Shared by the cases (not a case): the reference solves and the policy pieces they vary."""

from crosstrain.labs.catalog import load_module

BUCKET = "churn-lp-data"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn-endpoint"


def solves(ctx):
    return load_module(ctx.lab.solution_dir / "solve.py")


def policy(*statements: tuple) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource}
            for action, resource in statements
        ],
    }
