"""Lambda event source mappings for SQS, polled as Lambda polls them.

For every enabled mapping moto holds, the poller receives up to ``BatchSize`` messages (with
the queue's visibility timeout), waits for ``MaximumBatchingWindowInSeconds`` — on the sandbox
clock — when fewer are there, drops messages its ``FilterCriteria`` reject, and invokes the
function synchronously through crosstrain's Lambda runtime with AWS's ``Records`` event. A
successful batch is deleted; with ``ReportBatchItemFailures`` only the items the function did not
name in ``batchItemFailures`` are; a failed batch stays on the queue, comes back after the
visibility timeout and, past the queue's ``maxReceiveCount``, moto's redrive moves it to the
dead-letter queue. Every batch is one entry in the delivery log. Disabled, updated and deleted
mappings take effect on the next poll.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from crosstrain.sandbox.services.events import patterns
from crosstrain.sandbox.services.events.delivery import Result
from crosstrain.sandbox.services.events.targets import error_summary

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

log = logging.getLogger("crosstrain.sandbox.events")

IDLE_SECONDS = 0.25  # real seconds between polls when nothing happens (wake() cuts it short)
MAX_INFLIGHT = 4  # concurrent batches per mapping


class SqsPoller:
    def __init__(self, runtime: EventsRuntime):
        self.rt = runtime
        self._pool = ThreadPoolExecutor(MAX_INFLIGHT * 2, thread_name_prefix="crosstrain-sqs-esm")
        self._inflight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._woken = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crosstrain-sqs-poller", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def reset(self) -> None:
        self.wake()

    def close(self) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- polling -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:  # noqa: BLE001 - the poller outlives any one bad mapping
                log.exception("SQS poller failed")
                busy = False
            if busy:
                continue
            with self._wake:
                if not self._woken:
                    self._wake.wait(IDLE_SECONDS)
                self._woken = False

    def mappings(self) -> list:
        from moto.awslambda.models import lambda_backends

        found = []
        with self.rt.router.moto_lock:
            for _, regions in list(lambda_backends.items()):
                for _, backend in list(regions.items()):
                    for esm in list(backend._event_source_mappings.values()):
                        if ":sqs:" in (esm.event_source_arn or "") and esm.enabled:
                            found.append(esm)
        return found

    def poll_once(self) -> bool:
        """Start a batch for every mapping with messages ready; True if any started."""
        started = False
        for esm in self.mappings():
            with self._lock:
                if self._inflight.get(esm.uuid, 0) >= MAX_INFLIGHT:
                    continue
            messages = self._receive(esm)
            if not messages:
                continue
            with self._lock:
                self._inflight[esm.uuid] = self._inflight.get(esm.uuid, 0) + 1
            try:
                self._pool.submit(self._run_batch, esm, messages)
            except RuntimeError:  # shutting down
                return False
            started = True
        return started

    def _receive(self, esm) -> list:
        from moto.sqs.models import sqs_backends

        _, _, _, region, account, name = esm.event_source_arn.split(":", 5)
        size = int(esm.batch_size or 10)
        window = float(esm.max_batch_window or 0)
        with self.rt.router.moto_lock:
            backend = sqs_backends[account][region]
            queue = backend.queues.get(name)
            if queue is None:
                return []
            if window:
                visible = queue.messages  # the visible ones
                if len(visible) < size:
                    oldest = min((m.sent_timestamp or 0 for m in visible), default=0) / 1000.0
                    if not visible or self.rt.clock.time() < oldest + window:
                        return []
            messages = []
            while len(messages) < size:
                got = backend.receive_message(
                    name,
                    min(10, size - len(messages)),
                    0,
                    int(queue.visibility_timeout or 30),
                    message_attribute_names=["All"],
                )
                if not got:
                    break
                messages.extend(got)
            if messages:
                self.rt.router.mark_dirty({"sqs"})
            return messages

    def _run_batch(self, esm, messages: list) -> None:
        try:
            self._invoke(esm, messages)
        except Exception:  # noqa: BLE001
            log.exception("SQS batch for %s failed", esm.function_arn)
        finally:
            with self._lock:
                self._inflight[esm.uuid] = max(0, self._inflight.get(esm.uuid, 1) - 1)
            self.wake()

    def _invoke(self, esm, messages: list) -> None:
        """Run one batch: filter, invoke, delete what is done, log the batch."""
        queue_arn = esm.event_source_arn
        _, _, _, region, account, name = queue_arn.split(":", 5)
        records = [_record(m, queue_arn, region) for m in messages]
        keep, drop = _filter(esm, records)
        self._delete(account, region, name, [r["receiptHandle"] for r in drop])
        if not keep:
            return
        payload = json.dumps({"Records": keep}).encode()
        result, done, attempts = self._run_function(esm, payload, keep)
        detail = {"batch_size": len(keep), "mapping": esm.uuid}
        if done is not None:
            self._delete(account, region, name, [r["receiptHandle"] for r in done])
            detail["failed_items"] = len(keep) - len(done)
        self.rt.engine.record(
            "sqs",
            queue_arn,
            esm.function_arn,
            len(payload),
            result,
            attempts=attempts,
            detail=detail,
        )

    def _run_function(self, esm, payload: bytes, records: list[dict]):
        """Invoke the function with the batch: (result, records done or None, attempts).

        A failed invocation leaves the whole batch on the queue (``None``); with
        ``ReportBatchItemFailures`` the items the function did not name are done; a malformed
        answer fails the whole batch, as on AWS."""
        from crosstrain.sandbox.services.awslambda.functions import LambdaApiError

        lam = self.rt.lambda_runtime()
        parts = esm.function_arn.split(":")
        try:
            outcome = lam.invoke(lam.lookup(parts[4], parts[3], parts[6], None), payload)
        except LambdaApiError as exc:
            error = f"{exc.response.status}: {exc.response.get_data(as_text=True)[:200]}"
            return Result.failure(error), None, 1
        error = error_summary(outcome)
        if error is not None:
            attempts = max(int(r["attributes"]["ApproximateReceiveCount"]) for r in records)
            return Result.failure(error), None, attempts
        failed = _batch_item_failures(esm, outcome.payload, records)
        if failed is None:
            return Result.failure("ReportBatchItemFailures answer is malformed"), None, 1
        done = [r for r in records if r["messageId"] not in failed]
        if failed:
            message = f"{len(failed)} of {len(records)} items reported as failed"
            return Result.failure(message), done, 1
        return Result.success(), done, 1

    def _delete(self, account: str, region: str, name: str, handles: list[str]) -> None:
        if not handles:
            return
        from moto.sqs.models import sqs_backends

        with self.rt.router.moto_lock:
            backend = sqs_backends[account][region]
            for handle in handles:
                try:
                    backend.delete_message(name, handle)
                except Exception:  # noqa: BLE001 - the queue went away meanwhile
                    log.debug("could not delete %s from %s", handle, name)
        self.rt.router.mark_dirty({"sqs"})


def _record(message, queue_arn: str, region: str) -> dict:
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if getattr(message, "group_id", None):
        attributes["MessageGroupId"] = message.group_id
    if getattr(message, "deduplication_id", None):
        attributes["MessageDeduplicationId"] = message.deduplication_id
    message_attributes = {
        key: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for key, value in (message.message_attributes or {}).items()
    }
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _filter(esm, records: list[dict]) -> tuple[list[dict], list[dict]]:
    filters = (esm.filter_criteria or {}).get("Filters") or []
    if not filters:
        return records, []
    compiled = []
    for item in filters:
        try:
            compiled.append(json.loads(item.get("Pattern", "{}")))
        except ValueError:
            continue
    keep, drop = [], []
    for record in records:
        subject = dict(record)
        with contextlib.suppress(ValueError):
            subject["body"] = json.loads(record["body"])
        (keep if any(patterns.matches(p, subject) for p in compiled) else drop).append(record)
    return keep, drop


def _batch_item_failures(esm, payload: bytes, records: list[dict]) -> set[str] | None:
    if "ReportBatchItemFailures" not in (esm.function_response_types or []):
        return set()
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return set()
    if not isinstance(answer, dict) or not answer.get("batchItemFailures"):
        return set()
    ids = {r["messageId"] for r in records}
    failed = set()
    for item in answer["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return None
        failed.add(identifier)
    return failed
