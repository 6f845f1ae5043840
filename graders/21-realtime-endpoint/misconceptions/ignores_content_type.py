"""input_fn ignores the content type and parses every body as CSV, so JSON requests fail."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-endpoint"
HINT = "content-type"


def apply(ctx):
    load_module(Path(__file__).with_name("_lab.py")).deploy_variant(
        ctx, ("    if content_type == CSV:\n", "    if content_type:  # the body is CSV\n")
    )
