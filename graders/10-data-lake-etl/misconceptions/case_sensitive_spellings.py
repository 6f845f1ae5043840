"""Spellings looked up exactly as written: 'BASIC', 'basic ' and 'Std' find no canonical value."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "clean-customers"
HINT = "categories"


def apply(ctx):
    load_module(Path(__file__).with_name("_cases.py")).write_clean(
        ctx,
        ("lookup[spelling.lower()] = value", "lookup[spelling] = value"),
        ("return text(column).str.lower().map(lookup)", "return column.map(lookup)"),
    )
