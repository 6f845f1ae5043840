"""CloudWatch metric alarms evaluate in the sandbox (moto stores them and never looks again).

Every real second, and whenever the sandbox clock is advanced, :class:`AlarmsRuntime` evaluates
each metric alarm moto holds (:mod:`.alarms`) over the datapoints moto's metric store has —
the Lambda and SageMaker metrics crosstrain's runtimes record, and ``PutMetricData`` —, on the
events runtime's clock. A state change updates the alarm as ``DescribeAlarms`` shows it, adds
a ``StateUpdate`` record that ``DescribeAlarmHistory`` (which moto lacks; served here through
moto's own response class, so every CloudWatch protocol works) returns, and, when actions are
enabled, publishes AWS's alarm JSON to the SNS topics of the new state's actions through the
delivery engine. Alarms on metric math or anomaly bands are left as moto keeps them.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

from crosstrain.sandbox.core.router import Router, Runtime
from crosstrain.sandbox.services.cloudwatch import alarms
from crosstrain.sandbox.services.events.runtime import events_runtime
from crosstrain.sandbox.services.events.schedule import Clock

log = logging.getLogger("crosstrain.sandbox.cloudwatch")

TICK_SECONDS = 1.0
HISTORY_KEPT = 100
_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}


class AlarmsRuntime(Runtime):
    name = "cloudwatch-alarms"

    def __init__(self, router: Router):
        super().__init__(router)
        self.events = events_runtime(router)
        self.clock = self.events.clock if self.events is not None else Clock()
        self.transitions = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        _serve_history()
        _clock_metrics(self.clock)
        self._thread = threading.Thread(target=self._run, name="crosstrain-alarms", daemon=True)
        self._thread.start()

    def health(self) -> dict:
        return {"transitions": self.transitions}

    def close(self) -> None:
        self._stop.set()
        self.clock.poke()
        self._thread.join(timeout=5)

    def on_clock(self) -> None:
        """The sandbox clock moved: evaluate now, in the caller's thread."""
        self.evaluate_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.clock.generation
            try:
                self.evaluate_all()
            except Exception:  # noqa: BLE001 - keep evaluating the other alarms next tick
                log.exception("alarm evaluation failed")
            self.clock.wait_change(self.clock.time() + TICK_SECONDS, self._stop, seen)

    # -- evaluation --------------------------------------------------------------------------
    def evaluate_all(self) -> int:
        """Evaluate every metric alarm once; returns how many changed state."""
        from moto.cloudwatch.models import cloudwatch_backends

        changed = 0
        with self._lock:
            now = self.clock.time()
            with self.router.moto_lock:
                work = [
                    (account, region, backend, alarm)
                    for account, regions in list(cloudwatch_backends.items())
                    for region, backend in list(regions.items())
                    for alarm in list(backend.alarms.values())
                    if alarm.rule is None and alarm.metric_name and not alarm.metric_data_queries
                ]
                for account, region, backend, alarm in work:
                    if self._evaluate(account, region, backend, alarm, now):
                        changed += 1
            if changed:
                self.router.mark_dirty({"cloudwatch"})
        return changed

    def _evaluate(self, account, region, backend, alarm, now: float) -> bool:
        try:
            spec = _spec(alarm)
        except alarms.AlarmError as exc:
            alarm.state_reason = f"Not evaluated by the crosstrain sandbox: {exc}"
            return False
        fresh = alarm.state_reason == "Unchecked: Initial alarm creation"
        if fresh:
            alarm.state_value = alarms.INSUFFICIENT  # where AWS starts a new alarm
        samples = _samples(backend, spec, now)
        result = alarms.evaluate(spec, samples, now, alarm.state_value)
        old = alarm.state_value
        if result.state == old:
            if fresh:
                alarm.state_reason = result.reason
                alarm.state_reason_data = json.dumps(result.reason_data)
            return False
        alarm.update_state(result.reason, json.dumps(result.reason_data), result.state)
        alarm.state_updated_timestamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
        history = alarm.__dict__.setdefault("crosstrain_history", [])
        history.append(alarms.history_item(alarm.name, old, result.state, result, now))
        del history[:-HISTORY_KEPT]
        self.transitions += 1
        if alarm.actions_enabled:
            self._act(account, region, alarm, spec, old, result, now, history)
        return True

    def _act(self, account, region, alarm, spec, old, result, now, history) -> None:
        actions = {
            alarms.ALARM: alarm.alarm_actions,
            alarms.OK: alarm.ok_actions,
            alarms.INSUFFICIENT: alarm.insufficient_data_actions,
        }[result.state] or []
        if not actions or self.events is None:
            return
        message = alarms.notification(
            spec,
            arn=alarm.alarm_arn,
            account=account,
            region=region,
            old=old,
            evaluation=result,
            now=now,
            description=alarm.description or "",
        )
        message["AlarmActions"] = list(alarm.alarm_actions or [])
        message["OKActions"] = list(alarm.ok_actions or [])
        message["InsufficientDataActions"] = list(alarm.insufficient_data_actions or [])
        where = _REGION_NAMES.get(region, region)
        subject = f'{result.state}: "{alarm.name}" in {where}'[:100]
        for action in actions:
            if action.split(":")[2:3] != ["sns"]:
                continue  # Auto Scaling / EC2 / SSM actions have nothing to act on here
            self.events.submit(
                action,
                json.dumps(message).encode(),
                source=alarm.alarm_arn,
                meta={"subject": subject},
            )
            history.append(
                {
                    "AlarmName": alarm.name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": datetime.fromtimestamp(now, UTC),
                    "HistoryItemType": "Action",
                    "HistorySummary": f"Successfully executed action {action}",
                    "HistoryData": json.dumps(
                        {"actionState": "Succeeded", "notificationResource": action}
                    ),
                }
            )


def _spec(alarm) -> alarms.AlarmSpec:
    statistic = alarm.extended_statistic or alarm.statistic or "Average"
    return alarms.AlarmSpec(
        name=alarm.name,
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        dimensions=tuple((d.name, d.value) for d in alarm.dimensions),
        statistic=statistic,
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        threshold=float(alarm.threshold),
        comparison=alarm.comparison_operator,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        treat_missing_data=alarm.treat_missing_data or "missing",
    )


def _samples(backend, spec: alarms.AlarmSpec, now: float) -> list[tuple[float, float]]:
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    start = alarms.periods(spec, now)[0][0]
    wanted = set(spec.dimensions)
    found: list[tuple[float, float]] = []
    for datum in backend.get_all_metrics():
        if datum.namespace != spec.namespace or datum.name != spec.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        stamp = datum.timestamp
        stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
        epoch = stamp.timestamp()
        if epoch < start or epoch >= now:
            continue
        if isinstance(datum, MetricDatum):
            found.append((epoch, float(datum.value)))
        elif isinstance(datum, MetricAggregatedDatum):
            count = max(1, int(datum.sample_count or 1))
            found.extend([(epoch, float(datum.sum_stat) / count)] * count)
    return found


_CLOCK: dict = {}


def _clock_metrics(clock) -> None:
    """Datapoints without a timestamp are stamped on the sandbox clock (as alarms read it)."""
    from moto.cloudwatch import models

    if not _CLOCK:
        models.utcnow = lambda: datetime.fromtimestamp(_CLOCK["clock"].time(), UTC).replace(
            tzinfo=None
        )
    _CLOCK["clock"] = clock


_patched = False


def _serve_history() -> None:
    """Teach moto's CloudWatch responses ``DescribeAlarmHistory`` (every protocol it speaks)."""
    global _patched
    if _patched:
        return
    _patched = True
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarm_history(self) -> ActionResult:
        name = self._get_param("AlarmName")
        kind = self._get_param("HistoryItemType")
        order = self._get_param("ScanBy") or "TimestampDescending"
        limit = int(self._get_param("MaxRecords") or 100)
        items = []
        for alarm in self.cloudwatch_backend.alarms.values():
            if name and alarm.name != name:
                continue
            items.extend(alarm.__dict__.get("crosstrain_history", []))
        if kind:
            items = [i for i in items if i["HistoryItemType"] == kind]
        items.sort(key=lambda i: i["Timestamp"], reverse=order == "TimestampDescending")
        return ActionResult({"AlarmHistoryItems": items[:limit]})

    CloudWatchResponse.describe_alarm_history = describe_alarm_history
