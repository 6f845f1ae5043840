"""model.eval() never called: the model is exported with Dropout in training mode.

It also validates in training mode; Dropout zeroes random units on every call, so a customer's
score changes each time the model is asked.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "eval"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(
        ctx,
        ("        model.eval()  # dropout off to measure\n", ""),
        ("nn.Sequential(model, nn.Sigmoid()).eval()", "nn.Sequential(model, nn.Sigmoid())"),
    )
    job = cases.run(ctx, source)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
