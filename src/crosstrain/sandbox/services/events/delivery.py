"""One delivery engine for every event the sandbox moves, and the log learners and checks read.

Every asynchronous hand-over — an S3 notification, an SNS message, an EventBridge target, an
async ``Invoke``, a destination, a DLQ — is a :class:`Delivery`: plain data (so the queue
survives a restart) naming its ``kind``. A :class:`Target` registered for that kind carries it
out and says how it went; the engine retries with the delivery's :class:`RetryPolicy` on the
sandbox clock (AWS's async Lambda policy by default: 2 retries, 1 then 2 minutes apart, events
older than 6 hours dropped), then calls the target's ``finished`` hook (destinations, DLQs).
Deliveries run on a small thread pool, so a crashing or hanging handler never blocks others.

Loops are bounded as AWS bounds them: a delivery carries a trace root and a depth; a call made
by a handler carries its invocation's ``X-Amzn-Trace-Id`` (botocore adds it inside Lambda), so
what it triggers is one level deeper; past ``loop_limit`` levels the delivery is stopped,
logged as ``loop-detected`` and handed to ``finished`` like any other failure.

The :class:`DeliveryLog` holds one entry per delivery (source, target, payload size, result,
attempts, last error), newest last, bounded; synchronous deliveries done elsewhere (SQS pollers,
Step Functions tasks) are recorded with :meth:`DeliveryEngine.record`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import uuid
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from crosstrain.sandbox.services.events.deliverylog import LOG_SIZE, DeliveryLog, Entry
from crosstrain.sandbox.services.events.schedule import Clock

log = logging.getLogger("crosstrain.sandbox.events")

LOOP_LIMIT = 16  # AWS stops a recursive Lambda loop after about 16 invocations
MAX_PENDING = 50_000


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a failed delivery is retried (times on the sandbox clock)."""

    max_retries: int = 2
    max_age: float = 6 * 3600
    delays: tuple[float, ...] = (60.0, 120.0)

    def delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1-based)."""
        return self.delays[min(retry, len(self.delays)) - 1] if self.delays else 0.0


NO_RETRY = RetryPolicy(max_retries=0)


@dataclass
class Delivery:
    """One hand-over of ``payload`` from ``source`` to ``target``."""

    kind: str  # which Target carries it out: "lambda", "sqs", "sns", "http", "states", ...
    source: str  # ARN (or name) of what produced it
    target: str  # ARN (or URL) of where it goes
    payload: bytes
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    meta: dict = field(default_factory=dict)  # kind-specific: destinations, DLQ, headers, ...
    trace: str = ""  # loop detection: the root this delivery descends from
    depth: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = 0.0  # sandbox clock, set on submit
    attempts: int = 0
    not_before: float = 0.0


@dataclass
class Result:
    """How one attempt went. ``retry=False`` makes a failure final at once."""

    ok: bool
    error: str = ""
    retry: bool = True
    response: Any = None

    @classmethod
    def success(cls, response: Any = None) -> Result:
        return cls(True, response=response)

    @classmethod
    def failure(cls, error: str, *, retry: bool = True, response: Any = None) -> Result:
        return cls(False, error, retry, response)


class Target(Protocol):
    def deliver(self, delivery: Delivery) -> Result: ...

    def finished(self, delivery: Delivery, result: Result, outcome: str) -> None: ...


class DeliveryEngine:
    """A queue of deliveries on the sandbox clock, carried out by registered targets."""

    def __init__(self, clock: Clock, *, workers: int = 8, loop_limit: int = LOOP_LIMIT):
        self.clock = clock
        self.log = DeliveryLog()
        self.loop_limit = loop_limit
        self._targets: dict[str, Target] = {}
        self._queue: list[tuple[float, int, Delivery]] = []
        self._inflight: dict[str, Delivery] = {}
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="crosstrain-delivery")
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)
        self._traces: OrderedDict[str, int] = OrderedDict()  # trace root -> deepest depth seen
        self.loops: deque[dict] = deque(maxlen=100)
        self.changes = 0  # bumped on every submit/finish/record (persistence watches it)

    # -- wiring ----------------------------------------------------------------------------
    def register(self, kind: str, target: Target) -> None:
        self._targets[kind] = target

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="crosstrain-events", daemon=True)
            self._thread.start()

    def close(self, grace: float = 5.0) -> None:
        """Stop dispatching; let running deliveries finish (up to ``grace`` seconds), so what
        is still queued is exactly what a restart must deliver."""
        import time

        self._stop.set()
        self.clock.poke()
        if self._thread is not None:
            self._thread.join(timeout=5)
        deadline = time.monotonic() + grace
        with self._idle:
            while self._inflight and time.monotonic() < deadline:
                self._idle.wait(0.05)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- lineage ---------------------------------------------------------------------------
    def lineage(self, trace_header: str | None) -> tuple[str, int]:
        """(root, depth) for a delivery caused by a call carrying ``trace_header``."""
        root = _trace_root(trace_header)
        if not root:
            return uuid.uuid4().hex, 0
        with self._lock:
            depth = self._traces.get(root, 0) + 1
        return root, depth

    def trace_header(self, delivery: Delivery) -> str:
        """The ``X-Amzn-Trace-Id`` a handler run for ``delivery`` should carry."""
        return f"Root={delivery.trace};Parent={delivery.id[:16]};Sampled=0"

    # -- queueing --------------------------------------------------------------------------
    def submit(self, delivery: Delivery, *, detail: dict | None = None) -> Delivery:
        """Queue ``delivery``; it is logged at once."""
        now = self.clock.time()
        delivery.created = delivery.created or now
        delivery.not_before = delivery.not_before or now
        delivery.trace = delivery.trace or uuid.uuid4().hex
        entry = Entry(
            delivery.id,
            delivery.created,
            delivery.kind,
            delivery.source,
            delivery.target,
            len(delivery.payload),
            detail=dict(detail or {}),
        )
        self.log.add(entry)
        self.changes += 1
        with self._lock:
            self._traces[delivery.trace] = max(self._traces.get(delivery.trace, 0), delivery.depth)
            self._traces.move_to_end(delivery.trace)
            while len(self._traces) > LOG_SIZE:
                self._traces.popitem(last=False)
            if len(self._queue) >= MAX_PENDING:
                entry.result, entry.error = "dropped", "the sandbox's delivery queue is full"
                return delivery
            heapq.heappush(self._queue, (delivery.not_before, next(self._seq), delivery))
        self.clock.poke()
        return delivery

    def record(
        self,
        kind: str,
        source: str,
        target: str,
        payload_size: int,
        result: Result,
        *,
        attempts: int = 1,
        detail: dict | None = None,
    ) -> None:
        """Log a delivery carried out synchronously elsewhere (e.g. an SQS poller's batch)."""
        now = self.clock.time()
        entry = Entry(uuid.uuid4().hex, now, kind, source, target, payload_size)
        entry.result = "delivered" if result.ok else "failed"
        entry.attempts, entry.retries = attempts, max(0, attempts - 1)
        entry.error, entry.finished, entry.detail = result.error, now, dict(detail or {})
        self.log.add(entry)
        self.changes += 1

    def pending(self) -> list[Delivery]:
        """Queued and in-flight deliveries (what persistence keeps)."""
        with self._lock:
            found = {d.id: d for d in self._inflight.values()}
            found.update({d.id: d for _, _, d in self._queue})  # a queued retry is newer
            return list(found.values())

    def restore(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            with self._lock:
                heapq.heappush(self._queue, (delivery.not_before, next(self._seq), delivery))
        self.clock.poke()

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._traces.clear()
        self.log.clear()
        self.loops.clear()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is due now or running (for tests and the time control)."""
        import time

        deadline = time.monotonic() + timeout
        with self._idle:
            while True:
                due = self._queue and self._queue[0][0] <= self.clock.time()
                if not due and not self._inflight:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))

    # -- running ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.clock.generation
            with self._lock:
                nxt = self._queue[0][0] if self._queue else self.clock.time() + 1.0
            self.clock.wait_change(min(nxt, self.clock.time() + 1.0), self._stop, seen)
            self._dispatch_due()

    def _dispatch_due(self) -> None:
        now = self.clock.time()
        while True:
            with self._lock:
                if not self._queue or self._queue[0][0] > now:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._inflight[delivery.id] = delivery
            try:
                self._pool.submit(self._attempt, delivery)
            except RuntimeError:  # shutting down
                return

    def _attempt(self, delivery: Delivery) -> None:
        try:
            self._attempt_once(delivery)
        except Exception:  # noqa: BLE001 - the engine outlives any target bug
            log.exception("delivery %s to %s failed unexpectedly", delivery.id, delivery.target)
        finally:
            with self._idle:
                self._inflight.pop(delivery.id, None)
                self._idle.notify_all()

    def _attempt_once(self, delivery: Delivery) -> None:
        target = self._targets.get(delivery.kind)
        now = self.clock.time()
        if delivery.depth >= self.loop_limit:
            message = (
                f"recursive loop stopped after {delivery.depth} deliveries descending from one "
                f"event ({delivery.source} -> {delivery.target}); break the cycle, e.g. write "
                "to another bucket or prefix than the one that triggers the function"
            )
            self.loops.append({"source": delivery.source, "target": delivery.target})
            return self._finish(target, delivery, Result.failure(message), "loop-detected")
        if now - delivery.created > delivery.policy.max_age:
            message = f"event older than MaximumEventAgeInSeconds={delivery.policy.max_age:g}"
            return self._finish(target, delivery, Result.failure(message), "expired")
        if target is None:
            message = f"no target handles deliveries of kind {delivery.kind!r}"
            return self._finish(None, delivery, Result.failure(message, retry=False), "failed")
        delivery.attempts += 1
        self.log.update(delivery.id, attempts=delivery.attempts, retries=delivery.attempts - 1)
        try:
            result = target.deliver(delivery)
        except Exception as exc:  # noqa: BLE001
            log.exception("target %s raised", delivery.kind)
            result = Result.failure(f"{type(exc).__name__}: {exc}")
        if result.ok:
            return self._finish(target, delivery, result, "delivered")
        retries_done = delivery.attempts - 1
        if result.retry and retries_done < delivery.policy.max_retries:
            delay = delivery.policy.delay(retries_done + 1)
            retry = replace(delivery, not_before=self.clock.time() + delay)
            self.log.update(delivery.id, result="retrying", error=result.error)
            with self._lock:
                heapq.heappush(self._queue, (retry.not_before, next(self._seq), retry))
            self.clock.poke()
            return None
        return self._finish(target, delivery, result, "failed")

    def _finish(self, target, delivery: Delivery, result: Result, outcome: str) -> None:
        self.changes += 1
        self.log.update(delivery.id, result=outcome, error=result.error, finished=self.clock.time())
        if target is not None:
            try:
                target.finished(delivery, result, outcome)
            except Exception:  # noqa: BLE001
                log.exception("finishing delivery %s failed", delivery.id)


def _trace_root(header: str | None) -> str:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root" and value:
            return value
    return ""


def delivery_to_dict(delivery: Delivery) -> dict:
    data = asdict(delivery)
    data["payload"] = delivery.payload.decode("latin-1")
    return data


def delivery_from_dict(data: dict) -> Delivery:
    data = dict(data)
    data["payload"] = data["payload"].encode("latin-1")
    policy = data.get("policy") or {}
    data["policy"] = RetryPolicy(
        policy.get("max_retries", 2),
        policy.get("max_age", 6 * 3600),
        tuple(policy.get("delays", ())),
    )
    return Delivery(**data)
