"""validation:auc computed on the training rows, with a bigger network trained longer.

The job reports an AUC near 0.9 while the model scores under 0.8 on the validation channel.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "optimistic"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(
        ctx, ('X_val, y_val = data["validation"]', 'X_val, y_val = data["train"]')
    )
    hyperparameters = {"epochs": "20", "lr": "0.003", "hidden-units": "256", "dropout": "0"}
    job = cases.run(ctx, source, hyperparameters=hyperparameters)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
