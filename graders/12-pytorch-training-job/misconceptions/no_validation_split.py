"""No validation split: every customer uploaded to both channels.

The validation metric is then measured on rows the model trained on.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "inputs"
HINT = "validation"


def apply(ctx):
    from crosstrain import datasets

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    train, validation = ref.split()
    everyone = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    assert len(everyone) == len(train) + len(validation)
    s3 = ctx.client("s3")
    ref.upload_data(s3, everyone, everyone)  # the mistake: the same rows in both channels
    ref.upload_source(s3, ctx.solution_file("train.py").read_text())
