"""Lambda event source mappings for shard streams: DynamoDB streams and Kinesis Data Streams.

One poller serves both (the differences live in :mod:`.stream_sources`). Per enabled mapping and
shard it keeps a position — ``TRIM_HORIZON``: the oldest record; ``LATEST``: the end when the
mapping is created; ``AT_TIMESTAMP``: the first record that arrived at or after
``StartingPositionTimestamp`` — and invokes the function synchronously with up to ``BatchSize``
records in AWS's ``Records`` shape, shard by shard, in shard order. With
``MaximumBatchingWindowInSeconds`` a short batch waits (on the sandbox clock) for more records.

A failed batch is retried from the same record, as AWS does, up to ``MaximumRetryAttempts``
(default 3 in the sandbox, where AWS retries until the record expires), then skipped and, with a
``DestinationConfig.OnFailure``, described to that SQS queue or SNS topic. With
``BisectBatchOnFunctionError`` a failing batch is split in two before it is retried (splitting
does not use up a retry). With ``ReportBatchItemFailures`` the records before the first reported
sequence number count as done and the batch is retried from there. Every batch is one entry in
the delivery log; ``LastProcessingResult`` shows the last one. Positions survive a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crosstrain.sandbox.services.events import stream_sources
from crosstrain.sandbox.services.events.delivery import Result
from crosstrain.sandbox.services.events.stream_sources import Source, epoch
from crosstrain.sandbox.services.events.targets import error_summary

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

log = logging.getLogger("crosstrain.sandbox.events")

IDLE_SECONDS = 0.25
DEFAULT_RETRIES = 3
DEFAULT_BATCH = 100


@dataclass
class Batch:
    esm: object
    source: Source
    shard: str
    key: str  # the position's key: "<mapping uuid>/<shard id>"
    records: list[dict]
    expired: bool = False  # older than MaximumRecordAgeInSeconds: skipped, not invoked


class StreamPoller:
    def __init__(self, runtime: EventsRuntime, positions: dict | None = None):
        self.rt = runtime
        # "<uuid>/<shard>" -> [next record index, failed attempts, bisected batch size or 0]
        self.positions: dict[str, list[int]] = {
            _key(key): (list(value) + [0, 0, 0])[:3] for key, value in (positions or {}).items()
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        stream_sources.install(runtime.clock)
        _show_last_result()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crosstrain-streams", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def reset(self) -> None:
        with self._lock:
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

    # -- reading the shards ------------------------------------------------------------------
    def prime(self) -> None:
        """Fix the starting position of mappings created since the last poll (``LATEST`` means
        the end of the shard when the mapping was created, not when the poller got to it)."""
        self._scan()

    def poll_once(self) -> bool:
        """Deliver the next batch of every shard with records ready; True if any was."""
        work = self._scan()
        for batch in work:
            self._deliver(batch)
        return bool(work)

    def _scan(self) -> list[Batch]:
        from moto.awslambda.models import lambda_backends

        work = []
        with self.rt.router.moto_lock, self._lock:
            for _, regions in list(lambda_backends.items()):
                for _, backend in list(regions.items()):
                    for esm in list(backend._event_source_mappings.values()):
                        source = stream_sources.source_for(esm.event_source_arn)
                        if source is None or not esm.enabled:
                            continue
                        role = _role(backend, esm.function_arn)
                        for shard in source.shards(esm):
                            batch = self._next(esm, source, shard, role)
                            if batch is not None:
                                work.append(batch)
        return work

    def _next(self, esm, source: Source, shard, role: str | None) -> Batch | None:
        key = f"{esm.uuid}/{shard.id}"
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = [_start(esm, source, shard.records), 0, 0]
        size = int(esm.batch_size or DEFAULT_BATCH)
        raw = shard.records[position[0] : position[0] + (position[2] or size)]
        if not raw:
            return None
        window = float(esm.max_batch_window or 0)
        short = window and len(raw) < size and not position[2]
        if short and self.rt.clock.time() < source.arrival(raw[0]) + window:
            return None  # a short batch waits for more records, up to the window
        stale = _stale(esm, source, raw, self.rt.clock.time())
        if stale:
            records = [source.record(esm, shard.id, r, role) for r in raw[:stale]]
            return Batch(esm, source, shard.id, key, records, expired=True)
        records = [source.record(esm, shard.id, r, role) for r in raw]
        return Batch(esm, source, shard.id, key, records)

    # -- delivering ----------------------------------------------------------------------------
    def _deliver(self, batch: Batch) -> None:
        esm, position = batch.esm, self.positions[batch.key]
        payload = json.dumps({"Records": batch.records}).encode()
        detail = {"batch_size": len(batch.records), "mapping": esm.uuid, "shard": batch.shard}
        if batch.expired:
            self._expire(batch, position, len(payload), detail)
            return
        error, done, items = self._invoke(esm, payload, batch)
        if error is None:
            position[:] = [position[0] + len(batch.records), 0, 0]
            result, attempts = Result.success(), 1
        else:
            attempts = self._failed(batch, position, done, error, bisect=not items)
            result = Result.failure(error)
            detail["done"] = done
        esm.__dict__["crosstrain_last_result"] = (
            "OK" if error is None else "PROBLEM: Function call failed"
        )
        self.rt.engine.record(
            batch.source.kind,
            esm.event_source_arn,
            esm.function_arn,
            len(payload),
            result,
            attempts=attempts,
            detail=detail,
        )
        self._save()

    def _expire(self, batch: Batch, position: list[int], size: int, detail: dict) -> None:
        """Skip records past ``MaximumRecordAgeInSeconds``: to the on-failure destination."""
        esm = batch.esm
        position[:] = [position[0] + len(batch.records), 0, 0]
        error = f"RecordAgeExceeded: older than MaximumRecordAgeInSeconds ({esm.max_record_age})"
        self._on_failure(batch, batch.records, error, 0, condition="RecordAgeExceeded")
        detail["expired"] = len(batch.records)
        result = Result.failure(error, retry=False)
        kind, source = batch.source.kind, esm.event_source_arn
        self.rt.engine.record(
            kind, source, esm.function_arn, size, result, attempts=0, detail=detail
        )
        self._save()

    def _save(self) -> None:
        if self.rt.store is not None:
            self.rt.store.extra["streams"] = self.positions
            self.rt.store.touch()

    def _invoke(self, esm, payload: bytes, batch: Batch) -> tuple[str | None, int, bool]:
        """(error or None, how many leading records are done even so, whether the function
        itself reported the failed items)."""
        from crosstrain.sandbox.services.awslambda.functions import LambdaApiError

        lam = self.rt.lambda_runtime()
        parts = esm.function_arn.split(":")
        try:
            function = lam.lookup(parts[4], parts[3], parts[6], None)
            outcome = lam.invoke(function, payload)
        except LambdaApiError as exc:
            return f"{exc.response.status}: {exc.response.get_data(as_text=True)[:200]}", 0, False
        error = error_summary(outcome)
        if error is not None:
            return error, 0, False
        return (*_item_failures(esm, outcome.payload, batch), True)

    def _failed(
        self, batch: Batch, position: list[int], done: int, error: str, *, bisect: bool
    ) -> int:
        """Move the position after a failed batch; returns the attempts made on its records."""
        esm = batch.esm
        rest = batch.records[done:]
        if done:
            position[:] = [position[0] + done, 0, 0]  # the checkpoint moved on
        if bisect and esm.bisect_on_error and len(rest) > 1:
            position[2] = (len(rest) + 1) // 2  # split; AWS does not count it as a retry
            return position[1] + 1
        position[1] += 1
        attempts = position[1]
        limit = esm.max_retry_attempts
        limit = DEFAULT_RETRIES if limit in (None, -1) else int(limit)
        if attempts > limit:
            position[:] = [position[0] + len(rest), 0, 0]
            self._on_failure(batch, rest, error, attempts)
        return attempts

    def _on_failure(
        self,
        batch: Batch,
        records: list[dict],
        error: str,
        attempts: int,
        condition: str = "RetryAttemptsExhausted",
    ) -> None:
        esm = batch.esm
        destination = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        if not destination:
            return
        body = {
            "requestContext": {
                "condition": condition,
                "functionArn": esm.function_arn,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": self.rt.clock.now().isoformat(),
            batch.source.info_key: batch.source.batch_info(esm, batch.shard, records),
            "errorMessage": error,
        }
        self.rt.submit(destination, json.dumps(body).encode(), source=esm.event_source_arn)


def _key(key: str) -> str:
    """Positions saved before Kinesis was served were keyed by mapping alone (DynamoDB streams
    have one shard, whose id moto fixes)."""
    return key if "/" in key else f"{key}/{stream_sources.DYNAMODB_SHARD}"


def _start(esm, source: Source, records: list) -> int:
    if esm.starting_position == "LATEST":
        return len(records)
    if esm.starting_position == "AT_TIMESTAMP" and esm.starting_position_timestamp is not None:
        moment = epoch(esm.starting_position_timestamp)
        return next((i for i, r in enumerate(records) if source.arrival(r) >= moment), len(records))
    return 0  # TRIM_HORIZON


def _stale(esm, source: Source, raw: list, now: float) -> int:
    """How many leading records are older than the mapping's ``MaximumRecordAgeInSeconds``."""
    age = esm.max_record_age
    if age in (None, -1):
        return 0
    count = 0
    for record in raw:
        if source.arrival(record) + float(age) >= now:
            break
        count += 1
    return count


def _role(backend, function_arn: str) -> str | None:
    try:
        return backend.get_function(function_arn).role
    except Exception:  # noqa: BLE001 - a deleted function fails at delivery
        return None


def _item_failures(esm, payload: bytes, batch: Batch) -> tuple[str | None, int]:
    """``ReportBatchItemFailures``: (error, records done before the first reported failure)."""
    if "ReportBatchItemFailures" not in (esm.function_response_types or []):
        return None, len(batch.records)
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return None, len(batch.records)
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if not failures:
        return None, len(batch.records)
    order = [batch.source.sequence(r) for r in batch.records]
    indexes = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if identifier not in order:
            return "ReportBatchItemFailures answer is malformed", 0
        indexes.append(order.index(identifier))
    first = min(indexes)
    return f"{len(failures)} of {len(order)} items reported as failed", first


_shown = False


def _show_last_result() -> None:
    """``Get/ListEventSourceMappings`` show the last batch's ``LastProcessingResult``."""
    global _shown
    if _shown:
        return
    _shown = True
    from moto.awslambda.models import EventSourceMapping

    original = EventSourceMapping.get_configuration

    def get_configuration(self):
        config = original(self)
        if stream_sources.source_for(self.event_source_arn) is not None:
            config["LastProcessingResult"] = self.__dict__.get(
                "crosstrain_last_result", "No records processed"
            )
        return config

    EventSourceMapping.get_configuration = get_configuration
