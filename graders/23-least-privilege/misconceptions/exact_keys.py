"""The scoring role lists the exact score keys seen so far instead of scores/*: the runs the
learner made work, the next customer's score is denied."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "prove-it"
HINT = "too-narrow"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    solves = helpers.solves(ctx)
    keys = [
        f"arn:aws:s3:::{helpers.BUCKET}/scores/run{r}-customer{i}.json"
        for r in (1, 2)
        for i in (1, 2, 3)
    ]
    scoring = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": helpers.ENDPOINT_ARN,
            },
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": keys},
        ],
    }
    solves.scope(ctx, policies={"scoring": scoring})
    solves.prove_it(ctx)
