"""The role allows dynamodb:* and s3:* "to be safe": any bug or intruder can drop the table."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-stack"
HINT = "wildcard"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    lab = helpers.solves(ctx)
    text = lab.replace(helpers.template(ctx), "Action: dynamodb:PutItem", "Action: dynamodb:*")
    text = lab.replace(text, "Action: s3:GetObject", "Action: s3:*")
    lab.create_stack(ctx, text)
