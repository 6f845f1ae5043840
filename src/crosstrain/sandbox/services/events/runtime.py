"""The events data plane on the router: one clock, one delivery engine, every source wired in.

:class:`EventsRuntime` owns the sandbox :class:`~.schedule.Clock`, the
:class:`~.delivery.DeliveryEngine` (with the targets of :mod:`.targets`), the EventBridge
:class:`~.scheduler.Scheduler` and the SQS event-source poller, and redirects moto's hand-over
points into them (:mod:`.sources`). It serves:

- ``GET /_crosstrain/events``: the delivery log (``?source=&target=&kind=&result=&limit=``);
- ``GET /_crosstrain/time`` and ``POST /_crosstrain/time?seconds=N[&wait=1]``: the sandbox
  clock, and advancing it (due schedules fire before the answer; ``wait`` also waits for the
  deliveries they caused);
- ``Invoke`` with ``InvocationType=Event`` (through the Lambda runtime's ``on_event`` hook):
  queued with the function's retry policy, destinations and dead-letter queue;
- configuration-time validation AWS does: ``PutRule`` patterns and schedule expressions,
  ``PutBucketNotificationConfiguration`` destinations (existence, Lambda permission for S3).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import Call, Handler, Router, Runtime, aws_action, json_response
from crosstrain.sandbox.services.events import sources, validation
from crosstrain.sandbox.services.events.delivery import (
    Delivery,
    DeliveryEngine,
    RetryPolicy,
)
from crosstrain.sandbox.services.events.schedule import Clock, ScheduleError, parse
from crosstrain.sandbox.services.events.scheduler import Scheduler
from crosstrain.sandbox.services.events.sqs_poller import SqsPoller
from crosstrain.sandbox.services.events.store import EventsStore
from crosstrain.sandbox.services.events.stream_poller import StreamPoller
from crosstrain.sandbox.services.events.targets import Targets, arn_parts, kind_of

log = logging.getLogger("crosstrain.sandbox.events")

ASYNC_RETRY = RetryPolicy(max_retries=2, max_age=21600, delays=(60.0, 120.0))
ROUTE_LOG = "/_crosstrain/events"
ROUTE_TIME = "/_crosstrain/time"
_DLQ_PATHS = ("/2015-03-31/functions",)


def events_runtime(router: Router) -> EventsRuntime | None:
    """The router's events runtime (other services share its clock and engine)."""
    return next((rt for rt in router.runtimes if isinstance(rt, EventsRuntime)), None)


class EventsRuntime(Runtime):
    name = "events"

    def __init__(self, router: Router):
        super().__init__(router)
        self.clock = Clock()
        self.engine = DeliveryEngine(self.clock)
        self.scheduler = Scheduler(self.clock, self._fire_schedule)
        Targets(self)
        self._local = threading.local()
        self.dlqs: dict[str, str] = {}  # unqualified function ARN -> DeadLetterConfig target
        self.poller = SqsPoller(self)
        self.store = None
        if router.state is not None and router.state_dir is not None:
            self.store = EventsStore(Path(router.state_dir) / "events", self)
            self.store.restore()
        self.streams = StreamPoller(self, self.store.extra.get("streams") if self.store else None)
        sources.install(self)
        lam = self.lambda_runtime()
        if lam is not None:
            lam.on_event = self._async_invoke
        self.sync_schedules()
        self.engine.start()
        self.scheduler.start()
        self.poller.start()
        self.streams.start()
        if self.store is not None:
            self.store.start()

    # -- router hooks ------------------------------------------------------------------------
    def route(self, request: Request) -> Handler | None:
        self._local.trace = request.headers.get("X-Amzn-Trace-Id")
        if request.path == ROUTE_LOG and request.method == "GET":
            return self._log_route
        if request.path == ROUTE_TIME:
            return self._time_route
        action = aws_action(request)
        if action == "PutRule" and "AWSEvents" in request.headers.get("X-Amz-Target", ""):
            return validation.put_rule(request)
        if request.method == "PUT" and "notification" in request.args:
            return validation.bucket_notification(self, request)
        return None

    def permission(self, request: Request) -> tuple[str, str] | None:
        if request.path.startswith("/_crosstrain/"):
            return None
        return super().permission(request)

    def observe(self, call: Call) -> None:
        if call.service == "events":
            self.sync_schedules()
        elif call.service in ("lambda", "awslambda"):  # moto names its Lambda app awslambda
            if call.request.path.startswith(_DLQ_PATHS):
                self._note_dlq(call)
            if "/event-source-mappings" in call.request.path:
                self.streams.prime()
            self.poller.wake()
            self.streams.wake()
        elif call.service == "sqs":
            self.poller.wake()
        elif call.service in ("dynamodb", "kinesis"):
            self.streams.wake()

    def health(self) -> dict:
        return {
            "clock_offset_seconds": self.clock.offset,
            "pending": len(self.engine.pending()),
            "schedules": len(self.scheduler.jobs()),
            "loops_stopped": len(self.engine.loops),
        }

    def reset(self) -> None:
        self.engine.clear()
        self.scheduler.clear()
        self.clock.reset()
        self.dlqs.clear()
        self.poller.reset()
        self.streams.reset()
        if self.store is not None:
            self.store.clear()

    def close(self) -> None:
        self.poller.close()
        self.streams.close()
        self.scheduler.close()
        self.engine.close()
        if self.store is not None:
            self.store.close()

    # -- helpers shared by sources and targets -----------------------------------------------
    def lambda_runtime(self):
        return next((rt for rt in self.router.runtimes if rt.name == "lambda"), None)

    def submit(
        self,
        target: str,
        payload: bytes,
        *,
        source: str,
        kind: str | None = None,
        policy: RetryPolicy | None = None,
        meta: dict | None = None,
        parent: Delivery | None = None,
    ) -> Delivery:
        """Queue a delivery of ``payload`` to ``target`` (an ARN or URL) caused by ``source``."""
        if parent is not None:
            trace, depth = parent.trace, parent.depth + 1
        else:
            trace, depth = self.engine.lineage(getattr(self._local, "trace", None))
        delivery = Delivery(
            kind or kind_of(target),
            source,
            target,
            payload,
            policy=policy or RetryPolicy(max_retries=2, delays=(1.0, 2.0)),
            meta=dict(meta or {}),
            trace=trace,
            depth=depth,
        )
        return self.engine.submit(delivery)

    def send_raw(self, target: str, payload: bytes, *, source: str, parent: Delivery, **meta):
        """A destination or DLQ message (part of ``parent``'s story, not a new loop level)."""
        delivery = Delivery(
            kind_of(target),
            source,
            target,
            payload,
            policy=RetryPolicy(max_retries=2, delays=(1.0, 2.0)),
            meta={k: v for k, v in meta.items() if v is not None},
            trace=parent.trace,
            depth=parent.depth,
        )
        return self.engine.submit(delivery)

    def submit_lambda(
        self,
        function_arn: str,
        payload: bytes,
        *,
        source: str,
        principal: str | None = None,
        parent: Delivery | None = None,
        request_id: str | None = None,
    ) -> Delivery:
        """An asynchronous invocation with the function's retry policy, destinations and DLQ."""
        meta, policy = self.async_config(function_arn)
        meta["request_id"] = request_id or str(uuid.uuid4())
        if principal:
            meta["principal"] = principal
        return self.submit(
            function_arn,
            payload,
            source=source,
            kind="lambda",
            policy=policy,
            meta=meta,
            parent=parent,
        )

    def async_config(self, function_arn: str) -> tuple[dict, RetryPolicy]:
        """(meta, retry policy) from the function's event-invoke config and dead-letter queue."""
        from moto.awslambda.models import lambda_backends

        meta: dict[str, Any] = {}
        retries, age = ASYNC_RETRY.max_retries, ASYNC_RETRY.max_age
        try:
            _, region, account, resource = arn_parts(function_arn)
            name = resource.split(":")[1]
            with self.router.moto_lock:
                fn = lambda_backends[account][region].get_function(name)
                configs = list(getattr(fn, "event_invoke_config", []) or [])
                base = fn.function_arn
        except Exception:  # noqa: BLE001 - a missing function fails at delivery, as on AWS
            return meta, ASYNC_RETRY
        if configs:
            config = configs[-1].config
            retries = int(config.get("MaximumRetryAttempts", retries))
            age = float(config.get("MaximumEventAgeInSeconds", age))
            destinations = config.get("DestinationConfig") or {}
            meta["on_success"] = (destinations.get("OnSuccess") or {}).get("Destination")
            meta["on_failure"] = (destinations.get("OnFailure") or {}).get("Destination")
        meta["dlq"] = self.dlqs.get(base)
        meta = {k: v for k, v in meta.items() if v}
        return meta, RetryPolicy(retries, age, ASYNC_RETRY.delays)

    def sqs_sent(self, account: str, region: str, queue: str) -> None:
        self.poller.wake()

    def sqs_sent_arn(self, arn: str) -> None:
        self.poller.wake()

    def _async_invoke(self, function, payload: bytes, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        base = function.arn.split(":function:")[0] + f":function:{function.name}"
        qualifier = request.args.get("Qualifier")
        arn = f"{base}:{qualifier}" if qualifier else base
        self.submit_lambda(arn, payload, source="lambda:Invoke", request_id=request_id)
        return Response(status=202, headers={"x-amzn-RequestId": request_id})

    def _note_dlq(self, call: Call) -> None:
        body = call.json()
        if "DeadLetterConfig" not in body:
            return
        try:
            arn = json.loads(call.body)["FunctionArn"]
        except (ValueError, KeyError):
            return
        base = arn.split(":function:")[0] + ":function:" + arn.split(":function:")[1].split(":")[0]
        target = (body.get("DeadLetterConfig") or {}).get("TargetArn")
        if target:
            self.dlqs[base] = target
        else:
            self.dlqs.pop(base, None)

    # -- schedules ---------------------------------------------------------------------------
    def sync_schedules(self) -> None:
        """Make the scheduler's jobs match the scheduled rules moto holds."""
        from moto.events.models import events_backends

        wanted: dict[str, tuple[str, bool]] = {}
        with self.router.moto_lock:
            for _account, regions in list(events_backends.items()):
                for _region, backend in list(regions.items()):
                    for bus in list(backend.event_buses.values()):
                        for rule in list(bus.rules.values()):
                            if rule.scheduled_expression:
                                enabled = rule.state == "ENABLED"
                                wanted[rule.arn] = (rule.scheduled_expression, enabled)
        for job in self.scheduler.jobs():
            if job.key not in wanted:
                self.scheduler.remove(job.key)
        for arn, (expression, enabled) in wanted.items():
            try:
                self.scheduler.put(arn, parse(expression), enabled=enabled)
            except ScheduleError:
                log.warning("rule %s has an invalid schedule %s", arn, expression)

    def _fire_schedule(self, rule_arn: str, moment) -> None:
        from moto.events.models import events_backends

        _, region, account, resource = arn_parts(rule_arn)
        parts = resource.split("/")  # rule/name or rule/bus/name
        name, bus = parts[-1], (parts[1] if len(parts) == 3 else "default")
        with self.router.moto_lock:
            backend = events_backends[account][region]
            found = backend.event_buses.get(bus)
            rule = found.rules.get(name) if found else None
        if rule is None:
            return
        sources.dispatch(self, rule, sources.scheduled_event(rule, moment))

    def advance(self, seconds: float, wait: bool = False) -> dict:
        """Move the sandbox clock forward; fire what fell due (and wait for it, if asked)."""
        before = self.scheduler.fired_total
        self.clock.advance(seconds)
        self.scheduler.run_due()  # waits for the scheduler's own thread if it got there first
        fired = self.scheduler.fired_total - before
        self.poller.wake()  # batching windows are measured on the sandbox clock
        self.streams.wake()
        for rt in self.router.runtimes:
            tick = getattr(rt, "on_clock", None)
            if tick is not None:
                tick()
        if wait:
            self.engine.wait_idle(timeout=30)
        return {
            "advanced_seconds": seconds,
            "offset_seconds": self.clock.offset,
            "now": self.clock.now().isoformat(),
            "schedules_fired": fired,
        }

    # -- internal routes ---------------------------------------------------------------------
    def _log_route(self, request: Request) -> Response:
        args = request.args
        try:
            limit = int(args["limit"]) if "limit" in args else None
            since = float(args["since"]) if "since" in args else None
        except ValueError:
            return json_response({"error": "limit and since must be numbers"}, 400)
        entries = self.engine.log.query(
            source=args.get("source"),
            target=args.get("target"),
            kind=args.get("kind"),
            result=args.get("result"),
            since=since,
            limit=limit,
        )
        return json_response({"deliveries": entries, "loops": list(self.engine.loops)})

    def _time_route(self, request: Request) -> Response:
        if request.method == "GET":
            now = self.clock.now()
            return json_response({"now": now.isoformat(), "offset_seconds": self.clock.offset})
        if request.method != "POST":
            return json_response({"error": "use GET or POST"}, 405)
        raw = request.args.get("seconds")
        if raw is None and request.get_data():
            try:
                raw = json.loads(request.get_data()).get("seconds")
            except (ValueError, AttributeError):
                raw = None
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            return json_response({"error": "give seconds=N (a number >= 0) to advance by"}, 400)
        if seconds < 0:
            return json_response({"error": "the sandbox clock only moves forward"}, 400)
        wait = request.args.get("wait", "").lower() in ("1", "true", "yes")
        return json_response(self.advance(seconds, wait=wait))
