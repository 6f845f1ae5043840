"""The partitioned table created after the files, but its partitions never registered: Athena
sees an empty table (no MSCK REPAIR TABLE, no ADD PARTITION)."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "catalog"
HINT = "partitions"


def apply(ctx):
    solves = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    athena = ctx.client("athena")
    solves.run_query(athena, f"CREATE DATABASE IF NOT EXISTS {solves.DATABASE}")
    solves.run_query(athena, solves.DDL)
