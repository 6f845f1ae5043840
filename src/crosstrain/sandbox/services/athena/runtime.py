"""Athena for real: SQL (DuckDB) over Glue catalog tables whose data lives in sandbox S3.

moto answers Athena with canned empty results. This runtime serves the query API itself
(StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution,
ListQueryExecutions, BatchGetQueryExecution, GetQueryRuntimeStatistics) and leaves work groups,
data catalogs and named queries to moto.

A query runs on a worker thread in a fresh in-memory DuckDB connection. Every Glue table the
query names becomes a view over a pyarrow dataset of the table's files in moto's S3 backend (in
process: no HTTP, no DuckDB extension, nothing downloaded). Each file carries its partition
values as an Arrow expression; when DuckDB pushes the query's filters into the scan, only the
files they keep are read (``DataScannedInBytes`` shows it). Results are formatted the way Athena
formats them and written to the output location as ``<QueryExecutionId>.csv`` (DDL and utility
statements: ``.txt``).

The DDL people type daily (SHOW, DESCRIBE, CREATE EXTERNAL TABLE, CTAS, INSERT INTO, views,
CREATE/DROP DATABASE, DROP TABLE, MSCK REPAIR TABLE, ALTER TABLE ADD/DROP PARTITION) is parsed
and applied to moto's Glue catalog and S3 as well.

This module is the runtime and its API handlers. The work is in helpers it imports (they never
import it): ``executions`` holds an execution's state and result, ``statements`` runs one
statement (``queries``: the ones DuckDB runs), ``grammar`` parses Athena SQL with sqlglot and
transpiles it for DuckDB, ``sql`` maps types and errors, ``catalog`` reads and writes the Glue
catalog (``definitions``: DDL to Glue TableInputs and back), ``tables`` turns tables into DuckDB
views and writes their files, and ``s3`` reaches moto's S3 in process.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.accounts import caller
from crosstrain.sandbox.core.router import Runtime, aws_action, json_response
from crosstrain.sandbox.services.athena import history
from crosstrain.sandbox.services.athena.executions import Execution, Result
from crosstrain.sandbox.services.athena.s3 import SandboxS3, folder
from crosstrain.sandbox.services.athena.sql import QueryError

# The SQL engine (sqlglot, the statements, DuckDB) is imported on the first query, not when the
# sandbox starts: most sandboxes never run one.

log = logging.getLogger("crosstrain.sandbox.athena")

MAX_PAGE = 1000
NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup "
    "result configuration setting or as an API input."
)


class RequestError(Exception):
    """The API call is rejected (HTTP 400)."""

    def __init__(self, message: str, code: str = "InvalidRequestException"):
        super().__init__(message)
        self.code = code


def result_text(result: Result) -> tuple[bytes, str, str]:
    """(file content, extension, content type) of a result as Athena writes it."""
    if result.statement_type != "DML":
        lines = ["\t".join(v or "" for v in row) for row in result.rows]
        return ("\n".join(lines) + ("\n" if lines else "")).encode(), "txt", "text/plain"

    def cell(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    header = ",".join(cell(c["Name"]) for c in result.columns)
    body = "\n".join(",".join(cell(v) for v in row) for row in result.rows)
    return (header + "\n" + body + ("\n" if body else "")).encode(), "csv", "text/csv"


class AthenaRuntime(Runtime):
    """Serves Athena's query API; the rest of Athena stays with moto."""

    name = "athena"
    ACTIONS = frozenset(
        {
            "StartQueryExecution",
            "GetQueryExecution",
            "GetQueryResults",
            "StopQueryExecution",
            "ListQueryExecutions",
            "BatchGetQueryExecution",
            "GetQueryRuntimeStatistics",
            "DeleteNamedQuery",
        }
    )

    def __init__(self, router):
        super().__init__(router)
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.restored = False

    def restore(self) -> None:
        """Load the query history a previous run of this sandbox recorded (once)."""
        if self.restored:
            return
        loaded = history.load(self.router.moto_lock)
        with self.lock:
            if self.restored:
                return
            for execution, token in loaded:
                self.executions.setdefault(execution.id, execution)
                if token:
                    self.tokens.setdefault(token, execution.id)
            self.restored = True

    def record(self, execution: Execution, token: str | None = None) -> None:
        """Persist an execution's record (unless a reset has forgotten it meanwhile)."""
        if self.executions.get(execution.id) is execution:
            history.save(self.router.moto_lock, execution, token)
            self.router.mark_dirty({"athena"})

    def route(self, request: Request):
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith("AmazonAthena.") and aws_action(request) in self.ACTIONS:
            return self.serve
        return None

    def serve(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            body = {}
        action = aws_action(request) or ""
        self.restore()
        handler = getattr(self, "api_" + re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower())
        try:
            return json_response(handler(request, body))
        except RequestError as exc:
            return json_response({"__type": exc.code, "Message": str(exc)}, 400)

    def health(self) -> dict:
        states = [e.state for e in list(self.executions.values())]
        return {"executions": len(states), "running": states.count("RUNNING")}

    def reset(self) -> None:
        with self.lock:
            executions, self.executions, self.tokens = self.executions, {}, {}
        for execution in executions.values():
            self.cancel(execution)

    def close(self) -> None:
        self.reset()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    # -- API -----------------------------------------------------------------------------------
    def workgroup(self, account: str, region: str, name: str) -> dict:
        from moto.backends import get_backend

        with self.router.moto_lock:
            group = get_backend("athena")[account][region].work_groups.get(name)
            if group is None:
                raise RequestError(f"WorkGroup {name} is not found.")
            return copy.deepcopy(group.configuration or {})

    def api_start_query_execution(self, request: Request, body: dict) -> dict:
        query = body.get("QueryString") or ""
        if not query.strip():
            raise RequestError("QueryString must not be empty")
        token = body.get("ClientRequestToken")
        if token and token in self.tokens:
            return {"QueryExecutionId": self.tokens[token]}
        account, region = caller(request, self.router.region)
        group = body.get("WorkGroup") or "primary"
        config = self.workgroup(account, region, group)
        group_output = (config.get("ResultConfiguration") or {}).get("OutputLocation")
        own_output = (body.get("ResultConfiguration") or {}).get("OutputLocation")
        if config.get("EnforceWorkGroupConfiguration") and group_output:
            output = group_output
        else:
            output = own_output or group_output
        if not output:
            raise RequestError(NO_OUTPUT)
        if not output.startswith("s3://"):
            raise RequestError(f"OutputLocation must be an s3:// URL, not {output}")
        context = dict(body.get("QueryExecutionContext") or {})
        context.setdefault("Catalog", "AwsDataCatalog")
        execution = Execution(
            id=str(uuid.uuid4()),
            query=query,
            account=account,
            region=region,
            workgroup=group,
            context=context,
            output_location=output,
            parameters=list(body.get("ExecutionParameters") or []),
        )
        from crosstrain.sandbox.services.athena.grammar import first_word

        first = first_word(query)
        extension = "csv" if first in ("", "SELECT", "WITH", "VALUES", "TABLE") else "txt"
        execution.result_file = f"{folder(output)}{execution.id}.{extension}"
        with self.lock:
            self.executions[execution.id] = execution
            if token:
                self.tokens[token] = execution.id
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena")
        self.record(execution, token)
        self.pool.submit(self.execute, execution)
        return {"QueryExecutionId": execution.id}

    def find(self, execution_id: str | None) -> Execution:
        execution = self.executions.get(execution_id or "")
        if execution is None:
            raise RequestError(f"QueryExecution {execution_id} was not found")
        return execution

    def api_get_query_execution(self, request: Request, body: dict) -> dict:
        return {"QueryExecution": self.find(body.get("QueryExecutionId")).describe()}

    def api_batch_get_query_execution(self, request: Request, body: dict) -> dict:
        found, missing = [], []
        for execution_id in body.get("QueryExecutionIds") or []:
            if execution_id in self.executions:
                found.append(self.executions[execution_id].describe())
            else:
                missing.append(
                    {
                        "QueryExecutionId": execution_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {execution_id} was not found",
                    }
                )
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def api_list_query_executions(self, request: Request, body: dict) -> dict:
        group = body.get("WorkGroup") or "primary"
        limit = min(int(body.get("MaxResults") or 50), 50)
        start = int(body.get("NextToken") or 0)
        ids = [
            e.id
            for e in sorted(list(self.executions.values()), key=lambda e: e.submitted, reverse=True)
            if e.workgroup == group
        ]
        answer: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
        if start + limit < len(ids):
            answer["NextToken"] = str(start + limit)
        return answer

    def api_get_query_runtime_statistics(self, request: Request, body: dict) -> dict:
        execution = self.find(body.get("QueryExecutionId"))
        statistics = execution.describe()["Statistics"]
        timeline = {
            key: statistics[key]
            for key in (
                "QueryQueueTimeInMillis",
                "QueryPlanningTimeInMillis",
                "EngineExecutionTimeInMillis",
                "ServiceProcessingTimeInMillis",
                "TotalExecutionTimeInMillis",
            )
        }
        rows = {"InputBytes": statistics["DataScannedInBytes"]}
        if execution.result is not None:
            rows["OutputRows"] = len(execution.result.rows)
        return {"QueryRuntimeStatistics": {"Timeline": timeline, "Rows": rows}}

    def api_delete_named_query(self, request: Request, body: dict) -> dict:
        """moto has no DeleteNamedQuery (it answers 500): remove the query from its backend."""
        from moto.backends import get_backend

        account, region = caller(request, self.router.region)
        query_id = body.get("NamedQueryId") or ""
        with self.router.moto_lock:
            removed = get_backend("athena")[account][region].named_queries.pop(query_id, None)
        if removed is None:
            raise RequestError(f"Named query {query_id} was not found.")
        self.router.mark_dirty({"athena"})
        return {}

    def api_stop_query_execution(self, request: Request, body: dict) -> dict:
        execution = self.find(body.get("QueryExecutionId"))
        self.cancel(execution)
        self.record(execution)
        return {}

    def api_get_query_results(self, request: Request, body: dict) -> dict:
        execution = self.find(body.get("QueryExecutionId"))
        if execution.state in ("QUEUED", "RUNNING"):
            raise RequestError(f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED" or (
            execution.result is None and execution.restored_result is None
        ):
            raise RequestError(
                f"Query did not finish successfully. Final query state: {execution.state}"
                + (f"\n{execution.reason}" if execution.reason else "")
            )
        if execution.result is None:
            execution.result = self.read_result(execution)
        limit = int(body.get("MaxResults") or MAX_PAGE)
        if not 1 <= limit <= MAX_PAGE:
            raise RequestError(f"MaxResults must be between 1 and {MAX_PAGE}")
        token = body.get("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise RequestError("NextToken is not valid") from None
        result = execution.result
        names = [tuple(c["Name"] for c in result.columns)] if result.header else []
        rows = itertools.islice(itertools.chain(names, result.rows), start, start + limit)
        answer: dict[str, Any] = {
            "UpdateCount": result.update_count,
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]}
                         for row in rows],
                "ResultSetMetadata": {"ColumnInfo": result.columns},
            },
        }  # fmt: skip
        if start + limit < len(names) + len(result.rows):
            answer["NextToken"] = str(start + limit)
        return answer

    def read_result(self, execution: Execution) -> Result:
        """The result of a query run before a restart, read back from its result file."""
        s3 = SandboxS3(self.router.moto_lock, execution.account, execution.region)
        where = execution.result_file or ""
        try:
            content = s3.read(where.split("://", 1)[-1])
        except Exception:  # noqa: BLE001 - the bucket or the file is gone
            raise RequestError(f"The query result file {where} no longer exists.") from None
        return history.read_rows(content, execution.restored_result or {})

    # -- execution -----------------------------------------------------------------------------
    def cancel(self, execution: Execution) -> None:
        if execution.state in ("QUEUED", "RUNNING"):
            execution.state = "CANCELLED"
            execution.reason = "Query cancelled by user"
            execution.completed = time.time()
            connection = execution.connection
            if connection is not None:
                connection.interrupt()

    def execute(self, execution: Execution) -> None:
        """Run one query on a worker thread and record how it ended."""
        if execution.state != "QUEUED":
            return
        execution.state, execution.started = "RUNNING", time.time()
        from crosstrain.sandbox.services.athena.grammar import parse
        from crosstrain.sandbox.services.athena.statements import Statements

        statements = Statements(self, execution)
        try:
            tree = parse(execution.query, execution.parameters)
            result = statements.run(tree, execution.query)
            content, extension, content_type = result_text(result)
            location = folder(execution.output_location) + f"{execution.id}.{extension}"
            execution.statement_type = result.statement_type
            statements.s3.write(location, content, content_type)
            self.router.mark_dirty({"s3"})
            execution.result, execution.result_file = result, location
            if execution.state == "RUNNING":
                execution.state = "SUCCEEDED"
        except QueryError as exc:
            if execution.state == "RUNNING":
                execution.state, execution.reason = "FAILED", str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure is the query's, never the sandbox's
            log.exception("athena query %s failed", execution.id)
            if execution.state == "RUNNING":
                execution.state = "FAILED"
                execution.reason = f"GENERIC_INTERNAL_ERROR: {type(exc).__name__}: {exc}"
        finally:
            execution.completed = execution.completed or time.time()
            self.record(execution)
