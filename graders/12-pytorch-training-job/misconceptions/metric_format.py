"""train.py prints 'validation:auc = 0.8275' (spaces around '=') while the MetricDefinition's
regex is validation:auc=([0-9.]+): no line matches and FinalMetricDataList lacks the metric."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "regex"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(ctx, ("validation:auc={val_auc:.4f}", "validation:auc = {val_auc:.4f}"))
    job = cases.run(ctx, source)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
