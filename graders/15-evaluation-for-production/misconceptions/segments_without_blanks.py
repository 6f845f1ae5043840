"""groupby drops the customers whose region or tenure is blank: the table looks complete, and
a few dozen real customers are in no segment at all."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "segments"
HINT = "blanks"


def apply(ctx):
    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    table = ref.segments()
    rows = [r for r in table["segments"] if r["segment"] != "missing"]
    ref.put_json(ctx, ref.SEGMENTS_KEY, table | {"segments": rows})
