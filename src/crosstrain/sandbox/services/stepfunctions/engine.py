"""Step Functions really execute: moto's ASL interpreter, wired to the sandbox.

moto 5 vendors LocalStack's Amazon States Language interpreter (``moto.stepfunctions.parser``:
every state type, Retry/Catch, input/output processing, intrinsic functions, JSONata, history
events as ``GetExecutionHistory`` returns them, AWS's error/cause). It is maintained upstream
and already a dependency, so the sandbox uses it rather than a second interpreter. It is off by
default and, left alone, would call services through moto (Lambda tasks then need Docker), sleep
in wall time, and refuse SageMaker. :func:`install` adapts it, once per process:

- every service call an execution makes (Lambda ``Invoke``, DynamoDB, SQS, SNS, ``aws-sdk:*``,
  SageMaker) goes to the sandbox's own endpoint, so Lambda tasks run in crosstrain's Lambda
  runtime and land in the call log like any other call;
- ``Wait`` states (``Seconds``, ``Timestamp`` and their paths) and ``Retry`` intervals wait on the
  sandbox :class:`~crosstrain.sandbox.services.events.schedule.Clock`, so advancing it finishes
  them at once;
- JSONPaths are parsed once per text, not once per use;
- ``arn:aws:states:::sagemaker:*`` is served by
  :mod:`crosstrain.sandbox.services.stepfunctions.sagemaker_task` (``createTrainingJob.sync``,
  ``createEndpoint``, ...).
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from crosstrain.sandbox.services.events.schedule import Clock

_PARSER = "moto.stepfunctions.parser"
_lock = threading.Lock()


@dataclass
class Wiring:
    """Where executions send their calls, and the clock they wait on."""

    clock: Clock
    client_factory: Callable[..., object] | None = None  # (service, region) -> boto3 client


_wiring: Wiring | None = None


def wiring() -> Wiring | None:
    return _wiring


def install(clock: Clock, client_factory: Callable[..., object] | None = None) -> Wiring:
    """Adapt moto's interpreter to this process's sandbox (idempotent; the latest call wins)."""
    global _wiring
    with _lock:
        first = _wiring is None
        _wiring = Wiring(clock, client_factory)
        if first:
            _patch()
    return _wiring


def enable_execution() -> None:
    """Turn on moto's executing Step Functions backend (before any state machine exists)."""
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True


def _client_for(region: str, service: str, state_credentials=None):
    wired = _wiring
    if wired is None or wired.client_factory is None:
        return _original_client_for(region, service, state_credentials)
    return wired.client_factory(service, region)


def _original_client_for(region, service, state_credentials=None):
    from moto.stepfunctions.parser.asl.utils import boto_client

    return boto_client._crosstrain_original(region, service, state_credentials)


def _clock() -> Clock:
    return _wiring.clock if _wiring is not None else Clock()


def _wait_interval(self, env, wait_seconds) -> None:
    """``Wait``: until the sandbox clock reaches the target, or the execution stops."""
    clock = _clock()
    target = clock.time() + max(0, wait_seconds)
    while env.is_running() and clock.time() < target:
        clock.wait_change(min(target, clock.time() + 0.25), None, clock.generation)


def _timestamp_wait_seconds(self, env) -> int:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    self.string.eval(env=env)
    text = env.stack.pop()
    moment = self._from_timestamp_string(timestamp=text)
    if moment is None:
        raise FailureEventException(self._create_failure_event(env, text))
    now = _clock().now().replace(tzinfo=None)
    return int((moment - now).total_seconds())


class _ClockTime:
    """Stands in for the ``time`` module where the interpreter sleeps between retries."""

    def __getattr__(self, name):
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _clock().sleep(max(0.0, float(seconds)))


def _patch() -> None:
    import importlib

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_factory as factory,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        timestamp,
        wait_function,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client

    boto_client._crosstrain_original = boto_client.boto_client_for
    boto_client.boto_client_for = _client_for
    # Modules imported the function by name: rebind it in each one loaded now, and import the
    # ones that use it so none is loaded later with the original.
    for name in _USERS:
        importlib.import_module(f"{_PARSER}.{name}")
    for name, module in list(sys.modules.items()):
        if name.startswith(_PARSER) and getattr(module, "boto_client_for", None) is not None:
            module.boto_client_for = _client_for
    _cache_json_paths()
    wait_function.WaitFunction._wait_interval = _wait_interval
    timestamp.Timestamp._get_wait_seconds = _timestamp_wait_seconds
    retrier_decl.time = _ClockTime()
    original = factory.state_task_service_for

    def state_task_service_for(service_name: str):
        if service_name == "sagemaker":
            from crosstrain.sandbox.services.stepfunctions.sagemaker_task import (
                StateTaskServiceSageMaker,
            )

            return StateTaskServiceSageMaker()
        return original(service_name)

    factory.state_task_service_for = state_task_service_for
    for name, module in list(sys.modules.items()):
        if name.startswith(_PARSER) and getattr(module, "state_task_service_for", None) is original:
            module.state_task_service_for = state_task_service_for


def _cache_json_paths() -> None:
    """The interpreter parses a JSONPath (building a PLY parser each time) on every use: the
    bulk of a state's cost. Parsed paths are immutable, so parse each text once."""
    import functools

    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)
    result_path.parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)


_USERS = (
    "asl.component.state.exec.state_task.lambda_eval_utils",
    "asl.component.state.exec.state_task.service.state_task_service_factory",
    "asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "asl.component.state.exec.state_task.service.state_task_service_sqs",
    "asl.component.state.exec.state_task.service.state_task_service_sns",
    "asl.component.state.exec.state_task.service.state_task_service_events",
    "asl.component.state.exec.state_task.service.state_task_service_sfn",
    "asl.component.state.exec.state_task.service.state_task_service_glue",
    "asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "asl.component.state.exec.state_task.service.state_task_service_api_gateway",
    "asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


def utcnow() -> _dt.datetime:
    return _clock().now()
