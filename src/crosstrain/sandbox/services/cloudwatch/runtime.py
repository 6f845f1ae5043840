"""CloudWatch alarms evaluate in the sandbox (moto stores them and never looks again).

Every real second, whenever the sandbox clock is advanced, and right after an alarm is put,
:class:`AlarmsRuntime` evaluates each alarm moto holds on the events runtime's clock: metric
alarms over one metric or over metric math (:mod:`.alarms`, :mod:`.metric_math`) with the
datapoints moto's metric store has — the Lambda and SageMaker metrics crosstrain's runtimes
record, and ``PutMetricData`` —, then composite alarms over the states of the alarms their rule
names (:mod:`.composite`). A state change updates the alarm as ``DescribeAlarms`` shows it, adds a
``StateUpdate`` record to ``DescribeAlarmHistory`` and, when actions are enabled, publishes AWS's
alarm JSON to the SNS topics of the new state's actions through the delivery engine. What the
evaluator cannot evaluate is refused when the alarm is put (:mod:`.hooks`).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

from crosstrain.sandbox.core.router import Call, Router, Runtime
from crosstrain.sandbox.services.cloudwatch import alarms, composite, hooks, metric_math, specs
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
        hooks.install(self.clock)
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

    def observe(self, call: Call) -> None:
        """An alarm was put or deleted: evaluate before the caller hears back."""
        if call.service == "cloudwatch" and "Alarm" in (call.action or call.request.path):
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
        """Evaluate every alarm once (composites last); returns how many changed state."""
        from moto.cloudwatch.models import cloudwatch_backends

        changed = 0
        with self._lock, self.router.moto_lock:
            now = self.clock.time()
            work = [
                (account, region, backend, alarm)
                for account, regions in list(cloudwatch_backends.items())
                for region, backend in list(regions.items())
                for alarm in list(backend.alarms.values())
            ]
            for account, region, backend, alarm in work:
                if alarm.rule is None and self._evaluate(account, region, backend, alarm, now):
                    changed += 1
            for _ in range(len(work)):  # composites may name composites: until settled
                moved = sum(
                    self._evaluate(account, region, backend, alarm, now)
                    for account, region, backend, alarm in work
                    if alarm.rule is not None
                )
                changed += moved
                if not moved:
                    break
            if changed:
                self.router.mark_dirty({"cloudwatch"})
        return changed

    def _evaluate(self, account, region, backend, alarm, now: float) -> bool:
        try:
            spec = specs.spec_for(alarm)
            if alarm.rule is not None:
                result = _composite(backend, alarm, spec, now)
            else:
                result = alarms.judge(spec, _values(backend, spec, now), now, alarm.state_value)
        except alarms.AlarmError as exc:  # refused at put; only alarms from older state get here
            alarm.state_reason = f"Not evaluated by the crosstrain sandbox: {exc}"
            return False
        fresh = alarm.state_reason == "Unchecked: Initial alarm creation"
        if fresh:
            alarm.state_value = alarms.INSUFFICIENT  # where AWS starts a new alarm
        old = alarm.state_value
        if result.state == old:
            if fresh:
                alarm.state_reason = result.reason
                alarm.state_reason_data = json.dumps(result.reason_data)
            return False
        alarm.update_state(result.reason, json.dumps(result.reason_data), result.state)
        alarm.state_updated_timestamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
        kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
        history = alarm.__dict__.setdefault("crosstrain_history", [])
        history.append(alarms.history_item(alarm.name, old, result.state, result, now, kind))
        del history[:-HISTORY_KEPT]
        self.transitions += 1
        if alarm.actions_enabled:
            if alarm.rule is not None:
                children = [
                    {"Arn": t["arn"], "State": {"Value": t["state"]["value"]}}
                    for t in result.reason_data["triggeringAlarms"]
                ]
                extra = {"AlarmRule": alarm.rule, "TriggeringChildren": children}
            else:
                extra = {"Trigger": alarms.trigger(spec)}
            self._act(account, region, alarm, old, result, now, extra)
        return True

    def _act(self, account, region, alarm, old, result, now, extra: dict) -> None:
        actions = {
            alarms.ALARM: alarm.alarm_actions,
            alarms.OK: alarm.ok_actions,
            alarms.INSUFFICIENT: alarm.insufficient_data_actions,
        }[result.state] or []
        if not actions or self.events is None:
            return
        message = alarms.notification(
            alarm.name,
            arn=alarm.alarm_arn,
            account=account,
            region=region,
            old=old,
            evaluation=result,
            now=now,
            description=alarm.description or "",
            **extra,
        )
        message["AlarmActions"] = list(alarm.alarm_actions or [])
        message["OKActions"] = list(alarm.ok_actions or [])
        message["InsufficientDataActions"] = list(alarm.insufficient_data_actions or [])
        where = _REGION_NAMES.get(region, region)
        subject = f'{result.state}: "{alarm.name}" in {where}'[:100]
        history = alarm.__dict__.setdefault("crosstrain_history", [])
        for action in actions:
            if action.split(":")[2:3] != ["sns"]:
                continue  # Auto Scaling / EC2 / SSM actions have nothing to act on here
            self.events.submit(
                action,
                json.dumps(message).encode(),
                source=alarm.alarm_arn,
                meta={"subject": subject},
            )
            history.append(_action_item(alarm, action, now))


def _action_item(alarm, action: str, now: float) -> dict:
    return {
        "AlarmName": alarm.name,
        "AlarmType": "CompositeAlarm" if alarm.rule is not None else "MetricAlarm",
        "Timestamp": datetime.fromtimestamp(now, UTC),
        "HistoryItemType": "Action",
        "HistorySummary": f"Successfully executed action {action}",
        "HistoryData": json.dumps({"actionState": "Succeeded", "notificationResource": action}),
    }


def _values(backend, spec: alarms.AlarmSpec, now: float) -> list[float | None]:
    """One value per evaluation period: the metric's, or the metric-math result's."""
    if not spec.queries:
        key = (spec.namespace, spec.metric_name, spec.dimensions)
        return alarms.bucket(spec, _samples(backend, key, spec, now), now)
    series = {
        q.id: alarms.bucket(spec, _samples(backend, q.metric[:3], spec, now), now, q.metric[3])
        for q in spec.queries
        if q.metric is not None
    }
    periods = spec.evaluation_periods
    return metric_math.Evaluator(list(spec.queries), series, periods).result(spec.return_id)


def _composite(backend, alarm, rule, now: float) -> alarms.Evaluation:
    """ALARM when the rule holds over the named alarms' states, else OK (as AWS decides)."""
    children = {ref: hooks.alarm_named(backend, ref) for ref in composite.references(rule)}
    holds = composite.holds(rule, lambda ref: getattr(children[ref], "state_value", None))
    state = alarms.ALARM if holds else alarms.OK
    present = [child for child in children.values() if child is not None]
    latest = max(present, key=lambda child: child.state_updated_timestamp, default=None)
    when = datetime.fromtimestamp(now, UTC).strftime("%A %d %B, %Y %H:%M:%S UTC")
    reason = (
        f"{latest.alarm_arn} transitioned to {latest.state_value} at {when}"
        if latest is not None
        else f"{alarm.rule} evaluated to {state == alarms.ALARM}"
    )
    triggering = [
        {"arn": child.alarm_arn, "state": {"value": child.state_value, "timestamp": _iso(child)}}
        for child in present
    ]
    return alarms.Evaluation(state, reason, {"triggeringAlarms": triggering})


def _iso(alarm) -> str:
    stamp = alarm.state_updated_timestamp
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
    return stamp.isoformat()


def _samples(backend, key: tuple, spec: alarms.AlarmSpec, now: float) -> list[tuple[float, float]]:
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    namespace, name, dimensions = key
    start = alarms.periods(spec, now)[0][0]
    wanted = set(dimensions)
    found: list[tuple[float, float]] = []
    for datum in backend.get_all_metrics():
        if datum.namespace != namespace or datum.name != name:
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
