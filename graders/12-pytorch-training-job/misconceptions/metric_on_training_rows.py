"""validation:auc computed on the training rows while a bigger network trains longer: the job
reports about 0.96, the model scores about 0.77 on the validation channel."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "optimistic"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(
        ctx, ('X_val, y_val = data["validation"]', 'X_val, y_val = data["train"]')
    )
    hyperparameters = {"epochs": "30", "lr": "0.003", "hidden-units": "256", "dropout": "0"}
    job = cases.run(ctx, source, hyperparameters=hyperparameters)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
