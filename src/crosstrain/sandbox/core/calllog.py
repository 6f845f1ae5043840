"""The call log: every AWS call the sandbox answered, compact, bounded, queryable.

Each request is recorded after it is answered with what is cheap to know then (time, signing
service, region, method, path, query keys, ``X-Amz-Target``/``Action``, the caller's access key,
status, elapsed time, which client sent it, and the identifiers named in a small JSON or form
body). What costs more is worked out when the log is read, and cached: the operation of a REST
call (from botocore's model of the service), the principal behind an access key (moto's IAM),
the resource's ARN. The newest ``size`` calls are kept; older ones are folded into a summary
(count per service, operation, principal and result), so a full log never grows or fails.

Under ``--enforce-iam`` each record also carries the permission decisions IAM made for it
(``iam``: action, resource, allowed), and the sandbox notes the role assumptions it makes for
its workers (:mod:`.roles`); :meth:`CallLog.decisions` lists those decisions one per row, what a
least-privilege policy is derived from.

Read it with ``GET /_crosstrain/calls`` (``/_crosstrain/decisions``), :meth:`Sandbox.calls`
(``ctx.calls`` in checks) or ``crosstrain sandbox calls``; see ``docs/sandbox/call-log.md``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.sandbox.core import callparts
from crosstrain.sandbox.core.callparts import source_of
from crosstrain.sandbox.core.roles import role_of

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

LOG_SIZE = 50_000
FILE = "calls.json"  # in the state directory
_SKIP = ("/_crosstrain/", "/_localstack/", "/moto-api/")
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
    iam: tuple[tuple[str, str, bool, str], ...] = ()  # (action, resource, allowed, note)
    principal: str | None = None  # set when known without a key (the sandbox's own notes)


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
    def record(
        self, request: Request, scope: tuple, status: int, began: float, decisions: tuple = ()
    ) -> None:
        """Note one answered request (``scope``: access key, region, signing service) and the
        permission ``decisions`` made for it (see :func:`take`)."""
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
            amz_headers=() if target else callparts.amz_headers(environ),
            action=target.rsplit(".", 1)[-1] if target else callparts.action_of(request),
            access_key=access_key,
            status=status,
            ms=round((time.perf_counter() - began) * 1000, 3),
            source=source_of(environ.get("HTTP_USER_AGENT", "")),
            names=callparts.identifiers(request),
            iam=decisions,
        )
        dropped = self._append(raw)
        if access_key and access_key not in self._principals:
            # now: the key may be deleted before the log is read (a session needs its token)
            token = request.headers.get("X-Amz-Security-Token") or request.args.get(
                "X-Amz-Security-Token", ""
            )
            self._principal(access_key, token)
        self._fold(dropped)

    def note(
        self, service: str, operation: str, principal: str, resource: str, allowed: bool, why=""
    ) -> None:
        """Note what the sandbox itself did on a caller's behalf (a worker assuming its role)."""
        raw = Raw(
            time=time.time(),
            service=service,
            region="",
            method="",
            path="",
            query_keys=(),
            amz_headers=(),
            action=operation,
            access_key=None,
            status=200 if allowed else 403,
            ms=0.0,
            source="sandbox",
            names=(("__arn__", resource),) if resource.startswith("arn:") else (),
            iam=((f"{service}:{operation}", resource, allowed, why),),
            principal=principal,
        )
        self._fold(self._append(raw))

    def _append(self, raw: Raw) -> list[Raw]:
        with self._lock:
            self._calls.append(raw)
            overflow = len(self._calls) - self.size
            return [self._calls.popleft() for _ in range(max(overflow, 0))]

    def _fold(self, dropped: list[Raw]) -> None:
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

    def decisions(
        self,
        *,
        role: str | None = None,
        action: str | None = None,
        allowed: bool | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """The permission decisions, one per row, oldest first: who (``principal``, ``role``)
        was or was not ``allowed`` which IAM ``action`` on which ``resource``, during which
        call; ``role`` and ``action`` match substrings."""
        rows = []
        for record in self.query():
            for item in record["iam"]:
                row = {
                    "time": record["time"],
                    "principal": record["principal"],
                    "role": record["role"],
                    **item,
                    "service": record["service"],
                    "operation": record["operation"],
                }
                if (
                    (role and role not in row["role"] and role not in row["principal"])
                    or (action and action not in row["action"])
                    or (allowed is not None and row["allowed"] != allowed)
                ):
                    continue
                rows.append(row)
        return rows[-limit:] if limit else rows

    def _resolve(self, raw: Raw) -> dict:
        key = (raw.service, raw.method, raw.path, raw.query_keys, raw.action)
        operation = self._operations.get(key)
        if operation is None:
            operation = raw.action or callparts.operation(
                raw.service, raw.method, raw.path, raw.query_keys
            )
            self._operations[key] = operation
        principal = raw.principal or self._principal(raw.access_key)
        return {
            "time": raw.time,
            "service": raw.service,
            "operation": operation,
            "principal": principal,
            "role": role_of(principal),
            "access_key": raw.access_key or "",
            "resource": callparts.resource(raw, self.account),
            "status": raw.status,
            "result": result_of(raw.status),
            "source": raw.source,
            "region": raw.region,
            "ms": raw.ms,
            "iam": [
                {"action": a, "resource": r, "allowed": ok, **({"note": why} if why else {})}
                for a, r, ok, why in raw.iam
            ],
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
            self._calls.append(_raw_from_record(record))
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
        iam=tuple(
            (d["action"], d["resource"], d["allowed"], d.get("note", ""))
            for d in record.get("iam", [])
        ),
        principal=record.get("principal"),
    )
