"""Lambda event source mappings for DynamoDB streams.

moto records a table's stream (``StreamRecord`` per change) and would hand it to Lambda through
Docker; that hand-over sees no mappings here (as for SQS) and this poller reads the shard
instead. Per enabled mapping it keeps a position (``TRIM_HORIZON``: the oldest record;
``LATEST``: the end when first seen), invokes the function synchronously with up to
``BatchSize`` records in AWS's ``Records`` shape, and moves on when the batch succeeds. A failed
batch is retried (in order, as AWS does) up to ``MaximumRetryAttempts`` (default: 3 in the
sandbox, where AWS retries until the record expires), then skipped and, with a
``DestinationConfig.OnFailure``, described to that destination. Positions survive a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from crosstrain.sandbox.services.events.delivery import Result

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

log = logging.getLogger("crosstrain.sandbox.events")

IDLE_SECONDS = 0.25
DEFAULT_RETRIES = 3


class _Inert(dict):
    def items(self):
        return []

    def __reduce__(self):
        return (_Inert, (dict(self),))


_patched = False


def _patch() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    from moto.dynamodb.models.table import Table

    def get(self):
        return self.__dict__.setdefault("_crosstrain_esms", _Inert())

    def set_(self, value):
        self.__dict__["_crosstrain_esms"] = _Inert(value or {})

    Table.lambda_event_source_mappings = property(get, set_)


class StreamPoller:
    def __init__(self, runtime: EventsRuntime, positions: dict | None = None):
        self.rt = runtime
        self.positions: dict[str, list[int]] = dict(positions or {})  # uuid -> [next, failures]
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        _patch()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crosstrain-streams", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def reset(self) -> None:
        self.positions.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:  # noqa: BLE001
                log.exception("stream poller failed")
                busy = False
            if not busy:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()

    def poll_once(self) -> bool:
        from moto.awslambda.models import lambda_backends
        from moto.dynamodb.models import dynamodb_backends

        work = []
        with self.rt.router.moto_lock:
            for _, regions in list(lambda_backends.items()):
                for _, backend in list(regions.items()):
                    for esm in list(backend._event_source_mappings.values()):
                        arn = esm.event_source_arn or ""
                        if ":dynamodb:" not in arn or "/stream/" not in arn or not esm.enabled:
                            continue
                        _, _, _, region, account, resource = arn.split(":", 5)
                        table = dynamodb_backends[account][region].tables.get(
                            resource.split("/")[1]
                        )
                        shard = getattr(table, "stream_shard", None)
                        if shard is None:
                            continue
                        position = self.positions.get(esm.uuid)
                        if position is None:
                            start = (
                                0 if esm.starting_position == "TRIM_HORIZON" else len(shard.items)
                            )
                            position = self.positions[esm.uuid] = [start, 0]
                        size = int(esm.batch_size or 100)
                        records = shard.items[position[0] : position[0] + size]
                        if records:
                            payload = [dict(r.record, eventSourceARN=arn) for r in records]
                            work.append((esm, payload))
        for esm, records in work:
            self._invoke(esm, records)
        return bool(work)

    def _invoke(self, esm, records: list[dict]) -> None:
        from crosstrain.sandbox.services.awslambda.functions import LambdaApiError

        payload = json.dumps({"Records": records}, default=str).encode()
        position = self.positions[esm.uuid]
        lam = self.rt.lambda_runtime()
        parts = esm.function_arn.split(":")
        detail = {"batch_size": len(records), "mapping": esm.uuid}
        try:
            function = lam.lookup(parts[4], parts[3], parts[6], None)
            outcome = lam.invoke(function, payload)
            error = _error(outcome)
        except LambdaApiError as exc:
            error = f"{exc.response.status}: {exc.response.get_data(as_text=True)[:200]}"
        source = esm.event_source_arn
        if error is None:
            position[0] += len(records)
            position[1] = 0
            self.rt.engine.record(
                "dynamodb", source, esm.function_arn, len(payload), Result.success(), detail=detail
            )
        else:
            position[1] += 1
            limit = esm.max_retry_attempts
            limit = DEFAULT_RETRIES if limit in (None, -1) else int(limit)
            attempts = position[1]
            if attempts > limit:
                position[0] += len(records)
                position[1] = 0
                self._on_failure(esm, records, error)
            self.rt.engine.record(
                "dynamodb",
                source,
                esm.function_arn,
                len(payload),
                Result.failure(error),
                attempts=attempts,
                detail=detail,
            )
        if self.rt.store is not None:
            self.rt.store.extra["streams"] = self.positions
            self.rt.store.touch()

    def _on_failure(self, esm, records: list[dict], error: str) -> None:
        destination = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        if not destination:
            return
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        body = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": esm.function_arn,
                "approximateInvokeCount": self.positions[esm.uuid][1] or 1,
            },
            "DDBStreamBatchInfo": {
                "shardId": "shardId-00000001",
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": esm.event_source_arn,
            },
            "errorMessage": error,
        }
        self.rt.submit(destination, json.dumps(body).encode(), source=esm.event_source_arn)


def _error(outcome) -> str | None:
    if outcome.throttled:
        return "TooManyRequestsException"
    if not outcome.function_error:
        return None
    try:
        error = json.loads(outcome.payload)
        return f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return outcome.payload.decode("utf-8", "replace")[:200]
