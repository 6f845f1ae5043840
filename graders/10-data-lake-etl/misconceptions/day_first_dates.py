"""Slashed dates read day first (03/01/2024 as 3 January), the European habit; the export is US."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "clean-customers"
HINT = "dates"


def apply(ctx):
    load_module(Path(__file__).with_name("_cases.py")).write_clean(
        ctx, ('"%m/%d/%Y"', '"%d/%m/%Y"')
    )
