"""train.py prints 'validation:auc = 0.83', which the metric regex does not match.

The MetricDefinition's regex is validation:auc=([0-9.]+) (no spaces around '='): no line matches
and FinalMetricDataList lacks the metric.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "regex"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(ctx, ("validation:auc={val_auc:.4f}", "validation:auc = {val_auc:.4f}"))
    job = cases.run(ctx, source)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
