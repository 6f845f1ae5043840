"""The job started before train.py was written: the starter's stubs fail the job.

They raise NotImplementedError, which ends up in the job's FailureReason.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "failed"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    job = cases.run(ctx, ctx.starter_file("train.py").read_text())
    assert job["TrainingJobStatus"] == "Failed", job["TrainingJobStatus"]
