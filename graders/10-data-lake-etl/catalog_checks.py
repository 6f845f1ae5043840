"""Checks of 10-data-lake-etl's steps 4 and 5: the Glue catalog table and the business
questions answered by Athena views (on hidden data when grading)."""

import base64
import contextlib
import io
import json
import re
import time
import uuid

import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checks import Fail, check

from .truth import (
    COLUMNS,
    DATABASE,
    GLUE_TYPES,
    HIDDEN_CUSTOMERS,
    KINDS,
    LOCATION,
    RESULTS,
    SLOW,
    TABLE,
    read_curated,
    reference,
)

# ---------------------------------------------------------------- step 4: catalog


def glue_table(ctx, name: str = TABLE) -> dict:
    glue = ctx.client("glue")
    try:
        glue.get_database(Name=DATABASE)
    except ClientError:
        names = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        raise Fail(f"there is no Glue database {DATABASE} (databases: {names})") from None
    try:
        return glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
    except ClientError:
        names = [t["Name"] for t in glue.get_tables(DatabaseName=DATABASE)["TableList"]]
        raise Fail(f"there is no table {DATABASE}.{name} (tables: {names})") from None


@check(
    "catalog",
    timeout=SLOW,
    points=2,
    hint=f"Create the database {DATABASE} and the external table {TABLE}: its columns, "
    f"PARTITIONED BY (plan string), STORED AS PARQUET, LOCATION '{LOCATION}'.",
    hints={
        "types": "Declare each column with the type its parquet files hold: pandas writes "
        "integers as int64, which Athena reads only as bigint (int fails with HIVE_BAD_DATA "
        "on AWS), dates as date, floats as double.",
    },
)
def catalog_table(ctx):
    table = glue_table(ctx)
    storage = table.get("StorageDescriptor", {})
    location = storage.get("Location", "").rstrip("/") + "/"
    if location != LOCATION:
        raise Fail(f"{TABLE}'s location is {storage.get('Location')!r}, not {LOCATION!r}")
    fmt = storage.get("InputFormat", "") + storage.get("SerdeInfo", {}).get(
        "SerializationLibrary", ""
    )
    if "parquet" not in fmt.lower():
        raise Fail(f"{TABLE} is not a parquet table (input format {fmt or 'none'})")
    keys = [k["Name"] for k in table.get("PartitionKeys", [])]
    if keys != ["plan"]:
        raise Fail(f"{TABLE} is partitioned by {keys or 'nothing'}, not by plan")
    declared = {c["Name"].lower(): c["Type"].lower() for c in storage.get("Columns", [])}
    missing = [c for c in COLUMNS if c != "plan" and c not in declared]
    if missing:
        raise Fail(f"{TABLE} lacks the columns {', '.join(missing)}")
    _, types = read_curated(ctx)
    for name, physical in types.items():
        physical = re.sub(r"^dictionary<values=(\w+),.*", r"\1", physical)
        physical = "timestamp" if physical.startswith("timestamp") else physical
        allowed = GLUE_TYPES.get(physical, {declared.get(name.lower())})
        if name.lower() in declared and declared[name.lower()] not in allowed:
            raise Fail(
                f"{name} is {physical} in the parquet files but declared "
                f"{declared[name.lower()]} in Glue; Athena on AWS would fail to read it",
                hint="types",
            )
    return f"{DATABASE}.{TABLE}: parquet at {LOCATION}, partitioned by plan, types match"


def run_query(ctx, sql: str, database: str = DATABASE) -> list[dict]:
    """Run ``sql`` in Athena; the rows as dicts of text (a failed query raises Fail)."""
    athena = ctx.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        ResultConfiguration={"OutputLocation": RESULTS},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", state)
        raise Fail(f"the query {sql.strip().splitlines()[0]!r} failed: {reason}")
    rows = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        rows += page["ResultSet"]["Rows"]
    header = [c.get("VarCharValue") for c in rows[0]["Data"]]
    return [
        dict(zip(header, [c.get("VarCharValue") for c in r["Data"]], strict=True)) for r in rows[1:]
    ]


@check(
    "catalog",
    timeout=SLOW,
    points=1,
    hint=f"Register the table's partitions: run MSCK REPAIR TABLE {TABLE} in Athena after "
    "writing the files (or ALTER TABLE ... ADD PARTITION for each plan).",
    hints={
        "partitions": "The table knows only the partitions registered in the catalog: run "
        f"MSCK REPAIR TABLE {TABLE} (again after adding a plan folder), then "
        f"SELECT count(*) FROM {TABLE} sees every customer.",
    },
)
def catalog_partitions(ctx):
    glue_table(ctx)
    glue = ctx.client("glue")
    parts = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    values = sorted(p["Values"][0] for p in parts)
    (row,) = run_query(ctx, f"SELECT count(*) AS n FROM {TABLE}")
    want = len(reference(datasets.LEARNER_SEED, 5000))
    if int(row["n"]) != want:
        raise Fail(
            f"SELECT count(*) FROM {TABLE} answers {row['n']}, not {want}; the catalog has "
            f"{len(parts)} partitions ({', '.join(values) or 'none'})",
            hint="partitions",
        )
    return f"Athena sees all {want} customers in {len(parts)} partitions ({', '.join(values)})"


# ---------------------------------------------------------------- step 5: business-questions


def view_sql(ctx, name: str) -> str:
    table = glue_table(ctx, name)
    if table.get("TableType") != "VIRTUAL_VIEW":
        raise Fail(f"{DATABASE}.{name} is a table, not a view: create it with CREATE VIEW")
    text = table.get("ViewOriginalText") or ""
    match = re.search(r"/\*\s*Presto View:\s*(\S+)\s*\*/", text)
    return json.loads(base64.b64decode(match.group(1)))["originalSql"] if match else text


@contextlib.contextmanager
def hidden_lake(ctx, seed: int, n: int):
    """A hidden copy of the curated table in its own bucket and database; removed afterwards."""
    s3, glue = ctx.client("s3"), ctx.client("glue")
    suffix = uuid.uuid4().hex[:8]
    bucket, database = f"grading-{suffix}", f"grading_{suffix}"
    s3.create_bucket(Bucket=bucket)
    data = reference(seed, n).assign(signup_date=lambda f: f["signup_date"].dt.date)
    data[["age", "failed_payments_12m"]] = data[["age", "failed_payments_12m"]].astype("Int64")
    columns = [
        {"Name": c, "Type": {"date": "date", "int": "bigint", "float": "double"}.get(k, "string")}
        for c, k in KINDS.items()
        if c != "plan"
    ]
    parquet = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        },
    }
    try:
        glue.create_database(DatabaseInput={"Name": database})
        location = f"s3://{bucket}/customers/"
        glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "plan", "Type": "string"}],
                "StorageDescriptor": {"Columns": columns, "Location": location, **parquet},
            },
        )
        for plan, part in data.groupby("plan", observed=True):
            buffer = io.BytesIO()
            part.drop(columns="plan").to_parquet(buffer, index=False)
            key = f"customers/plan={plan}/part-0000.parquet"
            s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
            glue.create_partition(
                DatabaseName=database,
                TableName=TABLE,
                PartitionInput={
                    "Values": [str(plan)],
                    "StorageDescriptor": {
                        "Columns": columns,
                        "Location": f"s3://{bucket}/{key.rsplit('/', 1)[0]}/",
                        **parquet,
                    },
                },
            )
        yield database
    finally:
        with contextlib.suppress(ClientError):
            glue.delete_table(DatabaseName=database, Name=TABLE)
        with contextlib.suppress(ClientError):
            glue.delete_database(Name=database)
        with contextlib.suppress(ClientError):
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)


def answers(ctx, name: str, truth) -> str:
    """Run the view on the learner's lake, then (grading) its SQL on a hidden lake; compare."""
    sql = view_sql(ctx, name)
    rows = run_query(ctx, f"SELECT * FROM {DATABASE}.{name}")
    problem = truth(reference(datasets.LEARNER_SEED, 5000), rows, "your data")
    if problem:
        raise Fail(problem[1], hint=problem[0])
    seen = [f"{name} answers right on your data ({len(rows)} rows)"]
    if ctx.hidden:
        seed = datasets.hidden_seed(ctx.hidden.secret.decode())
        unqualified = re.sub(
            rf"\b(awsdatacatalog\s*\.\s*)?{DATABASE}\s*\.\s*",
            "",
            sql.strip().rstrip(";"),
            flags=re.I,
        )
        with hidden_lake(ctx, seed, HIDDEN_CUSTOMERS) as database:
            rows = run_query(ctx, unqualified, database)
        problem = truth(reference(seed, HIDDEN_CUSTOMERS), rows, "hidden data")
        if problem:
            raise Fail(problem[1], hint=problem[0])
        seen.append("and on hidden data")
    return " ".join(seen)


def number(text: str | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def churn_truth(ref: pd.DataFrame, rows: list[dict], where: str):
    need = {"plan", "customers", "churn_rate"}
    if not rows or not need <= set(rows[0]):
        shown = sorted(rows[0]) if rows else "no rows"
        return "default", f"{where}: the view's columns are {shown}, not {sorted(need)}"
    stats = ref.groupby("plan", observed=True)["churned"].agg(["size", "mean"])
    want = {str(p): (int(row["size"]), float(row["mean"])) for p, row in stats.iterrows()}
    got = {r["plan"]: (number(r["customers"]), number(r["churn_rate"])) for r in rows}
    if set(got) != set(want):
        return "default", f"{where}: plans {sorted(map(str, got))}, expected {sorted(want)}"
    rates = [rate for _, rate in got.values()]
    if all(rate == 0 for rate in rates):
        return "integer-division", (
            f"{where}: every churn_rate is 0 ({', '.join(f'{p}: {r[1]}' for p, r in got.items())})"
        )
    for plan, (n, rate) in want.items():
        got_n, got_rate = got[plan]
        if got_n != n or got_rate is None or abs(got_rate - rate) > 0.0051:  # round(.., 2) is ok
            return "default", (
                f"{where}: {plan} has customers={got_n}, churn_rate={got_rate}; expected {n} "
                f"customers and a churn rate of {rate:.4f} (a share between 0 and 1)"
            )
    return None


@check(
    "business-questions",
    timeout=SLOW,
    points=2,
    hint="Create the view churn_by_plan: one row per plan with plan, customers (count) and "
    "churn_rate (the share of customers with churned = 1, between 0 and 1).",
    hints={
        "integer-division": "churned is an integer, and integer / integer truncates in Athena "
        "(SUM(churned) / COUNT(*) is 0): compute avg(CAST(churned AS double)) instead.",
    },
)
def churn_by_plan(ctx):
    return answers(ctx, "churn_by_plan", churn_truth)


def revenue_truth(ref: pd.DataFrame, rows: list[dict], where: str):
    need = {"region", "mrr", "mrr_lost"}
    if not rows or not need <= set(rows[0]):
        shown = sorted(rows[0]) if rows else "no rows"
        return "default", f"{where}: the view's columns are {shown}, not {sorted(need)}"
    keyed = ref.assign(region=ref["region"].astype(object).where(ref["region"].notna(), None))
    keyed = keyed.assign(lost=keyed["monthly_fee"].where(keyed["churned"] == 1, 0))
    grouped = keyed.groupby("region", dropna=False)[["monthly_fee", "lost"]].sum()
    want = {
        (None if pd.isna(region) else str(region)): (float(row.monthly_fee), float(row.lost))
        for region, row in grouped.iterrows()
    }
    got = {r["region"]: (number(r["mrr"]), number(r["mrr_lost"])) for r in rows}
    unknown = [region for region in got if region not in want]
    if None in want and None not in got and len(unknown) == 1:  # e.g. COALESCE(region, 'n/a')
        got[None] = got.pop(unknown[0])
    if None in want and None not in got:
        missing = want[None][0]
        return "null-region", (
            f"{where}: no row for customers without a region, whose MRR is {missing:,.2f}; the "
            f"regions shown add up to {sum(v[0] or 0 for v in got.values()):,.2f}, not "
            f"{sum(v[0] for v in want.values()):,.2f}"
        )
    if set(got) != set(want):
        return (
            "default",
            f"{where}: regions {sorted(map(str, got))}, expected {sorted(map(str, want))}",
        )
    for region, (mrr, lost) in want.items():
        got_mrr, got_lost = got[region]
        if (
            got_mrr is None
            or got_lost is None
            or abs(got_mrr - mrr) > 0.02
            or abs(got_lost - lost) > 0.02
        ):
            return "default", (
                f"{where}: region {region}: mrr={got_mrr}, mrr_lost={got_lost}; expected "
                f"{mrr:.2f} and {lost:.2f}"
            )
    return None


@check(
    "business-questions",
    timeout=SLOW,
    points=2,
    hint="Create the view revenue_by_region: one row per region with region, mrr (the sum of "
    "monthly_fee) and mrr_lost (the sum of monthly_fee of the customers who churned).",
    hints={
        "null-region": "Keep the customers whose region is missing: GROUP BY region gives them a "
        "row with region NULL. Filtering them out makes the regions add up to less than the "
        "company's revenue.",
    },
)
def revenue_by_region(ctx):
    return answers(ctx, "revenue_by_region", revenue_truth)
