"""Helpers for the Athena tests: run a query against the sandbox and read its rows."""

from __future__ import annotations

import time

OUTPUT = "s3://athena-results/queries/"


def run(athena, sql: str, database: str = "shop", output: str | None = OUTPUT, **kwargs) -> dict:
    """Start a query and wait for its final state; return the QueryExecution."""
    if output:
        kwargs["ResultConfiguration"] = {"OutputLocation": output}
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database}, **kwargs
    )["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return execution
        time.sleep(0.02)
    raise AssertionError(f"query did not finish: {sql}")


def rows(athena, execution: dict) -> list[list[str | None]]:
    """Every result row (header row included) through the paginator."""
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    pages = athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=execution["QueryExecutionId"]
    )
    return [
        [cell.get("VarCharValue") for cell in row["Data"]]
        for page in pages
        for row in page["ResultSet"]["Rows"]
    ]


def query(athena, sql: str, **kwargs) -> list[list[str | None]]:
    return rows(athena, run(athena, sql, **kwargs))
