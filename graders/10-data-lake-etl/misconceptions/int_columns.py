"""Integer columns declared int: pandas wrote int64, which Athena on AWS reads only as bigint."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "catalog"
HINT = "types"


def apply(ctx):
    solves = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    athena = ctx.client("athena")
    ddl = solves.DDL.replace("age bigint", "age int").replace(
        "failed_payments_12m bigint", "failed_payments_12m int"
    )
    solves.run_query(athena, f"CREATE DATABASE IF NOT EXISTS {solves.DATABASE}")
    solves.run_query(athena, ddl)
    solves.run_query(athena, f"MSCK REPAIR TABLE {solves.TABLE}")
