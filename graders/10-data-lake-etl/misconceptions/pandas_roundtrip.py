"""Raw files landed through pandas (read_csv, to_csv): NA and null become empty, bytes change."""

import io
import tempfile
from pathlib import Path

from crosstrain import datasets

STEP = "land-raw"
HINT = "unchanged"


def apply(ctx):
    import pandas as pd

    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="churn-lake")
    with tempfile.TemporaryDirectory() as tmp:
        datasets.write_raw(datasets.generate(datasets.LEARNER_SEED), tmp)
        for table, file in [
            ("customers", "customers.csv"),
            ("plans", "plans.csv"),
            ("usage", "usage_monthly.csv"),
            ("tickets", "support_tickets.csv"),
            ("churn", "churn_labels.csv"),
        ]:
            buffer = io.StringIO()
            pd.read_csv(Path(tmp) / file).to_csv(buffer, index=False)  # the mistake
            s3.put_object(Bucket="churn-lake", Key=f"raw/{table}/{file}", Body=buffer.getvalue())
