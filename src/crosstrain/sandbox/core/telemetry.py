"""CloudWatch Logs and metrics written by runtimes straight into moto's backends.

Runtimes record what the code they run printed and how it went, as AWS does, without an HTTP
round trip to themselves: each helper takes the moto lock, writes, and marks the service dirty so
the state store persists it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from crosstrain.sandbox.core.router import Router


def put_log_lines(
    router: Router,
    account: str,
    region: str,
    group: str,
    stream: str,
    lines: Iterable[str],
    timestamp_ms: int | None = None,
) -> None:
    """Append ``lines`` (blank ones dropped) to ``group``/``stream``, creating both if needed."""
    from moto.logs.models import logs_backends

    now = timestamp_ms or int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines if line.strip()]
    if not events:
        return
    with router.moto_lock:
        backend = logs_backends[account][region]
        if group not in backend.groups:
            backend.create_log_group(group, {})
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        backend.put_log_events(group, stream, events)
    router.mark_dirty({"logs"})


def put_metrics(router: Router, account: str, region: str, namespace: str, data: list) -> None:
    """``PutMetricData`` of ``data`` (``MetricName``, ``Value``, ``Unit``, ``Dimensions``)."""
    from moto.cloudwatch.models import cloudwatch_backends

    if not data:
        return
    with router.moto_lock:
        cloudwatch_backends[account][region].put_metric_data(namespace, data)
    router.mark_dirty({"cloudwatch"})


def metric(name: str, value: float, unit: str, dimensions: dict[str, str]) -> dict:
    """One ``PutMetricData`` datum."""
    dims = [{"Name": key, "Value": val} for key, val in dimensions.items()]
    return {"MetricName": name, "Value": value, "Unit": unit, "Dimensions": dims}
