"""``InvokeEndpoint`` on a picked variant: the worker's answer, or a ``ModelError`` as AWS
words it, with the worker's output logged and ``AWS/SageMaker`` invocation metrics written."""

from __future__ import annotations

import time
import uuid

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import Router
from crosstrain.sandbox.core.telemetry import metric, put_metrics
from crosstrain.sandbox.core.workers import PoolClosed, WorkerDied, WorkerInitError, WorkerTimeout
from crosstrain.sandbox.services.sagemaker.common import ApiError
from crosstrain.sandbox.services.sagemaker.deployments import (
    Deployment,
    Endpoint,
    Variant,
    log_worker,
)

INVOKE_TIMEOUT = 60.0  # AWS gives a model 60 s to answer
MAX_PAYLOAD = 6 * 1024 * 1024


def enter_deployment(endpoint: Endpoint | None) -> Deployment | None:
    """The deployment serving ``endpoint`` now, counted in (it may switch meanwhile)."""
    while endpoint is not None:
        deployment = endpoint.deployment
        if deployment is None:
            return None
        if deployment.enter():
            return deployment
        if endpoint.deployment is deployment:  # retired and not replaced: deleted
            return None
    return None


def invoke(
    router: Router,
    endpoint: Endpoint,
    variant: Variant,
    request: Request,
    body: bytes,
    began: float,
) -> Response:
    """Run one request on ``variant``'s worker; log, count and shape the answer."""
    header = {
        "content_type": request.headers.get("Content-Type", ""),
        "accept": request.headers.get("Accept", ""),
    }
    status, message, info = 200, "", None
    try:
        result = variant.pool.call(header, body, timeout=INVOKE_TIMEOUT)
        info = result.info
        if not result.ok:
            status = 500
            message = f"{result.error.get('type')}: {result.error.get('message')}"
        elif "status" in result.header:
            status, message = int(result.header["status"]), result.header.get("message", "")
    except PoolClosed:
        raise ApiError(
            "ValidationError", f"Endpoint {endpoint.name} of account {endpoint.account} "
            "not found.",
        ) from None  # fmt: skip
    except WorkerTimeout as exc:
        info, status = exc.info, 0
        message = "Your invocation timed out while waiting for a response from container primary."
    except WorkerDied as exc:
        info, status = exc.info, 500
        message = f"The model server exited ({exc.exit_status}); it restarts on the next call."
    except WorkerInitError as exc:
        info, status = exc.info, 500
        message = f"The model failed to load: {exc}"
    model_ms = info.duration * 1000 if info else 0.0
    log_worker(router, endpoint, variant, info)
    total_ms = (time.perf_counter() - began) * 1000
    put_invocation_metrics(
        router, endpoint, variant, status, model_ms, max(0.0, total_ms - model_ms)
    )
    if status == 200:
        headers = {
            "x-Amzn-Invoked-Production-Variant": variant.name,
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        content_type = result.header.get("content_type") or "application/json"
        return Response(result.body, 200, headers=headers, content_type=content_type)
    return model_error(endpoint, status, message)


def model_error(endpoint: Endpoint, status: int, message: str) -> Response:
    """AWS's ``ModelError`` (424) for a model that failed (``status`` 0: it timed out)."""
    region, account = endpoint.region, endpoint.account
    console = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={endpoint.log_group}"
    )
    if status == 0:
        text = f"{message} See {console} in account {account} for more information."
    else:
        kind = "client" if 400 <= status < 500 else "server"
        text = (
            f'Received {kind} error ({status}) from primary with message "{message}". '
            f"See {console} in account {account} for more information."
        )
    extra = {"LogStreamArn": endpoint.stream_arn, "OriginalMessage": message}
    if status:
        extra["OriginalStatusCode"] = status
    return ApiError("ModelError", text, 424, **extra).response()


def put_invocation_metrics(
    router: Router,
    endpoint: Endpoint,
    variant: Variant,
    status: int,
    model_ms: float,
    over_ms: float,
) -> None:
    dims = {"EndpointName": endpoint.name, "VariantName": variant.name}
    data = [
        metric("Invocations", 1, "Count", dims),
        metric("Invocation4XXErrors", 1 if 400 <= status < 500 else 0, "Count", dims),
        metric("Invocation5XXErrors", 1 if status >= 500 or status == 0 else 0, "Count", dims),
        metric("ModelLatency", round(model_ms * 1000), "Microseconds", dims),
        metric("OverheadLatency", round(over_ms * 1000), "Microseconds", dims),
    ]
    put_metrics(router, endpoint.account, endpoint.region, "AWS/SageMaker", data)
