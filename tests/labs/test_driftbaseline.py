"""The drift baseline contract (lab 15 writes it, lab 30 reads it): what is valid, and shares of
new data in a baseline's bins."""

from __future__ import annotations

import math

from crosstrain.labs import driftbaseline

NUMERIC = {
    "type": "numeric",
    "edges": [None, 1.0, 2.0, None],
    "proportions": [0.25, 0.5, 0.25],
    "missing": 0.0,
}
CATEGORICAL = {"type": "categorical", "proportions": {"a": 0.4, "b": 0.6}, "missing": 0.1}


def baseline(**changes):
    found = {
        "schema": driftbaseline.SCHEMA,
        "rows": 10,
        "features": {"x": NUMERIC, "c": CATEGORICAL},
        "prediction": NUMERIC,
    }
    return found | changes


def test_a_complete_baseline_has_no_problems():
    assert driftbaseline.problems(baseline(), ["x", "c"]) == []


def test_a_missing_feature_and_a_wrong_schema_are_named():
    found = driftbaseline.problems(baseline(schema="v0"), ["x", "c", "y"])
    assert any("schema" in p for p in found)
    assert any("no entry for y" in p for p in found)


def test_proportions_that_do_not_sum_to_one_are_refused():
    bad = dict(NUMERIC, proportions=[0.2, 0.2, 0.2])
    assert any("sum to" in p for p in driftbaseline.entry_problems(bad))


def test_open_edges_are_allowed_only_at_the_ends():
    assert driftbaseline.entry_problems(NUMERIC) == []
    middle = dict(NUMERIC, edges=[None, None, 2.0, None])
    assert any("increasing" in p for p in driftbaseline.entry_problems(middle))


def test_shares_of_new_values_fall_in_the_baselines_bins():
    shares = driftbaseline.proportions([0.5, 1.0, 1.5, 5.0, math.nan], NUMERIC)
    assert shares == [0.25, 0.5, 0.25]


def test_unknown_categories_are_counted_under_their_own_name():
    shares = driftbaseline.proportions(["a", "a", "z", None], CATEGORICAL)
    assert shares == {"a": 2 / 3, "b": 0.0, "z": 1 / 3}
