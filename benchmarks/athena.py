"""Athena in the sandbox: an aggregate over a 1 M-row partitioned parquet table.

The same parquet files are written to a local folder and to sandbox S3 (12 Hive partitions,
``month=1..12``); the table is created with CREATE EXTERNAL TABLE and MSCK REPAIR TABLE. Each
query is timed end to end as a client sees it (StartQueryExecution, polling GetQueryExecution,
GetQueryResults) and compared with DuckDB reading the same local files directly, in the same run.
A query filtering one partition shows what partition pruning saves. Target: the aggregate in
<= 2 s.

    .venv/bin/python benchmarks/athena.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from crosstrain import sandbox

AGGREGATE = (
    "SELECT region, count(*) AS n, round(sum(amount), 2) AS total, round(avg(qty), 4) AS mean_qty "
    "FROM {table} GROUP BY region ORDER BY region"
)
ONE_MONTH = "SELECT count(*) AS n, round(sum(amount), 2) AS total FROM {table} WHERE month = 3"
CREATE = """
CREATE EXTERNAL TABLE sales (order_id bigint, region string, amount double, qty int)
PARTITIONED BY (month int) STORED AS PARQUET LOCATION 's3://bench/sales/'
"""


def make_data(rows: int, folder: Path) -> dict[str, bytes]:
    """Write the table as Hive-partitioned parquet under ``folder``; return key -> bytes."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows, dtype="int64"),
            "region": rng.choice(["apac", "emea", "latam", "na", "anz"], rows),
            "amount": rng.gamma(2.0, 40.0, rows).round(2),
            "qty": rng.integers(1, 20, rows, dtype="int32"),
            "month": rng.integers(1, 13, rows),
        }
    )
    objects = {}
    for month, part in frame.groupby("month"):
        key = f"sales/month={month}/part-0.parquet"
        buffer = io.BytesIO()
        part.drop(columns="month").to_parquet(buffer, index=False)
        objects[key] = buffer.getvalue()
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(objects[key])
    return objects


def athena_query(athena, sql: str) -> tuple[float, list, int]:
    """(seconds end to end, rows without the header, bytes scanned)."""
    began = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "bench"},
        ResultConfiguration={"OutputLocation": "s3://bench-results/"},
    )["QueryExecutionId"]
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.005)
    if execution["Status"]["State"] != "SUCCEEDED":
        raise SystemExit(f"query failed: {execution['Status']}")
    result = athena.get_query_results(QueryExecutionId=query_id)
    seconds = time.perf_counter() - began
    rows = [[c.get("VarCharValue") for c in r["Data"]] for r in result["ResultSet"]["Rows"][1:]]
    return seconds, rows, execution["Statistics"]["DataScannedInBytes"]


def duckdb_query(folder: Path, sql: str) -> tuple[float, list]:
    began = time.perf_counter()
    con = duckdb.connect()
    source = f"read_parquet('{folder}/sales/*/*.parquet', hive_partitioning = true)"
    rows = con.sql(sql.format(table=source)).fetchall()
    seconds = time.perf_counter() - began
    con.close()
    return seconds, [[None if v is None else str(v) for v in row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, sandbox.start() as sb:
        folder = Path(tmp)
        objects = make_data(args.rows, folder)
        s3, athena = sb.client("s3"), sb.client("athena")
        s3.create_bucket(Bucket="bench")
        s3.create_bucket(Bucket="bench-results")
        for key, body in objects.items():
            s3.put_object(Bucket="bench", Key=key, Body=body)
        for sql in ("CREATE DATABASE bench", CREATE, "MSCK REPAIR TABLE sales"):
            athena_query(athena, sql)
        size = sum(len(b) for b in objects.values())
        print(f"table: {args.rows:,} rows, {len(objects)} partitions, {size / 1e6:.1f} MB parquet")

        report = {}
        for label, template in (("aggregate", AGGREGATE), ("one month", ONE_MONTH)):
            athena_query(athena, template.format(table="sales"))  # warm-up
            duckdb_query(folder, template)
            sandbox_runs = [
                athena_query(athena, template.format(table="sales")) for _ in range(args.repeat)
            ]
            direct_runs = [duckdb_query(folder, template) for _ in range(args.repeat)]
            if sandbox_runs[0][1] != direct_runs[0][1]:
                raise SystemExit(f"answers differ: {sandbox_runs[0][1]} != {direct_runs[0][1]}")
            through = statistics.median(r[0] for r in sandbox_runs)
            direct = statistics.median(r[0] for r in direct_runs)
            report[label] = (through, sandbox_runs[0][2])
            print(
                f"{label:>9}: sandbox Athena {through * 1000:7.1f} ms | DuckDB direct "
                f"{direct * 1000:6.1f} ms | ratio {through / direct:5.1f}x | "
                f"scanned {sandbox_runs[0][2] / 1e6:.2f} MB"
            )
        full, pruned = report["aggregate"], report["one month"]
        print(
            f"pruning: one month of 12 scans {pruned[1] / full[1]:.0%} of the bytes, "
            f"{pruned[0] / full[0]:.0%} of the time"
        )
        verdict = "meets" if full[0] <= 2.0 else "MISSES"
        print(f"target: aggregate <= 2 s -> {full[0]:.2f} s ({verdict})")


if __name__ == "__main__":
    main()
