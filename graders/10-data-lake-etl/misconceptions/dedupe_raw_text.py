"""Duplicates dropped from the raw text, before cleaning: near duplicates (same customer, other
date format or spelling) survive and the customer appears twice."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "clean-customers"
HINT = "duplicates"


def apply(ctx):
    load_module(Path(__file__).with_name("_cases.py")).write_clean(
        ctx,
        (
            '    out = pd.DataFrame({"customer_id"',
            '    customers = customers.drop_duplicates()\n    out = pd.DataFrame({"customer_id"',
        ),
        ("    out = out.drop_duplicates()\n", ""),
    )
