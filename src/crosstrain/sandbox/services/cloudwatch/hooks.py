"""What the sandbox teaches moto's CloudWatch (patched once per process, every protocol).

- ``PutMetricAlarm`` refuses, with a ``ValidationError`` naming the reason, an alarm the sandbox's
  evaluator would not evaluate (so nothing sits silently in ``INSUFFICIENT_DATA``); a new alarm
  starts in ``INSUFFICIENT_DATA`` as on AWS, and an updated one keeps its state and history.
- ``PutCompositeAlarm`` (moto lacks it) stores a composite alarm after reading its rule and
  checking that the alarms it names exist, as AWS does.
- ``DescribeAlarms`` returns composite alarms only when ``AlarmTypes`` asks for them.
- ``DescribeAlarmHistory`` (moto lacks it) returns the sandbox's transitions and actions.
- Datapoints without a timestamp are stamped on the sandbox clock (as alarms read it).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

from crosstrain.sandbox.services.cloudwatch import alarms, composite, specs

_CLOCK: dict = {}
_patched = False
_KEPT = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp")


def install(clock) -> None:
    """Patch moto's CloudWatch (once) and read time from ``clock``."""
    global _patched
    _CLOCK["clock"] = clock
    if _patched:
        return
    _patched = True
    from moto.cloudwatch import models
    from moto.cloudwatch.responses import CloudWatchResponse

    models.utcnow = lambda: datetime.fromtimestamp(_CLOCK["clock"].time(), UTC).replace(tzinfo=None)
    _validate_puts(models.CloudWatchBackend)
    CloudWatchResponse.put_composite_alarm = _put_composite_alarm
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history
    original = CloudWatchResponse.describe_alarms

    def describe_alarms(self):
        answer = original(self)
        kinds = self._get_param("AlarmTypes") or ["MetricAlarm"]
        if "CompositeAlarm" not in kinds:
            answer.result["CompositeAlarms"] = []
        if "MetricAlarm" not in kinds:
            answer.result["MetricAlarms"] = []
        return answer

    CloudWatchResponse.describe_alarms = describe_alarms


def _validate_puts(backend_cls) -> None:
    from moto.cloudwatch.exceptions import ValidationError

    original = backend_cls.put_metric_alarm
    signature = inspect.signature(original)

    def put_metric_alarm(self, *args, **kwargs):
        name = signature.bind(self, *args, **kwargs).arguments["name"]
        previous = self.alarms.get(name)
        alarm = original(self, *args, **kwargs)
        try:
            specs.spec_for(alarm)
        except alarms.AlarmError as exc:
            if previous is not None:
                self.alarms[name] = previous
            else:
                self.alarms.pop(name, None)
            raise ValidationError(f"Not evaluated by the crosstrain sandbox: {exc}") from None
        if previous is not None:  # an update keeps the state (AWS re-evaluates it)
            for key in _KEPT:
                setattr(alarm, key, getattr(previous, key))
            history = previous.__dict__.get("crosstrain_history")
            if history is not None:
                alarm.__dict__["crosstrain_history"] = history
        else:
            alarm.state_value = alarms.INSUFFICIENT  # where AWS starts a new alarm
        return alarm

    backend_cls.put_metric_alarm = put_metric_alarm


def _put_composite_alarm(self):
    from moto.cloudwatch.exceptions import ValidationError
    from moto.core.responses import EmptyResult

    name = self._get_param("AlarmName")
    rule = self._get_param("AlarmRule")
    if self._get_param("ActionsSuppressor"):
        raise ValidationError(
            "Not evaluated by the crosstrain sandbox: ActionsSuppressor (remove it, or put the "
            "suppressing condition in the AlarmRule with AND NOT ALARM(...))"
        )
    try:
        parsed = composite.parse(rule)
    except composite.RuleError as exc:
        raise ValidationError(str(exc)) from None
    backend = self.cloudwatch_backend
    missing = [
        ref
        for ref in composite.references(parsed)
        if alarm_named(backend, ref) is None or ref in (name, _arn(backend, name))
    ]
    if missing:
        raise ValidationError(
            f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm "
            "rule do not exist (or are the alarm itself)"
        )
    alarm = backend.put_metric_alarm(
        name=name,
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_bool_param("ActionsEnabled"),
        rule=rule,
        tags=self._get_param("Tags", []),
    )
    alarm.alarm_rule = rule  # the attribute moto's serializer reads for AlarmRule
    return EmptyResult()


def _arn(backend, name: str) -> str:
    return f"arn:aws:cloudwatch:{backend.region_name}:{backend.account_id}:alarm:{name}"


def alarm_named(backend, ref: str):
    """The alarm a rule names (by name, or by ARN in this account and region)."""
    if ref.startswith("arn:"):
        prefix = _arn(backend, "")
        return backend.alarms.get(ref[len(prefix) :]) if ref.startswith(prefix) else None
    return backend.alarms.get(ref)


def _describe_alarm_history(self):
    from moto.core.responses import ActionResult

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
