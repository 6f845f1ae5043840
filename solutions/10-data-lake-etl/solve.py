"""Solves for 10-data-lake-etl: raw CSVs → clean partitioned parquet → Glue table → Athena."""

import contextlib
import functools
import io
import tempfile
import time
from pathlib import Path

import pandas as pd

from crosstrain import datasets
from crosstrain.labs.catalog import load_module
from crosstrain.labs.solves import solve, teardown

BUCKET, DATABASE, TABLE = "churn-lake", "churn_lake", "customers"
RAW = {
    "customers": "raw/customers/customers.csv",
    "plans": "raw/plans/plans.csv",
    "usage": "raw/usage/usage_monthly.csv",
    "tickets": "raw/tickets/support_tickets.csv",
    "churn": "raw/churn/churn_labels.csv",
}
CURATED = "curated/customers/"
RESULTS = f"s3://{BUCKET}/athena-results/"
DDL = f"""
CREATE EXTERNAL TABLE IF NOT EXISTS {TABLE} (
  customer_id string,
  signup_date date,
  contract_type string,
  payment_method string,
  region string,
  age bigint,
  monthly_fee double,
  failed_payments_12m bigint,
  cancellation_reason string,
  churned bigint
)
PARTITIONED BY (plan string)
STORED AS PARQUET
LOCATION 's3://{BUCKET}/{CURATED}'
"""
VIEWS = {
    "churn_by_plan": """
SELECT plan,
       count(*) AS customers,
       round(avg(CAST(churned AS double)), 4) AS churn_rate
FROM customers
GROUP BY plan
""",
    "revenue_by_region": """
SELECT region,
       round(sum(monthly_fee), 2) AS mrr,
       round(sum(CASE WHEN churned = 1 THEN monthly_fee ELSE 0 END), 2) AS mrr_lost
FROM customers
GROUP BY region
""",
}


@functools.lru_cache(maxsize=1)
def raw_exports() -> dict[str, bytes]:
    """The five CSVs of the learner's data, as `datasets.write_raw` writes them, by S3 key."""
    with tempfile.TemporaryDirectory() as tmp:
        datasets.write_raw(datasets.generate(datasets.LEARNER_SEED), tmp)
        return {key: (Path(tmp) / Path(key).name).read_bytes() for key in RAW.values()}


def read_raw_csv(s3, key: str) -> pd.DataFrame:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)


def run_query(athena, sql: str) -> dict:
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": RESULTS},
    )["QueryExecutionId"]
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.05)
    if state != "SUCCEEDED":
        raise RuntimeError(f"{sql.strip()[:60]}...: {execution['Status'].get('StateChangeReason')}")
    return execution


def clear_prefix(s3, prefix: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


@solve("land-raw")
def land_raw(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    for key, body in raw_exports().items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


@solve("clean-customers", files=["etl/clean.py"])
def clean_customers(ctx):
    ctx.write("etl/clean.py", ctx.solution_file("etl/clean.py").read_text())


@solve("curated-parquet")
def curated_parquet(ctx):
    s3 = ctx.client("s3")
    clean = load_module(ctx.solution_file("etl/clean.py")).clean_customers
    customers = clean(read_raw_csv(s3, RAW["customers"]), read_raw_csv(s3, RAW["churn"]))
    customers["signup_date"] = customers["signup_date"].dt.date
    clear_prefix(s3, CURATED)
    for plan, part in customers.groupby("plan", observed=True):
        buffer = io.BytesIO()
        part.drop(columns="plan").to_parquet(buffer, index=False)
        key = f"{CURATED}plan={plan}/part-0000.parquet"
        s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())


@solve("catalog")
def catalog(ctx):
    athena = ctx.client("athena")
    run_query(athena, f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    run_query(athena, DDL)
    run_query(athena, f"MSCK REPAIR TABLE {TABLE}")


@solve("business-questions")
def business_questions(ctx):
    athena = ctx.client("athena")
    for name, sql in VIEWS.items():
        run_query(athena, f"CREATE OR REPLACE VIEW {name} AS {sql.strip()}")


@teardown
def remove_resources(ctx):
    """Delete the Glue database (its table and views) and the bucket."""
    s3, glue = ctx.client("s3"), ctx.client("glue")
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        for table in glue.get_tables(DatabaseName=DATABASE)["TableList"]:
            glue.delete_table(DatabaseName=DATABASE, Name=table["Name"])
        glue.delete_database(Name=DATABASE)
    if BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        clear_prefix(s3, "")
        s3.delete_bucket(Bucket=BUCKET)
