"""Uploaded through pandas without index=False: the file gains an unnamed index column."""

import io

STEP = "store-dataset"
HINT = "content"


def apply(ctx):
    import pandas as pd

    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="orientation-data")
    frame = pd.read_csv(ctx.starter_file("data/customers.csv"))
    buffer = io.StringIO()
    frame.to_csv(buffer)  # the mistake: index=True by default
    s3.put_object(Bucket="orientation-data", Key="raw/customers.csv", Body=buffer.getvalue())
