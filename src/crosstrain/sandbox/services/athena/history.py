"""Athena's query history, kept where the sandbox's state store persists it.

Like the other runtimes, Athena keeps what must survive a restart in moto's backends, which
:mod:`crosstrain.sandbox.core.state` snapshots when a service is marked dirty: every execution is
a plain record in ``crosstrain_executions`` on moto's Athena backend of its account and region
(moto's own ``reset`` clears it with the rest). A record holds the execution and the column info
of its result, not the rows: those are in the result file in sandbox S3, as on AWS, and are read
back from there after a restart (:func:`read_rows`).
"""

from __future__ import annotations

import dataclasses
import io
import threading
from typing import Any

from crosstrain.sandbox.services.athena.executions import Execution, Result

ATTRIBUTE = "crosstrain_executions"
INTERRUPTED = "GENERIC_INTERNAL_ERROR: the sandbox stopped before this query finished; run it again"
KEPT = ("result", "counter", "connection", "restored_result")


def _backend(account: str, region: str):
    from moto.backends import get_backend

    return get_backend("athena")[account][region]


def record(execution: Execution, token: str | None = None) -> dict[str, Any]:
    """An execution as plain data (its result without the rows)."""
    data = {
        f.name: getattr(execution, f.name)
        for f in dataclasses.fields(execution)
        if f.name not in KEPT
    }
    data["bytes_scanned"] = execution.counter.get("bytes", 0)
    data["token"] = token
    result = execution.result
    if result is not None:
        data["result"] = {
            "columns": result.columns,
            "statement_type": result.statement_type,
            "header": result.header,
            "update_count": result.update_count,
        }
    return data


def save(lock: threading.RLock, execution: Execution, token: str | None = None) -> None:
    """Keep (or update) an execution's record in moto's Athena backend."""
    with lock:
        backend = _backend(execution.account, execution.region)
        records = backend.__dict__.setdefault(ATTRIBUTE, {})
        records[execution.id] = record(execution, token)


def load(lock: threading.RLock) -> list[tuple[Execution, str | None]]:
    """Every recorded execution (and its request token), oldest first.

    An execution still queued or running when the sandbox stopped did not finish: it is FAILED.
    """
    from moto.backends import get_backend

    found = []
    with lock:
        for regions in get_backend("athena").values():
            for backend in list(regions.values()):
                found += list(getattr(backend, ATTRIBUTE, {}).values())
    loaded = []
    for data in sorted(found, key=lambda d: d["submitted"]):
        data = dict(data)
        token, scanned = data.pop("token", None), data.pop("bytes_scanned", 0)
        result = data.pop("result", None)
        execution = Execution(**data, counter={"bytes": scanned}, restored_result=result)
        if execution.state in ("QUEUED", "RUNNING"):
            execution.state, execution.reason = "FAILED", INTERRUPTED
            execution.completed = execution.completed or execution.submitted
        loaded.append((execution, token))
    return loaded


def read_rows(content: bytes, result: dict) -> Result:
    """A recorded result with its rows read back from its result file."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = result["columns"]
    rows: list[tuple]
    if result["statement_type"] != "DML":
        lines = content.decode().splitlines()
        rows = [tuple(line.split("\t")) if len(columns) > 1 else (line,) for line in lines]
    elif not columns:
        rows = []
    else:
        names = [f"c{i}" for i in range(len(columns))]
        table = pacsv.read_csv(
            io.BytesIO(content),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,  # "" is an empty string, nothing is NULL
            ),
        )
        rows = list(zip(*(table[n].to_pylist() for n in names), strict=True))
    return Result(
        columns,
        rows,
        result["statement_type"],
        header=result["header"],
        update_count=result["update_count"],
    )
