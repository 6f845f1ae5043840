"""One row per dimension, the mean over its segments: the region where the model is weakest
vanishes into 'region: 0.80 on average', and the worst named is a dimension."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "segments"
HINT = "averaged"


def apply(ctx):
    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    table = ref.segments()
    rows = []
    for dimension in ref.DIMENSIONS:
        part = [r for r in table["segments"] if r["dimension"] == dimension and r["auc"]]
        rows.append(
            {
                "dimension": dimension,
                "segment": "all",
                "customers": sum(r["customers"] for r in part),
                "auc": round(sum(r["auc"] for r in part) / len(part), 4),
            }
        )
    worst = min(rows, key=lambda r: r["auc"])
    ref.put_json(
        ctx,
        ref.SEGMENTS_KEY,
        table | {"segments": rows, "worst": {"dimension": worst["dimension"], "segment": "all"}},
    )
