"""From an alarm as moto stores it to what the evaluator needs, refusing what it cannot evaluate.

:func:`spec_for` answers an :class:`~.alarms.AlarmSpec` for a metric alarm (one metric, or metric
math over ``Metrics``) and a parsed rule for a composite alarm; it raises
:class:`~.alarms.AlarmError` for an alarm the sandbox would leave unevaluated (an anomaly
detection band, a function it does not know, ...), which the CloudWatch hooks turn into a
``ValidationError`` at ``PutMetricAlarm`` / ``PutCompositeAlarm``.
"""

from __future__ import annotations

from crosstrain.sandbox.services.cloudwatch import alarms, composite, metric_math
from crosstrain.sandbox.services.cloudwatch.alarms import AlarmError, AlarmSpec
from crosstrain.sandbox.services.cloudwatch.metric_math import Query


def spec_for(alarm) -> AlarmSpec | tuple:
    """The alarm's :class:`AlarmSpec`, or its parsed ``AlarmRule`` for a composite alarm."""
    if alarm.rule is not None:
        return composite.parse(alarm.rule)
    if getattr(alarm, "threshold_metric_id", None):
        raise AlarmError(
            f"alarm {alarm.name}: anomaly detection alarms (ThresholdMetricId) are not evaluated "
            "by the crosstrain sandbox; use a static Threshold"
        )
    if alarm.threshold is None:
        raise AlarmError(f"alarm {alarm.name}: Threshold is required")
    common = dict(
        name=alarm.name,
        evaluation_periods=_int(alarm.evaluation_periods, "EvaluationPeriods", alarm.name),
        threshold=float(alarm.threshold),
        comparison=alarm.comparison_operator,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        treat_missing_data=alarm.treat_missing_data or "missing",
    )
    if alarm.metric_data_queries:
        return _math_spec(alarm, common)
    if not alarm.metric_name:
        raise AlarmError(f"alarm {alarm.name}: give MetricName and Namespace, or Metrics")
    return AlarmSpec(
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        dimensions=tuple((d.name, d.value) for d in alarm.dimensions),
        statistic=alarm.extended_statistic or alarm.statistic or "Average",
        period=_int(alarm.period, "Period", alarm.name),
        **common,
    )


def _math_spec(alarm, common: dict) -> AlarmSpec:
    queries, periods, returned = [], set(), []
    for raw in alarm.metric_data_queries:
        stat = raw.metric_stat
        if raw.expression is None and stat is None:
            raise AlarmError(f"alarm {alarm.name}: query {raw.id} needs MetricStat or Expression")
        metric = None
        if stat is not None:
            dims = tuple((d.name, d.value) for d in stat.metric.dimensions)
            metric = (stat.metric.namespace, stat.metric.metric_name, dims, stat.stat)
            alarms.statistic([1.0], stat.stat or "")  # raises on an unknown statistic
            periods.add(_int(stat.period, "MetricStat.Period", alarm.name))
        queries.append(Query(raw.id, raw.label, raw.expression, metric))
        if str(raw.return_data).lower() != "false":  # ReturnData defaults to true
            returned.append(raw.id)
    if len(returned) != 1:
        raise AlarmError(
            f"alarm {alarm.name}: exactly one of Metrics must have ReturnData true (the value "
            f"the alarm judges); {len(returned)} do"
        )
    dry = {q.id: [None] for q in queries if q.metric is not None}
    metric_math.Evaluator(queries, dry, 1).result(returned[0])  # reads every expression
    if len(periods) != 1:
        raise AlarmError(f"alarm {alarm.name}: the MetricStat queries need one common Period")
    spec = AlarmSpec(
        namespace="",
        metric_name="",
        dimensions=(),
        statistic="",
        period=periods.pop(),
        queries=tuple(queries),
        return_id=returned[0],
        **common,
    )
    return spec


def _int(value, field: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AlarmError(f"alarm {name}: {field} must be a whole number") from None
