"""Athena's query history, results and named queries survive a sandbox restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from athena_support import OUTPUT, run

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.services.athena.history import INTERRUPTED


def wait_recorded(state_dir: Path, query_id: str, timeout: float = 10.0) -> None:
    """Wait until the Athena snapshot on disk holds the execution (awaited, not slept for)."""
    snapshot = state_dir / "moto" / "athena.pkl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if snapshot.exists() and query_id.encode() in snapshot.read_bytes():
            return
        time.sleep(0.05)
    raise AssertionError("the execution was not written in time")


def test_history_results_and_named_queries_survive_a_restart(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        athena = sb.client("athena")
        sb.client("s3").create_bucket(Bucket="athena-results")
        good = run(
            athena, "SELECT 'a,\"b' AS x, CAST(NULL AS varchar) AS y, '' AS z", database="default"
        )
        bad = run(athena, "SELECT nope", database="default")
        shown = run(athena, "SHOW DATABASES", database="default")
        named = athena.create_named_query(Name="kept", Database="default", QueryString="SELECT 1")
        dropped = athena.create_named_query(Name="gone", Database="default", QueryString="SELECT 2")
        athena.delete_named_query(NamedQueryId=dropped["NamedQueryId"])
    ids = [e["QueryExecutionId"] for e in (good, bad, shown)]

    with sandbox_api.start(state_dir=tmp_path) as sb:
        athena = sb.client("athena")
        assert athena.list_query_executions()["QueryExecutionIds"] == ids[::-1]
        again = athena.get_query_execution(QueryExecutionId=ids[0])["QueryExecution"]
        assert again["Status"] == good["Status"]
        assert again["Query"] == good["Query"]
        assert again["ResultConfiguration"] == good["ResultConfiguration"]
        result = athena.get_query_results(QueryExecutionId=ids[0])["ResultSet"]
        assert [[c.get("VarCharValue") for c in r["Data"]] for r in result["Rows"]] == [
            ["x", "y", "z"],
            ['a,"b', None, ""],
        ]
        assert [c["Type"] for c in result["ResultSetMetadata"]["ColumnInfo"]] == ["varchar"] * 3
        failed = athena.get_query_execution(QueryExecutionId=ids[1])["QueryExecution"]
        assert failed["Status"]["StateChangeReason"] == bad["Status"]["StateChangeReason"]
        databases = athena.get_query_results(QueryExecutionId=ids[2])["ResultSet"]["Rows"]
        assert [r["Data"][0]["VarCharValue"] for r in databases] == ["default"]
        assert athena.list_named_queries()["NamedQueryIds"] == [named["NamedQueryId"]]
        kept = athena.get_named_query(NamedQueryId=named["NamedQueryId"])["NamedQuery"]
        assert kept["QueryString"] == "SELECT 1"
        # The history goes on from where it was.
        newer = run(athena, "SELECT 1", database="default")["QueryExecutionId"]
        assert athena.list_query_executions()["QueryExecutionIds"][:2] == [newer, ids[2]]


def test_a_query_running_when_the_sandbox_died_comes_back_failed(tmp_path):
    sb = sandbox_api.start(state_dir=tmp_path)
    try:
        athena = sb.client("athena")
        sb.client("s3").create_bucket(Bucket="athena-results")
        query_id = athena.start_query_execution(
            QueryString="SELECT count(*) FROM range(30000000000) AS a(x) WHERE x % 7 = 3",
            ResultConfiguration={"OutputLocation": OUTPUT},
        )["QueryExecutionId"]
        wait_recorded(tmp_path, query_id)
        os.kill(sb.pid, signal.SIGKILL)
        sb.process.wait(timeout=10)
    finally:
        sb.stop()
    with sandbox_api.start(state_dir=tmp_path) as again:
        status = again.client("athena").get_query_execution(QueryExecutionId=query_id)[
            "QueryExecution"
        ]["Status"]
        assert (status["State"], status["StateChangeReason"]) == ("FAILED", INTERRUPTED)


def test_reset_forgets_the_history_for_good(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.client("s3").create_bucket(Bucket="athena-results")
        run(sb.client("athena"), "SELECT 1", database="default")
        sb.reset()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert sb.client("athena").list_query_executions()["QueryExecutionIds"] == []
