"""input_fn reads every CSV line as a customer, the header row included.

The header that to_csv writes becomes a customer whose tenure is the text 'tenure_months', and
the request fails.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-endpoint"
HINT = "header"


def apply(ctx):
    load_module(Path(__file__).with_name("_lab.py")).deploy_variant(
        ctx,
        (
            "header = first[:1] == FEATURES[:1]  # a header row names the columns: skip it",
            "header = False  # every line is a customer",
        ),
    )
