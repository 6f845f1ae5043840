"""The drift baseline computed on the test part: a sample of 1,000 customers the model never
learned from, so lab 30 would measure drift against the wrong reference."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "drift-baseline"
HINT = "reference"


def apply(ctx):
    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    test = ref.data()["test"]
    baseline = dict(ref.drift_baseline(), reference="test part", rows=len(test))
    features = {name: ref.categorical_reference(test[name]) for name in ref.CATEGORICAL}
    features |= {name: ref.numeric_reference(test[name]) for name in ref.NUMERIC}
    baseline["features"] = features
    ref.put_json(ctx, ref.BASELINE_KEY, baseline)
