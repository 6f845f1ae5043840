"""The training role may read and write arn:aws:s3:::churn-lp-data/* "to keep it simple": the
job can now read every customer's score and overwrite the endpoint's threshold."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "too-wide"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    everything = f"arn:aws:s3:::{helpers.BUCKET}/*"
    training = helpers.policy(("s3:GetObject", everything), ("s3:PutObject", everything))
    helpers.solves(ctx).scope(ctx, policies={"training": training})
