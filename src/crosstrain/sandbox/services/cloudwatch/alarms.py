"""CloudWatch metric alarm evaluation: datapoints in, state transitions with history out.

:func:`evaluate` looks at the last ``EvaluationPeriods`` whole periods before ``now`` (periods
aligned to multiples of ``Period`` since the epoch, as CloudWatch aligns them), reduces each
period's samples with the alarm's statistic (``Average``, ``Sum``, ``Minimum``, ``Maximum``,
``SampleCount`` or a percentile ``pNN``), compares with the threshold and applies
``DatapointsToAlarm`` ("M out of N") and ``TreatMissingData``:

- ``breaching`` / ``notBreaching``: a missing period counts as one;
- ``missing`` (the default): only present periods count; none present → ``INSUFFICIENT_DATA``;
- ``ignore``: only present periods count; none present → the state stays as it is.

The answer carries AWS's reason text and reason data, and :func:`history_item` shapes the
``DescribeAlarmHistory`` record of a transition.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
_COMPARE = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


class AlarmError(ValueError):
    """An alarm this evaluator cannot evaluate (named in the message)."""


@dataclass(frozen=True)
class AlarmSpec:
    """What evaluation needs from ``PutMetricAlarm``."""

    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Average|Sum|Minimum|Maximum|SampleCount|pNN(.N)
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "missing"
    queries: tuple = ()  # metric math: metric_math.Query per entry of Metrics
    return_id: str | None = None  # the query whose time series the alarm judges

    def __post_init__(self):
        if self.comparison not in _COMPARE:
            raise AlarmError(
                f"alarm {self.name}: ComparisonOperator {self.comparison} is not evaluated by "
                f"the sandbox (use one of {', '.join(_COMPARE)})"
            )
        if self.period <= 0 or self.evaluation_periods <= 0:
            raise AlarmError(f"alarm {self.name}: Period and EvaluationPeriods must be positive")
        if self.treat_missing_data not in TREATMENTS:
            raise AlarmError(f"alarm {self.name}: TreatMissingData must be one of {TREATMENTS}")
        if not self.queries:
            _reducer(self.statistic)  # raises on an unknown statistic

    @property
    def m(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods


@dataclass
class Evaluation:
    state: str
    reason: str
    reason_data: dict
    values: list[float | None] = field(default_factory=list)  # oldest period first

    def changed_from(self, previous: str) -> bool:
        return self.state != previous


def statistic(values: list[float], name: str) -> float:
    """Reduce one period's samples with CloudWatch statistic ``name``."""
    return _reducer(name)(values)


def _reducer(name: str):
    simple = {
        "Average": lambda v: sum(v) / len(v),
        "Sum": sum,
        "Minimum": min,
        "Maximum": max,
        "SampleCount": lambda v: float(len(v)),
    }
    if name in simple:
        return simple[name]
    if name.startswith("p"):
        try:
            q = float(name[1:])
        except ValueError:
            q = -1.0
        if 0 <= q <= 100:
            return lambda v: _percentile(sorted(v), q)
    raise AlarmError(f"statistic {name} is not supported (Average, Sum, Minimum, Maximum, ...)")


def _percentile(ordered: list[float], q: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    rank = q / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def periods(spec: AlarmSpec, now: float) -> list[tuple[float, float]]:
    """The evaluation range: ``EvaluationPeriods`` whole periods ending at or before ``now``."""
    end = math.floor(now / spec.period) * spec.period
    starts = [end - spec.period * i for i in range(spec.evaluation_periods, 0, -1)]
    return [(start, start + spec.period) for start in starts]


def bucket(
    spec: AlarmSpec, samples: Iterable[tuple[float, float]], now: float, stat: str = ""
) -> list[float | None]:
    """Each evaluation period's value: its samples reduced with ``stat`` (the alarm's
    statistic when not given); ``None`` for a period without samples."""
    ranges = periods(spec, now)
    buckets: list[list[float]] = [[] for _ in ranges]
    first = ranges[0][0]
    for stamp, value in samples:
        if first <= stamp < ranges[-1][1]:
            buckets[int((stamp - first) // spec.period)].append(float(value))
    reduce = _reducer(stat or spec.statistic)
    return [reduce(b) if b else None for b in buckets]


def evaluate(
    spec: AlarmSpec,
    samples: Iterable[tuple[float, float]],
    now: float,
    current: str = INSUFFICIENT,
) -> Evaluation:
    """The alarm's state at ``now`` given ``samples`` of ``(epoch seconds, value)``."""
    return judge(spec, bucket(spec, samples, now), now, current)


def judge(spec: AlarmSpec, values: list[float | None], now: float, current: str) -> Evaluation:
    """The alarm's state given one value per evaluation period (oldest first)."""
    ranges = periods(spec, now)
    compare, words = _COMPARE[spec.comparison]
    treat = spec.treat_missing_data
    breaching = not_breaching = 0
    for value in values:
        if value is None:
            if treat == "breaching":
                breaching += 1
            elif treat == "notBreaching":
                not_breaching += 1
        elif compare(value, spec.threshold):
            breaching += 1
        else:
            not_breaching += 1
    present = [(v, r) for v, r in zip(values, ranges, strict=True) if v is not None]
    data = _reason_data(spec, present, now)
    if breaching == 0 and not_breaching == 0:
        if treat == "ignore":
            return Evaluation(current, "", data, values)
        reason = (
            f"Insufficient Data: {len(values)} datapoint"
            f"{'s were' if len(values) != 1 else ' was'} unknown."
        )
        return Evaluation(INSUFFICIENT, reason, data, values)
    state = ALARM if breaching >= spec.m else OK
    counted = breaching + not_breaching
    shown = ", ".join(f"{v:g} ({_stamp(r[0])})" for v, r in present[-5:])
    if state == ALARM:
        verb, count = "were" if breaching != 1 else "was", breaching
    else:
        verb, count = "were not" if not_breaching != 1 else "was not", not_breaching
    reason = (
        f"Threshold Crossed: {count} out of the last {counted} datapoints [{shown}] {verb} "
        f"{words} the threshold ({spec.threshold:g}) (minimum {spec.m} datapoint"
        f"{'s' if spec.m != 1 else ''} for OK -> ALARM transition)."
    )
    return Evaluation(state, reason, data, values)


def _reason_data(spec: AlarmSpec, present: list, now: float) -> dict:
    return {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(present[0][1][0]) if present else _iso(now),
        "statistic": spec.statistic,
        "period": spec.period,
        "recentDatapoints": [v for v, _ in present],
        "threshold": spec.threshold,
        "evaluatedDatapoints": [
            {"timestamp": _iso(r[0]), "sampleCount": 1.0, "value": v} for v, r in present
        ],
    }


def history_item(
    name: str,
    old: str,
    new: str,
    evaluation: Evaluation,
    now: float,
    alarm_type: str = "MetricAlarm",
) -> dict:
    """The ``DescribeAlarmHistory`` record of a state change."""
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old},
        "newState": {
            "stateValue": new,
            "stateReason": evaluation.reason,
            "stateReasonData": evaluation.reason_data,
        },
    }
    return {
        "AlarmName": name,
        "AlarmType": alarm_type,
        "Timestamp": datetime.fromtimestamp(now, UTC),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {new}",
        "HistoryData": json.dumps(data),
    }


def notification(
    name: str,
    *,
    arn: str,
    account: str,
    region: str,
    old: str,
    evaluation: Evaluation,
    now: float,
    description: str = "",
    **extra,
) -> dict:
    """The JSON CloudWatch publishes to an SNS alarm action (``extra``: ``Trigger`` for a metric
    alarm, ``AlarmRule`` and ``TriggeringChildren`` for a composite one)."""
    return {
        "AlarmName": name,
        "AlarmDescription": description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _iso(now),
        "NewStateValue": evaluation.state,
        "NewStateReason": evaluation.reason,
        "StateChangeTime": _iso(now),
        "Region": region,
        "AlarmArn": arn,
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": [],
        "InsufficientDataActions": [],
        **extra,
    }


def trigger(spec: AlarmSpec) -> dict:
    """The ``Trigger`` of a metric alarm's notification."""
    common = {
        "Period": spec.period,
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.m,
        "ComparisonOperator": spec.comparison,
        "Threshold": spec.threshold,
        "TreatMissingData": spec.treat_missing_data,
        "EvaluateLowSampleCountPercentile": "",
    }
    if spec.queries:
        return {"Metrics": [_query_json(q, q.id == spec.return_id) for q in spec.queries], **common}
    return {
        "MetricName": spec.metric_name,
        "Namespace": spec.namespace,
        "StatisticType": "Statistic" if not spec.statistic.startswith("p") else "Extended",
        "Statistic": spec.statistic.upper(),
        "Unit": None,
        "Dimensions": [{"value": v, "name": k} for k, v in spec.dimensions],
        **common,
    }


def _query_json(query, returned: bool) -> dict:
    found = {"Id": query.id, "ReturnData": returned}
    if query.label:
        found["Label"] = query.label
    if query.expression is not None:
        found["Expression"] = query.expression
    else:
        namespace, name, dimensions, stat = query.metric
        found["MetricStat"] = {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"value": v, "name": k} for k, v in dimensions],
            },
            "Stat": stat,
        }
    return found


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")
