"""The job is given only the train channel, although the validation data is in S3.

The script finds no SM_CHANNEL_VALIDATION and the job fails.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "config"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    ref = cases.solves(ctx)
    # the check reads the job's configuration, so the case need not wait for it to fail
    cases.run(ctx, wait=False, channels={"train": ref.CHANNELS["train"]})
