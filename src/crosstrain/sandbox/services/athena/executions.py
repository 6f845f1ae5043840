"""An Athena query execution: its state, what its statement produced, and how the API shows it.

:class:`Execution` is one ``StartQueryExecution`` from queued to done; :meth:`Execution.describe`
is its ``GetQueryExecution`` answer. A statement's answer is a :class:`Result` of Athena column
info and rows of text (:func:`utility` and :func:`ddl` make the one-column and empty kinds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from crosstrain.sandbox.services.athena.sql import text_column


@dataclass
class Result:
    """What a statement produced: Athena column info and rows of text (``None`` is NULL)."""

    columns: list[dict]
    rows: list[tuple]
    statement_type: str = "DML"
    header: bool = True
    update_count: int = 0


def utility(name: str, values: list[str]) -> Result:
    return Result([text_column(name)], [(v,) for v in values], "UTILITY", header=False)


def ddl(lines: list[str] | None = None) -> Result:
    return Result([], [(line,) for line in lines or []], "DDL", header=False)


@dataclass
class Execution:
    id: str
    query: str
    account: str
    region: str
    workgroup: str
    context: dict
    output_location: str
    parameters: list[str] = field(default_factory=list)
    state: str = "QUEUED"
    reason: str | None = None
    statement_type: str = "DML"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    result: Result | None = None
    counter: dict = field(default_factory=dict)
    connection: Any = None
    result_file: str | None = None
    restored_result: dict | None = None  # a result recorded before a restart, rows in S3

    def describe(self) -> dict:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.state == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": 2, "ErrorType": 1100, "Retryable": False,
                "ErrorMessage": self.reason,
            }  # fmt: skip
        queued = int(((self.started or time.time()) - self.submitted) * 1000)
        engine = int(((self.completed or time.time()) - (self.started or time.time())) * 1000)
        configuration = {"OutputLocation": self.result_file or self.output_location}
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": configuration,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": self.context,
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine,
                "DataScannedInBytes": self.counter.get("bytes", 0),
                "TotalExecutionTimeInMillis": queued + engine,
                "QueryQueueTimeInMillis": queued,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
        }
