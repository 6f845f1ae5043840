"""The call log: every AWS call the sandbox answered, compact, bounded, queryable.

Each request is recorded after it is answered with what is cheap to know then (time, signing
service, region, method, path, query keys, ``X-Amz-Target``/``Action``, the caller's access key,
status, elapsed time, which client sent it, and the identifiers named in a small JSON or form
body). What costs more is worked out when the log is read, and cached: the operation of a REST
call (from botocore's model of the service), the principal behind an access key (moto's IAM),
the resource's ARN. The newest ``size`` calls are kept; older ones are folded into a summary
(count per service, operation, principal and result), so a full log never grows or fails.

Read it with ``GET /_crosstrain/calls``, :meth:`Sandbox.calls` (``ctx.calls`` in checks) or
``crosstrain sandbox calls``; see ``docs/sandbox/call-log.md`` for the record format.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from crosstrain.sandbox.core import arns

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

LOG_SIZE = 50_000
FILE = "calls.json"  # in the state directory
SMALL_BODY = 4096  # bodies up to this size are searched for resource identifiers
_SKIP = ("/_crosstrain/", "/_localstack/", "/moto-api/")
_SOURCES = (  # user-agent marker -> source, first match wins
    ("crosstrain-check", "check"),
    ("crosstrain-sandbox", "sandbox"),
    ("aws-cdk", "cdk"),
    ("aws-cli/", "cli"),
    ("localstack", "cli"),
    ("aws-sdk-js", "sdk"),
    ("boto3/", "sdk"),
    ("botocore/", "sdk"),
    ("aws-sdk-", "sdk"),
)
FIELDS = (
    "time",
    "service",
    "operation",
    "principal",
    "resource",
    "status",
    "result",
    "source",
    "region",
    "ms",
)


@dataclass(slots=True)
class Raw:
    """One call as recorded on the hot path; :meth:`CallLog.query` turns it into a record."""

    time: float
    service: str
    region: str
    method: str
    path: str
    query_keys: tuple[str, ...]
    amz_headers: tuple[str, ...]
    action: str | None
    access_key: str | None
    status: int
    ms: float
    source: str
    names: tuple[tuple[str, str], ...]


def source_of(user_agent: str) -> str:
    """``sdk``, ``cli``, ``cdk``, ``check`` (a lab check's client), ``sandbox`` (the
    sandbox's own clients) or ``other``."""
    agent = user_agent.lower()
    return next((source for marker, source in _SOURCES if marker in agent), "other")


def result_of(status: int) -> str:
    if status < 400:
        return "ok"
    return "denied" if status == 403 else "error"


class CallLog:
    """The newest ``size`` calls, with a summary of the ones that no longer fit."""

    def __init__(self, size: int = LOG_SIZE, *, account: str = "000000000000"):
        self.size = size
        self.account = account
        self.enabled = True
        self._calls: deque[Raw] = deque()
        self._evicted: Counter[tuple[str, str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._principals: dict[str, str] = {}
        self._operations: dict[tuple, str] = {}
        self.resolve_principal = None  # set by the router: (access key, token) -> ARN

    # -- the hot path --------------------------------------------------------------------------
    def record(self, request: Request, scope: tuple, status: int, began: float) -> None:
        """Note one answered request (``scope``: access key, region, signing service)."""
        environ = request.environ
        path = environ.get("PATH_INFO", "")
        if not self.enabled or path.startswith(_SKIP):
            return
        access_key, region, service = scope
        target = environ.get("HTTP_X_AMZ_TARGET")
        raw = Raw(
            time=time.time(),
            service=service or "unsigned",
            region=region or "",
            method=environ.get("REQUEST_METHOD", ""),
            path=path,
            query_keys=tuple(sorted(request.args)) if environ.get("QUERY_STRING") else (),
            amz_headers=() if target else _amz_headers(environ),
            action=target.rsplit(".", 1)[-1] if target else _action(request),
            access_key=access_key,
            status=status,
            ms=round((time.perf_counter() - began) * 1000, 3),
            source=source_of(environ.get("HTTP_USER_AGENT", "")),
            names=_names(request),
        )
        with self._lock:
            self._calls.append(raw)
            overflow = len(self._calls) - self.size
            dropped = [self._calls.popleft() for _ in range(max(overflow, 0))]
        if access_key and access_key not in self._principals:
            # now: the key may be deleted before the log is read (a session needs its token)
            token = request.headers.get("X-Amz-Security-Token") or request.args.get(
                "X-Amz-Security-Token", ""
            )
            self._principal(access_key, token)
        for old in dropped:
            record = self._resolve(old)
            key = (record["service"], record["operation"], record["principal"], record["result"])
            self._evicted[key] += 1

    # -- reading -------------------------------------------------------------------------------
    def query(
        self,
        *,
        service: str | None = None,
        operation: str | None = None,
        principal: str | None = None,
        source: str | None = None,
        result: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Records oldest first; ``principal`` matches a substring of the principal's ARN."""
        with self._lock:
            calls = list(self._calls)
        picked = []
        for raw in calls:
            if (service and raw.service != service) or (since and raw.time < since):
                continue
            record = self._resolve(raw)
            if (
                (operation and record["operation"] != operation)
                or (principal and principal not in record["principal"])
                or (source and record["source"] != source)
                or (result and record["result"] != result)
            ):
                continue
            picked.append(record)
        return picked[-limit:] if limit else picked

    def summary(self) -> dict:
        """How many calls are kept, and the counts of the ones folded away."""
        with self._lock:
            kept = len(self._calls)
        folded = [
            {"service": s, "operation": o, "principal": p, "result": r, "count": n}
            for (s, o, p, r), n in sorted(self._evicted.items())
        ]
        return {
            "kept": kept,
            "size": self.size,
            "folded": sum(self._evicted.values()),
            "older": folded,
        }

    def _resolve(self, raw: Raw) -> dict:
        key = (raw.service, raw.method, raw.path, raw.query_keys, raw.action)
        operation = self._operations.get(key)
        if operation is None:
            operation = raw.action or arns.operation(
                raw.service, raw.method, raw.path, raw.query_keys
            )
            self._operations[key] = operation
        return {
            "time": raw.time,
            "service": raw.service,
            "operation": operation,
            "principal": self._principal(raw.access_key),
            "access_key": raw.access_key or "",
            "resource": arns.resource(raw, self.account),
            "status": raw.status,
            "result": result_of(raw.status),
            "source": raw.source,
            "region": raw.region,
            "ms": raw.ms,
        }

    def _principal(self, access_key: str | None, token: str = "") -> str:
        if not access_key:
            return "anonymous"
        known = self._principals.get(access_key)
        if known is None:
            resolve = self.resolve_principal
            known = resolve(access_key, token) if resolve else f"arn:aws:iam::{self.account}:root"
            self._principals[access_key] = known
        return known

    # -- state ---------------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._evicted.clear()

    def save(self, path: Path) -> None:
        """Write the log (resolved records and the summary) to ``path`` as JSON."""
        data = {"calls": self.query(), "summary": self.summary()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def load(self, path: Path) -> None:
        """Restore a log :meth:`save` wrote (unreadable files are ignored: it is a log)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        for record in data.get("calls", []):
            raw = _raw_from_record(record)
            self._principals.setdefault(raw.access_key or "", record.get("principal", ""))
            self._calls.append(raw)
        for item in data.get("summary", {}).get("older", []):
            key = (item["service"], item["operation"], item["principal"], item["result"])
            self._evicted[key] += item["count"]


def _raw_from_record(record: dict) -> Raw:
    resource = record.get("resource", "")
    return Raw(
        time=record["time"],
        service=record["service"],
        region=record.get("region", ""),
        method="",
        path="",
        query_keys=(),
        amz_headers=(),
        action=record["operation"],
        access_key=record.get("access_key") or None,
        status=record["status"],
        ms=record.get("ms", 0.0),
        source=record.get("source", "other"),
        names=(("__arn__", resource),) if resource else (),
    )


def _action(request: Request) -> str | None:
    """The ``Action`` of a query-protocol call (in the query string or a small form body)."""
    if request.environ.get("QUERY_STRING"):
        action = request.args.get("Action")
        if action:
            return action
    if request.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        for key, value in parse_qsl(_small_body(request).decode("utf-8", "replace")):
            if key == "Action":
                return value
    return None


def _amz_headers(environ: dict) -> tuple[str, ...]:
    """The ``x-amz-*`` header names of a REST call (its operation may depend on them)."""
    return tuple(
        sorted(k[5:].replace("_", "-").lower() for k in environ if k.startswith("HTTP_X_AMZ_"))
    )


def _small_body(request: Request) -> bytes:
    try:
        length = int(request.environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if not length or length > SMALL_BODY:
        return b""
    try:
        return request.get_data(cache=True)
    except Exception:  # noqa: BLE001 - a handler read the stream itself: no identifiers then
        return b""


def _names(request: Request) -> tuple[tuple[str, str], ...]:
    """The identifiers (``...Name``, ``...Arn``, ``...Url``) a small JSON or form body names."""
    body = _small_body(request)
    if not body:
        return ()
    items: list[tuple[str, object]]
    if request.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        items = list(parse_qsl(body.decode("utf-8", "replace")))
    else:
        try:
            data = json.loads(body)
        except ValueError:
            return ()
        items = list(data.items()) if isinstance(data, dict) else []
    return tuple(
        (k, v)
        for k, v in items
        if isinstance(v, str) and k.endswith(arns.IDENTIFIER_SUFFIXES) and len(v) < 512
    )[:6]
