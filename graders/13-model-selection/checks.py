"""Checks for 13-model-selection: the comparison was fair, the search bounded and logged, and the
chosen model beats the lab's baseline on customers it has never seen.

The learner's artifacts are read as data (JSON logs) or scored in the learner-code service (the
model); the baseline and the check data are rebuilt here from ``crosstrain.datasets`` (a public
seed for learners, hidden customers from the course secret when grading). The names and numbers
are in names.py, the data, metrics and scoring in data.py.
"""

import datetime as dt
import json

import numpy as np

from crosstrain import datasets
from crosstrain.labs.checks import Fail, check

from .data import (
    auc,
    baseline_auc,
    check_frame,
    document,
    download,
    learner_split,
    metric,
    number,
    score,
)
from .names import (
    BUCKET,
    CARD_KEY,
    COMPARISON_KEY,
    HONEST_GAP,
    MARGIN,
    MAX_BUDGET,
    MIN_TRIALS,
    MODEL_KEY,
    PIPELINE_HINT,
    PUBLIC_SEED,
    RANKING_METRICS,
    SAME,
    SLOW,
    TRIALS_KEY,
    UNBOUNDED,
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


# ---------------------------------------------------------------- step 1: compare


@check(
    "compare",
    timeout=SLOW,
    points=1,
    hint=f"Write s3://{BUCKET}/{COMPARISON_KEY}: metric, budget_seconds, chosen, and models: at "
    "least 3 families, each with name, cv (the splitter), cv_scores (one per fold), "
    "fit_seconds and predict_ms_per_1000.",
)
def comparison_logged(ctx):
    found = document(ctx, COMPARISON_KEY)
    models = found.get("models")
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise Fail(f"models is {models!r:.80}: a list of one object per model")
    if len({str(m.get("name")) for m in models}) < 3:
        raise Fail(f"{COMPARISON_KEY} compares {models!r:.80}: compare at least 3 model families")
    for m in models:
        missing = [
            k for k in ("cv", "cv_scores", "fit_seconds", "predict_ms_per_1000") if k not in m
        ]
        if missing:
            raise Fail(f"model {m.get('name')!r} has no {', '.join(missing)}")
        if not isinstance(m["cv_scores"], list) or len(m["cv_scores"]) < 3:
            raise Fail(f"model {m['name']!r} has cv_scores {m['cv_scores']!r}: one per fold")
    budget = found.get("budget_seconds")
    spent = sum(float(m["fit_seconds"]) for m in models if number(m["fit_seconds"]))
    if not number(budget) or budget <= 0:
        raise Fail(f"budget_seconds is {budget!r}: say how long the comparison may take")
    if spent > budget:
        raise Fail(f"the models took {spent:.1f} s to cross-validate, over your {budget} s budget")
    names = ", ".join(str(m["name"]) for m in models)
    return f"{len(models)} families compared ({names}) in {spent:.1f} s of a {budget} s budget"


@check(
    "compare",
    timeout=SLOW,
    points=2,
    hint="Choose the model with the best mean cross-validation score of a ranking metric, "
    "every model scored on the same folds.",
    hints={
        "accuracy": "Accuracy rewards predicting 'stays' for everyone: 4 customers in 5 stay, so "
        "a model that calls nobody scores 0.80. Compare with a metric that ranks churners "
        "first: average_precision (or roc_auc).",
        "same-folds": "Score every model on the same folds: make one StratifiedKFold(n_splits=5, "
        "shuffle=True, random_state=...) and pass it as cv= to every cross-validation. With "
        "different (or unseeded) shuffles the differences you see are partly the folds'.",
    },
)
def comparison_fair(ctx):
    found = document(ctx, COMPARISON_KEY)
    name = found.get("metric")
    if name not in RANKING_METRICS:
        raise Fail(
            f"the comparison picks by {name!r}",
            hint="accuracy" if "acc" in str(name).lower() else None,
        )
    models = found.get("models")
    models = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []
    if not models:
        raise Fail("the comparison lists no models (see the other check)")
    cvs = [m.get("cv") for m in models]
    same = len({json.dumps(cv, sort_keys=True) for cv in cvs}) == 1
    # Shuffled without a seed, the "same" splitter gives each model different folds.
    unseeded = [
        m.get("name")
        for m in models
        if isinstance(m.get("cv"), dict)
        and m["cv"].get("shuffle")
        and m["cv"].get("random_state") is None
    ]
    if not same or unseeded or cvs[0] is None:
        shown = "; ".join(f"{m.get('name')}: {m.get('cv')}" for m in models)
        raise Fail(f"the models were not scored on the same folds ({shown})", hint="same-folds")
    try:
        means = {str(m["name"]): float(np.mean([float(s) for s in m["cv_scores"]])) for m in models}
    except (KeyError, TypeError, ValueError):
        raise Fail("cv_scores are not numbers (see the other check)") from None
    best = max(means, key=means.get)
    if found.get("chosen") != best:
        raise Fail(
            f"chosen is {found.get('chosen')!r}, but {best} has the best mean {name} "
            f"({means[best]:.4f})"
        )
    return f"{best} chosen by mean {name} {means[best]:.4f}, every model on the same folds"


# ---------------------------------------------------------------- step 2: search


@check(
    "search",
    timeout=SLOW,
    points=1,
    hint=f"Write s3://{BUCKET}/{TRIALS_KEY} with the library, its version, the budget "
    "({seconds, max_trials}), started and finished (ISO times) and every trial.",
    hints={"unbounded": UNBOUNDED},
)
def search_bounded(ctx):
    log = document(ctx, TRIALS_KEY)
    if str(log.get("library", "")).lower() not in ("optuna", "flaml"):
        raise Fail(f"library is {log.get('library')!r}: search with Optuna (or FLAML)")
    budget = log.get("budget")
    seconds = budget.get("seconds") if isinstance(budget, dict) else None
    if not number(seconds) or seconds <= 0 or seconds > MAX_BUDGET:
        raise Fail(f"the search's budget is {budget!r}", hint="unbounded")
    try:
        started = dt.datetime.fromisoformat(str(log["started"]))
        finished = dt.datetime.fromisoformat(str(log["finished"]))
    except (KeyError, ValueError):
        raise Fail("started and finished must be ISO times (datetime.isoformat())") from None
    took = (finished - started).total_seconds()
    # A timeout stops the search after the trial in progress: allow one trial's overrun.
    longest = max(
        [float(t["seconds"]) for t in log.get("trials", []) if number(t.get("seconds"))] or [0]
    )
    if took > seconds + longest + 5:
        raise Fail(f"the search ran {took:.0f} s on a {seconds} s budget", hint="unbounded")
    return f"{log['library']} searched for {took:.0f} s of a {seconds} s budget"


@check(
    "search",
    timeout=SLOW,
    points=2,
    hint=f"Log every trial (at least {MIN_TRIALS}): number, state, params, value (the mean "
    "validation score) and fold_scores, and best (number, value, params) as the best complete "
    "trial.",
)
def trials_logged(ctx):
    log = document(ctx, TRIALS_KEY)
    trials = log.get("trials")
    if not isinstance(trials, list) or len(trials) < MIN_TRIALS:
        got = len(trials) if isinstance(trials, list) else trials
        raise Fail(f"the log has {got!r} trials; a search of at least {MIN_TRIALS} is needed")
    numbers = [t.get("number") for t in trials if isinstance(t, dict)]
    if numbers != list(range(len(trials))):
        raise Fail(f"trial numbers are {numbers[:12]}...: log every trial, failed ones too")
    complete = [t for t in trials if t.get("state", "COMPLETE") == "COMPLETE"]
    for t in complete:
        folds = t.get("fold_scores")
        if not number(t.get("value")) or not isinstance(folds, list) or len(folds) < 3:
            raise Fail(
                f"trial {t['number']} has value {t.get('value')!r} and fold_scores "
                f"{folds!r}: log the validation score of each fold and their mean"
            )
        if abs(float(np.mean(folds)) - float(t["value"])) > 1e-3:
            raise Fail(f"trial {t['number']}: value {t['value']} is not the mean of {folds}")
    if not complete:
        raise Fail("no trial completed")
    best = max(complete, key=lambda t: float(t["value"]))
    claimed = log.get("best") if isinstance(log.get("best"), dict) else {}
    if claimed.get("number") != best["number"]:
        raise Fail(
            f"best names trial {claimed.get('number')!r}; trial {best['number']} scored best"
        )
    return f"{len(trials)} trials logged; best: trial {best['number']} ({float(best['value']):.4f})"


# ---------------------------------------------------------------- step 3: model-card


@check(
    "model-card",
    timeout=SLOW,
    points=2,
    hint=f"Fit the chosen pipeline on the training part and store it at s3://{BUCKET}/"
    f"{MODEL_KEY}; it must beat the baseline's ROC AUC on new customers by {MARGIN}.",
    hints={"pipeline": PIPELINE_HINT},
)
def beats_baseline(ctx):
    found, seen = scored(ctx), []
    if found.get("features_in") and datasets.LEAK_COLUMN in found["features_in"]:
        raise Fail(f"the model reads {datasets.LEAK_COLUMN}, which is empty on prediction day")
    for where, seed in check_sets(ctx):
        mine, base = auc(check_frame(seed)[datasets.LABEL], found[str(seed)]), baseline_auc(seed)
        if mine < base + MARGIN:
            raise Fail(
                f"on {where} the model's ROC AUC is {mine:.3f}, the baseline's {base:.3f}: "
                f"not {MARGIN} better"
            )
        seen.append(f"{mine:.3f} vs baseline {base:.3f} on {where}")
    return "ROC AUC " + "; ".join(seen)


@check(
    "model-card",
    timeout=SLOW,
    points=1,
    hint=f"In {CARD_KEY}, selected_by holds the metric and the validation score that chose the "
    "model (cross-validation on the training part); test holds the score of the stored model "
    "on the test part, measured once at the end.",
    hints={
        "test-tuning": "The score that chose your model is its score on the test part: the "
        "search was tuned on the test set, so that score is no longer a test. Let the objective "
        "cross-validate on the training part only, and score the test part once, at the end.",
        "leak": "Your validation score is far better than what the model does on new "
        "customers: something in the pipeline saw the labels of the rows it scores. Target "
        "encoding fitted on the whole frame before the split does this; fit encoders inside "
        "the pipeline (sklearn's TargetEncoder cross-fits on its own), so each fold fits its own.",
        "pipeline": PIPELINE_HINT,
    },
)
def validated_not_tested(ctx):
    card = document(ctx, CARD_KEY)
    chose = card.get("selected_by") if isinstance(card.get("selected_by"), dict) else {}
    test = card.get("test") if isinstance(card.get("test"), dict) else {}
    name = chose.get("metric")
    if name not in RANKING_METRICS or not number(chose.get("score")):
        raise Fail(f"selected_by is {chose!r}: give its metric ({RANKING_METRICS}) and score")
    if not number(test.get("score")):
        raise Fail(f"test is {test!r}: give the test part's score")
    found = scored(ctx)
    y_test = learner_split()[1][datasets.LABEL]
    measured = metric(name, y_test, found["test"])
    if abs(float(chose["score"]) - measured) < SAME:
        raise Fail(
            f"the selection score {chose['score']} is the model's {name} on the test part "
            f"({measured:.4f})",
            hint="test-tuning",
        )
    if abs(float(test["score"]) - measured) > 0.01:
        raise Fail(
            f"the card's test score is {test['score']}; the stored model scores {measured:.4f} "
            "on the test part"
        )
    seen = []
    for where, seed in check_sets(ctx):
        actual = metric(name, check_frame(seed)[datasets.LABEL], found[str(seed)])
        if float(chose["score"]) - actual > HONEST_GAP[name]:
            raise Fail(
                f"the model was chosen with a validation {name} of {chose['score']}; on {where} "
                f"it scores {actual:.4f}",
                hint="leak",
            )
        seen.append(f"{actual:.4f} on {where}")
    return f"chosen on validation {name} {chose['score']}; measured " + ", ".join(seen)


@check(
    "model-card",
    timeout=SLOW,
    points=1,
    hint="State the test score with an interval: test.interval [low, high] from a bootstrap "
    "over the test customers, and the cost (fit_seconds), latency (predict_ms_per_1000), "
    "baseline and why.",
    hints={
        "interval": "One test score on 1,000 customers moves by several points from one sample "
        "to the next. Resample the test customers with replacement 1,000 times, rescore, and "
        "keep the 2.5th and 97.5th percentiles as test.interval.",
    },
)
def card_states_interval(ctx):
    card = document(ctx, CARD_KEY)
    test = card.get("test") if isinstance(card.get("test"), dict) else {}
    span = test.get("interval")
    score_ = test.get("score")
    if not (isinstance(span, list) and len(span) == 2 and all(map(number, span))):
        raise Fail(f"test.interval is {span!r}", hint="interval")
    low, high = sorted(float(v) for v in span)
    if not number(score_) or not low <= score_ <= high or not 0.005 < high - low < 0.4:
        raise Fail(
            f"the interval [{low}, {high}] does not hold the score {score_!r} with a plausible "
            "width",
            hint="interval",
        )
    cost = card.get("cost") if isinstance(card.get("cost"), dict) else {}
    latency = card.get("latency") if isinstance(card.get("latency"), dict) else {}
    if not number(cost.get("fit_seconds")) or not number(latency.get("predict_ms_per_1000")):
        raise Fail(f"cost {cost!r} and latency {latency!r} need fit_seconds, predict_ms_per_1000")
    if not isinstance(card.get("baseline"), dict) or not str(card.get("why", "")).strip():
        raise Fail("the card needs the baseline's score and a sentence saying why this model")
    return (
        f"test {score_} [{low}, {high}], fit {cost['fit_seconds']} s, "
        f"{latency['predict_ms_per_1000']} ms per 1,000 customers"
    )
