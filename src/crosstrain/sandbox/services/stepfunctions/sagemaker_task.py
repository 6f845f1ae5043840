"""``arn:aws:states:::sagemaker:*`` tasks for moto's ASL interpreter.

Request-response for ``createModel``, ``createEndpointConfig``, ``createEndpoint``,
``updateEndpoint``, ``createTrainingJob``, ``createTransformJob`` and the like; ``.sync`` for
``createTrainingJob`` and ``createTransformJob`` (polls ``Describe*`` until the job ends, as Step
Functions does; a failed job fails the task with ``SageMaker.AmazonSageMakerException``-style
error and the job's description as cause). Calls go to the sandbox, so a training job really
runs in crosstrain's SageMaker runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

_SYNC: Final[dict[str, tuple[str, str, str, str]]] = {
    # action: (describe action, name parameter, status field, ...)
    "create_training_job": ("describe_training_job", "TrainingJobName", "TrainingJobStatus", ""),
    "create_transform_job": (
        "describe_transform_job",
        "TransformJobName",
        "TransformJobStatus",
        "",
    ),
}
_DONE = {"Completed", "Failed", "Stopped"}
_ACTIONS = {
    "create_model",
    "create_endpoint_config",
    "create_endpoint",
    "update_endpoint",
    "create_training_job",
    "create_transform_job",
    "create_processing_job",
    "create_hyper_parameter_tuning_job",
    "create_labeling_job",
    "stop_training_job",
}


class StateTaskServiceSageMaker(StateTaskServiceCallback):
    def __init__(self):
        # the interpreter needs a callback endpoint for every task that has a pattern
        patterns = {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken}
        super().__init__(supported_integration_patterns=patterns)

    def _get_supported_parameters(self) -> set[str] | None:
        # any parameter of the SageMaker API (botocore validates them)
        return set() if self._get_boto_service_action() in _ACTIONS else None

    def _validate_service_integration_is_supported(self):
        action = self._get_boto_service_action()
        if action not in _ACTIONS:
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} not recognized. "
                f"The value is not a valid resource ARN, or the resource is not available."
            )

    def _client(self, region: str):
        return boto_client.boto_client_for(region=region, service="sagemaker")

    def _from_error(self, env, ex: Exception) -> FailureEvent:
        if isinstance(ex, ClientError):
            error = f"SageMaker.{ex.response['Error']['Code']}"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error,
                        cause=ex.response["Error"].get("Message", ""),
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        action = self._get_boto_service_action()
        client = self._client(resource_runtime_part.region)
        response = getattr(client, action)(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        sync = _SYNC.get(action)
        if sync is not None and self.resource.condition == ResourceCondition.Sync:
            response["_crosstrain_name"] = normalised_parameters.get(sync[1])
        env.stack.append(response)

    def _build_sync_resolver(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ) -> Callable[[], Any] | None:
        action = self._get_boto_service_action()
        if action not in _SYNC:
            raise ValueError(f"{self.resource.resource_arn}: .sync is not supported for {action}")
        describe, name_key, status_key, _ = _SYNC[action]
        started: dict = env.stack.pop()
        name = started.pop("_crosstrain_name", None) or normalised_parameters.get(name_key)
        client = self._client(resource_runtime_part.region)

        def resolve() -> Any | None:
            job = getattr(client, describe)(**{name_key: name})
            job.pop("ResponseMetadata", None)
            status = job.get(status_key)
            if status not in _DONE:
                return None
            if status == "Completed":
                return job
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=StatesErrorNameType.StatesTaskFailed.to_name(),
                            cause=to_json_str(job),
                        )
                    ),
                )
            )

        return resolve
