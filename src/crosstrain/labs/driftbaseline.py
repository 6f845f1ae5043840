"""The drift baseline: reference distributions lab 15 saves and lab 30 compares live data with.

A baseline is one JSON object (``s3://churn-models/evaluation/drift-baseline.json`` in lab 15)::

    {"schema": "crosstrain.drift-baseline/1", "created": ISO time, "reference": "training part",
     "rows": 3000, "model": "s3://...",
     "features": {"plan": {"type": "categorical", "proportions": {"Basic": 0.36, ...},
                           "missing": 0.0},
                  "tenure_months": {"type": "numeric", "edges": [null, 3.1, ..., null],
                                    "proportions": [0.1, ...], "missing": 0.01,
                                    "mean": 21.4, "std": 15.2}, ...},
     "prediction": {numeric entry of the model's scores}}

Numeric ``edges`` are increasing bin edges; ``null`` at either end is an open end (-inf / +inf);
``proportions`` has one share per bin, of the non-missing values. Categorical ``proportions`` map
each category to its share of the non-missing values. ``missing`` is the share of missing values.
docs/labs/15-evaluation-for-production.md documents it for learners.
"""

from __future__ import annotations

import math
from typing import Any

SCHEMA = "crosstrain.drift-baseline/1"
TOLERANCE = 1e-3  # proportions are rounded when written: they sum to 1 within this


def problems(baseline: Any, features: list[str]) -> list[str]:
    """What makes ``baseline`` unreadable for a drift check over ``features`` (empty: none)."""
    if not isinstance(baseline, dict):
        return [f"the baseline is a {type(baseline).__name__}, not a JSON object"]
    found = []
    if baseline.get("schema") != SCHEMA:
        found.append(f"schema is {baseline.get('schema')!r}, not {SCHEMA!r}")
    rows = baseline.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows <= 0:
        found.append(f"rows is {rows!r}: the number of reference rows")
    entries = baseline.get("features")
    if not isinstance(entries, dict):
        return [*found, "features is missing: one entry per feature"]
    lost = [name for name in features if name not in entries]
    if lost:
        found.append(f"features has no entry for {', '.join(lost)}")
    for name, entry in [*entries.items(), ("prediction", baseline.get("prediction"))]:
        found += [f"{name}: {p}" for p in entry_problems(entry)]
    return found


def entry_problems(entry: Any) -> list[str]:
    """What is wrong with one feature's entry (empty: nothing)."""
    if not isinstance(entry, dict):
        return [f"is {entry!r:.40}, not an entry with type and proportions"]
    found = []
    missing = entry.get("missing")
    if not _number(missing) or not 0 <= missing <= 1:
        found.append(f"missing is {missing!r}: the share of missing values, 0 to 1")
    shares = entry.get("proportions")
    if entry.get("type") == "categorical":
        if not isinstance(shares, dict) or not all(map(_number, shares.values())):
            return [*found, "proportions must map each category to its share"]
        values = list(shares.values())
    elif entry.get("type") == "numeric":
        edges = entry.get("edges")
        if not isinstance(edges, list) or len(edges) < 3:
            return [*found, "edges must list at least 3 bin edges"]
        bounds = [_edge(e, i, len(edges)) for i, e in enumerate(edges)]
        if None in bounds or any(b >= a for b, a in zip(bounds, bounds[1:], strict=False)):
            found.append("edges must be increasing numbers (null only at the ends)")
        if not isinstance(shares, list) or len(shares) != len(edges) - 1:
            return [*found, "proportions must hold one share per bin (len(edges) - 1)"]
        if not all(map(_number, shares)):
            return [*found, "proportions must be numbers"]
        values = shares
    else:
        return [*found, f"type is {entry.get('type')!r}, not 'numeric' or 'categorical'"]
    if any(v < 0 for v in values) or abs(sum(values) - 1) > TOLERANCE:
        found.append(f"proportions sum to {sum(values):.4f}, not 1")
    return found


def proportions(values, entry: dict) -> list[float] | dict[str, float]:
    """The shares of ``values`` (an iterable; None/NaN are missing) in ``entry``'s bins or
    categories: what a drift check compares with ``entry["proportions"]``. Categories the
    baseline does not know are counted under their own names."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    total = max(len(present), 1)
    if entry["type"] == "categorical":
        counts: dict[str, float] = dict.fromkeys(entry["proportions"], 0.0)
        for value in present:
            counts[str(value)] = counts.get(str(value), 0.0) + 1
        return {k: v / total for k, v in counts.items()}
    edges = [_edge(e, i, len(entry["edges"])) for i, e in enumerate(entry["edges"])]
    counts_ = [0.0] * (len(edges) - 1)
    for value in present:
        for i in range(len(counts_)):
            last = i == len(counts_) - 1
            if edges[i] <= float(value) < edges[i + 1] or (last and float(value) == edges[-1]):
                counts_[i] += 1
                break
    return [c / total for c in counts_]


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _edge(value, index: int, count: int) -> float | None:
    """Edge ``index`` of ``count`` as a number: ``None`` opens the first and last edges only."""
    if value is None and index in (0, count - 1):
        return -math.inf if index == 0 else math.inf
    return float(value) if _number(value) else None
