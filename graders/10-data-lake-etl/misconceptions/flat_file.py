"""The curated table written as one parquet file, no plan=<Plan>/ folders: nothing to partition."""

import io
from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "curated-parquet"
HINT = "layout"


def apply(ctx):
    solves = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    s3 = ctx.client("s3")
    clean = load_module(ctx.solution_file("etl/clean.py")).clean_customers
    customers = clean(
        solves.read_raw_csv(s3, solves.RAW["customers"]),
        solves.read_raw_csv(s3, solves.RAW["churn"]),
    )
    buffer = io.BytesIO()
    customers.assign(signup_date=customers["signup_date"].dt.date).to_parquet(buffer, index=False)
    s3.put_object(
        Bucket="churn-lake", Key="curated/customers/customers.parquet", Body=buffer.getvalue()
    )
