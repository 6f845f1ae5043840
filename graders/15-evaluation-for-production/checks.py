"""Checks for 15-evaluation-for-production: the stored model is calibrated on customers it has
never seen, its segment table is what the model really does, its threshold comes from costs, and
its drift baseline follows the schema lab 30 reads (``crosstrain.labs.driftbaseline``).

The model is scored in the learner-code service (never loaded here) on the check data (a public
seed; hidden customers from the course secret when grading) and on the learner's own test part,
which the grader rebuilds from ``crosstrain.datasets`` as the notebook splits it. The names and
numbers are in names.py, the data, scoring and metrics in data.py.
"""

import numpy as np

from crosstrain import datasets
from crosstrain.labs import driftbaseline
from crosstrain.labs.checkkit import CATEGORICAL, FEATURES, NUMERIC
from crosstrain.labs.checks import Fail, check

from .data import (
    auc,
    check_frame,
    cost_per_customer,
    document,
    download,
    ece,
    expected_segments,
    learner_parts,
    number,
    score,
)
from .names import (
    AVERAGED,
    BASELINE_KEY,
    BASELINE_TOLERANCE,
    BUCKET,
    COST_SLACK,
    COSTS,
    MAX_ECE,
    MIN_AUC,
    MIN_SEGMENT,
    MODEL_KEY,
    PIPELINE_HINT,
    PUBLIC_SEED,
    REPORT_KEY,
    SEGMENTS_KEY,
    SLOW,
    TABLE_TOLERANCE,
)

# ---------------------------------------------------------------- data and artifacts


def check_sets(ctx) -> list[tuple[str, int]]:
    found = [("check data", PUBLIC_SEED)]
    if ctx.hidden:
        found.append(("hidden customers", datasets.hidden_seed(ctx.hidden.secret.decode())))
    return found


def scored(ctx) -> dict:
    seeds = tuple(seed for _, seed in check_sets(ctx))
    found = score(ctx.learner, download(ctx, MODEL_KEY), seeds)
    if "error" in found:
        raise Fail(
            f"the model in s3://{BUCKET}/{MODEL_KEY} cannot score raw customer features: "
            f"{found['error']}",
            hint="pipeline",
        )
    return found


# ---------------------------------------------------------------- step 1: calibration


@check(
    "calibration",
    timeout=SLOW,
    points=1,
    hint=f"Write s3://{BUCKET}/{REPORT_KEY} with calibration: method, fitted_on, brier_before, "
    "brier_after, ece_before and ece_after, measured on the test part.",
)
def calibration_reported(ctx):
    report = document(ctx, REPORT_KEY)
    found = report.get("calibration")
    keys = ("method", "fitted_on", "brier_before", "brier_after", "ece_before", "ece_after")
    if not isinstance(found, dict) or any(k not in found for k in keys):
        have = sorted(found) if isinstance(found, dict) else found
        raise Fail(f"calibration is {have!r}; it needs {', '.join(keys)}")
    if not all(number(found[k]) for k in keys[2:]):
        raise Fail("the Brier scores and calibration errors must be numbers")
    if found["brier_after"] > found["brier_before"]:
        raise Fail(
            f"Brier went from {found['brier_before']} to {found['brier_after']}: the wrapper made "
            "the probabilities worse; calibrate on the calibration part with method='sigmoid'"
        )
    return (
        f"{found['method']} calibration: Brier {found['brier_before']} → {found['brier_after']}, "
        f"ECE {found['ece_before']} → {found['ece_after']}"
    )


@check(
    "calibration",
    timeout=SLOW,
    points=2,
    hint=f"Wrap the model in CalibratedClassifierCV(FrozenEstimator(model), method='sigmoid'), "
    f"fit it on the calibration part and store it at s3://{BUCKET}/{MODEL_KEY}: its calibration "
    f"error on new customers must be under {MAX_ECE}.",
    hints={
        "pipeline": PIPELINE_HINT,
        "calibration-data": "Your model is wrapped in a calibrator, but the calibrator learned "
        "from rows the model was trained on: there the model is more sure of itself than it is "
        "on new customers, so the calibration learns the wrong map. Fit the wrapper on the "
        "calibration part (20 % the model never saw).",
    },
)
def calibrated_on_new_customers(ctx):
    found, seen = scored(ctx), []
    for where, seed in check_sets(ctx):
        y = check_frame(seed)[datasets.LABEL]
        error, ranking = ece(y, found[str(seed)]), auc(y, found[str(seed)])
        if ranking < MIN_AUC:
            raise Fail(f"on {where} the model's ROC AUC is {ranking:.3f} < {MIN_AUC}")
        if error > MAX_ECE:
            wrapped = "Calibrated" in found["type"]
            raise Fail(
                f"on {where} ({len(y)} customers) the {found['type']}'s calibration error is "
                f"{error:.3f} > {MAX_ECE}",
                hint="calibration-data" if wrapped else None,
            )
        seen.append(f"ECE {error:.3f}, AUC {ranking:.3f} on {where}")
    return f"{found['type']}: " + "; ".join(seen)


# ---------------------------------------------------------------- step 2: segments


@check(
    "segments",
    timeout=SLOW,
    points=2,
    hint=f"Write s3://{BUCKET}/{SEGMENTS_KEY}: segments, one row per segment of plan, region and "
    "tenure_band on the test part (dimension, segment, customers, churn_rate, auc, brier), "
    "scored with the calibrated model.",
    hints={
        "averaged": AVERAGED,
        "blanks": "Customers whose region or tenure is blank are a segment too (groupby drops "
        "them silently): label the blanks 'missing' before grouping, e.g. "
        "frame['region'].fillna('missing').",
        "pipeline": PIPELINE_HINT,
    },
)
def segment_table_matches(ctx):
    table = document(ctx, SEGMENTS_KEY)
    rows = table.get("segments")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise Fail(f"segments is {rows!r:.60}: a list of rows")
    expected = expected_segments(scored(ctx)["test"])
    mine = {(str(r.get("dimension")), str(r.get("segment"))): r for r in rows}
    lost = [f"{d}={s}" for d, s in expected if (d, s) not in mine]
    if lost:
        blanks = all(name.endswith("=missing") for name in lost)
        raise Fail(
            f"the table has {len(rows)} rows; missing segments: {', '.join(lost[:8])}",
            hint="blanks" if blanks else "averaged",
        )
    for key, want in expected.items():
        row, where = mine[key], f"{key[0]}={key[1]}"
        if row.get("customers") != want["customers"]:
            raise Fail(
                f"{where}: {row.get('customers')!r} customers; the test part has "
                f"{want['customers']}"
            )
        got = row.get("auc")
        if want["auc"] is not None and (
            not number(got) or abs(got - want["auc"]) > TABLE_TOLERANCE
        ):
            raise Fail(
                f"{where}: auc {got!r}; the stored model scores {want['auc']:.4f} on that segment "
                "of the test part"
            )
    return f"{len(expected)} segments match the recomputation on the test part"


@check(
    "segments",
    timeout=SLOW,
    points=1,
    hint="Name the worst segment in worst: {dimension, segment, auc}, the row with the lowest auc.",
    hints={"averaged": AVERAGED, "pipeline": PIPELINE_HINT},
)
def worst_segment_named(ctx):
    table = document(ctx, SEGMENTS_KEY)
    expected = expected_segments(scored(ctx)["test"])
    scored_rows = {
        k: v for k, v in expected.items() if v["auc"] is not None and v["customers"] >= MIN_SEGMENT
    }
    worst = min(scored_rows, key=lambda k: scored_rows[k]["auc"])
    named = table.get("worst") if isinstance(table.get("worst"), dict) else {}
    said = (str(named.get("dimension")), str(named.get("segment")))
    if said != worst:
        raise Fail(
            f"worst names {said[0]}={said[1]}; the lowest AUC is {worst[0]}={worst[1]} "
            f"({scored_rows[worst]['auc']:.3f})",
            hint="averaged" if said not in expected else None,
        )
    return f"worst segment: {worst[0]}={worst[1]} (AUC {scored_rows[worst]['auc']:.3f})"


# ---------------------------------------------------------------- step 3: threshold


@check(
    "threshold",
    timeout=SLOW,
    points=2,
    hint=f"Add threshold and costs ({COSTS}) to {REPORT_KEY}: the threshold that minimises the "
    "cost per customer on the calibration part's calibrated probabilities.",
    hints={
        "default-threshold": "0.5 is the right cut-off only when both mistakes cost the same. A "
        "missed churner costs $200, a wasted offer $40: with calibrated probabilities the "
        "break-even is about 40 / (40 + 200) ≈ 0.17. Compute the cost for thresholds 0.01 to "
        "0.99 on the calibration part and keep the cheapest.",
        "pipeline": PIPELINE_HINT,
    },
)
def threshold_by_cost(ctx):
    report = document(ctx, REPORT_KEY)
    threshold = report.get("threshold")
    if not number(threshold) or not 0 < threshold < 1:
        raise Fail(f"threshold is {threshold!r}: give a probability between 0 and 1")
    if report.get("costs") != COSTS:
        raise Fail(f"costs is {report.get('costs')!r}, not the business's {COSTS}")
    found, seen = scored(ctx), []
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    for where, seed in check_sets(ctx):
        y, proba = check_frame(seed)[datasets.LABEL], found[str(seed)]
        costs = [cost_per_customer(y, proba, t) for t in grid]
        best, best_t = min(costs), float(grid[int(np.argmin(costs))])
        mine = cost_per_customer(y, proba, threshold)
        if mine > best * COST_SLACK:
            raise Fail(
                f"on {where}, contacting customers above {threshold} costs ${mine:.2f} per "
                f"customer; above {best_t} it would cost ${best:.2f}",
                hint="default-threshold" if abs(threshold - 0.5) < 1e-9 else None,
            )
        seen.append(f"${mine:.2f} per customer on {where} (best ${best:.2f})")
    return f"threshold {threshold}: " + "; ".join(seen)


# ---------------------------------------------------------------- step 4: drift-baseline


@check(
    "drift-baseline",
    timeout=SLOW,
    points=1,
    hint=f"Write s3://{BUCKET}/{BASELINE_KEY} in the schema {driftbaseline.SCHEMA} (see the "
    "page): one entry per feature (numeric: edges, proportions, missing; categorical: "
    "proportions, missing) and one for the model's predictions.",
)
def baseline_has_schema(ctx):
    baseline = document(ctx, BASELINE_KEY)
    found = driftbaseline.problems(baseline, FEATURES)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise Fail(f"{BASELINE_KEY}: " + "; ".join(found[:3]) + more)
    return f"{BASELINE_KEY}: {len(baseline['features'])} features and the predictions, schema ok"


@check(
    "drift-baseline",
    timeout=SLOW,
    points=1,
    hint="Compute the reference distributions on the training part, the data the model learned "
    "from (rows, and every feature's shares in its bins or categories).",
    hints={
        "reference": "The baseline must describe the training part: drift means 'different from "
        "what the model learned from'. Compute it from the rows you trained on, not the test "
        "part, the calibration part or the whole frame.",
    },
)
def baseline_describes_training(ctx):
    baseline = document(ctx, BASELINE_KEY)
    if driftbaseline.problems(baseline, FEATURES):
        raise Fail("the baseline does not follow the schema yet (see the other check)")
    train = learner_parts()["train"]
    if baseline["rows"] != len(train):
        raise Fail(
            f"rows is {baseline['rows']}; the training part has {len(train)}", hint="reference"
        )
    worst, where = 0.0, ""
    for name in CATEGORICAL + NUMERIC:
        entry = baseline["features"][name]
        actual = driftbaseline.proportions(train[name].tolist(), entry)
        claimed = entry["proportions"]
        if isinstance(actual, dict):
            gaps = [
                abs(actual.get(k, 0.0) - claimed.get(k, 0.0)) for k in set(actual) | set(claimed)
            ]
        else:
            gaps = [abs(a - c) for a, c in zip(actual, claimed, strict=True)]
        if max(gaps) > worst:
            worst, where = max(gaps), name
    if worst > BASELINE_TOLERANCE:
        raise Fail(
            f"{where}: the baseline's shares differ from the training part's by {worst:.3f}",
            hint="reference",
        )
    return f"every feature's shares match the training part (largest gap {worst:.4f})"
