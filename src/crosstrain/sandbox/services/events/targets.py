"""Where deliveries go: Lambda (async invoke), SQS, SNS, HTTP on loopback, Step Functions, buses.

Each target carries out one :class:`~.delivery.Delivery` and says how it went. Lambda's
``finished`` hook sends what AWS sends after the last attempt: an on-success/on-failure
destination record (``requestContext``/``requestPayload``/``responseContext``/
``responsePayload``) and, on failure, the original event to the function's dead-letter queue
with ``RequestID``/``ErrorCode``/``ErrorMessage`` attributes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from crosstrain.sandbox.services.events.delivery import NO_RETRY, Delivery, Result

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[2], parts[3], parts[4], parts[5]


def kind_of(arn: str) -> str:
    """The delivery kind for a target ARN (or URL)."""
    if arn.startswith(("http://", "https://")):
        return "http"
    service, _, _, resource = arn_parts(arn)
    if service == "events" and resource.startswith("event-bus/"):
        return "bus"
    return {"lambda": "lambda", "sqs": "sqs", "sns": "sns", "states": "states"}.get(
        service, service
    )


class Targets:
    """The targets of one events runtime, registered on its engine by kind."""

    def __init__(self, runtime: EventsRuntime):
        self.rt = runtime
        engine = runtime.engine
        engine.register("lambda", LambdaTarget(runtime))
        engine.register("sqs", SqsTarget(runtime))
        engine.register("sns", SnsTarget(runtime))
        engine.register("http", HttpTarget(runtime))
        engine.register("states", StatesTarget(runtime))
        engine.register("bus", BusTarget(runtime))


class _Target:
    def __init__(self, runtime: EventsRuntime):
        self.rt = runtime

    def finished(self, delivery: Delivery, result: Result, outcome: str) -> None:
        dlq = delivery.meta.get("dlq")
        if dlq and outcome != "delivered":
            self.rt.send_raw(dlq, delivery.payload, source=delivery.target, parent=delivery)


class LambdaTarget(_Target):
    """An asynchronous invocation through crosstrain's Lambda runtime."""

    def deliver(self, delivery: Delivery) -> Result:
        from crosstrain.sandbox.services.awslambda.functions import LambdaApiError
        from crosstrain.sandbox.services.events.validation import lambda_denies

        lam = self.rt.lambda_runtime()
        _, region, account, resource = arn_parts(delivery.target)
        principal = delivery.meta.get("principal")
        if principal:
            with self.rt.router.moto_lock:
                denied = lambda_denies(delivery.target, principal)
            if denied:
                return Result.failure(f"AccessDeniedException: {denied}", retry=False)
        pieces = resource.split(":")  # function:name[:qualifier]
        qualifier = pieces[2] if len(pieces) > 2 else None
        try:
            function = lam.lookup(account, region, pieces[1], qualifier)
        except LambdaApiError as exc:
            body = exc.response.get_data(as_text=True)
            return Result.failure(f"{exc.response.status}: {body}", retry=False)
        outcome = lam.invoke(
            function,
            delivery.payload,
            request_id=delivery.meta.get("request_id"),
            trace_id=self.rt.engine.trace_header(delivery),
        )
        response = {
            "payload": outcome.payload.decode("utf-8", "replace"),
            "version": function.version,
        }
        if outcome.throttled:
            return Result.failure("TooManyRequestsException: Rate Exceeded.", response=response)
        if outcome.function_error:
            return Result.failure(_error_summary(outcome.payload), response=response)
        return Result.success(response)

    def finished(self, delivery: Delivery, result: Result, outcome: str) -> None:
        meta = delivery.meta
        if outcome == "delivered":
            destination = meta.get("on_success")
        else:
            destination = meta.get("on_failure")
            if meta.get("dlq"):
                attributes = {
                    "RequestID": meta.get("request_id", ""),
                    "ErrorCode": "200",
                    "ErrorMessage": result.error[:256],
                }
                self.rt.send_raw(
                    meta["dlq"],
                    delivery.payload,
                    source=delivery.target,
                    parent=delivery,
                    attributes=attributes,
                )
        if destination:
            record = _destination_record(delivery, result, outcome)
            self.rt.send_raw(
                destination, json.dumps(record).encode(), source=delivery.target, parent=delivery
            )


def error_summary(outcome) -> str | None:
    """``errorType: errorMessage`` of a failed synchronous invocation (None when it succeeded);
    the event source pollers log it."""
    if outcome.throttled:
        return "TooManyRequestsException"
    return _error_summary(outcome.payload) if outcome.function_error else None


def _error_summary(payload: bytes) -> str:
    try:
        error = json.loads(payload)
        return f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return payload.decode("utf-8", "replace")[:200]


def _destination_record(delivery: Delivery, result: Result, outcome: str) -> dict:
    condition = {"delivered": "Success", "expired": "EventAgeExceeded"}.get(
        outcome, "RetriesExhausted"
    )
    response = result.response or {}
    try:
        request_payload = json.loads(delivery.payload or b"null")
    except ValueError:
        request_payload = delivery.payload.decode("utf-8", "replace")
    try:
        response_payload = json.loads(response.get("payload") or "null")
    except ValueError:
        response_payload = response.get("payload")
    context = {"statusCode": 200, "executedVersion": response.get("version", "$LATEST")}
    if outcome != "delivered" and response:
        context["functionError"] = "Unhandled"
    version = response.get("version", "$LATEST")
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "requestContext": {
            "requestId": delivery.meta.get("request_id", ""),
            "functionArn": f"{delivery.target}:{version}",
            "condition": condition,
            "approximateInvokeCount": delivery.attempts,
        },
        "requestPayload": request_payload,
        "responseContext": context,
        "responsePayload": response_payload,
    }


class SqsTarget(_Target):
    def deliver(self, delivery: Delivery) -> Result:
        from moto.sqs.exceptions import QueueDoesNotExist
        from moto.sqs.models import sqs_backends

        _, region, account, name = arn_parts(delivery.target)
        attributes = {
            key: {"DataType": "String", "StringValue": str(value)}
            for key, value in (delivery.meta.get("attributes") or {}).items()
        }
        attributes.update(delivery.meta.get("sqs_attributes") or {})
        try:
            with self.rt.router.moto_lock:
                message = sqs_backends[account][region].send_message(
                    name,
                    delivery.payload.decode("utf-8", "replace"),
                    message_attributes=attributes or None,
                    group_id=delivery.meta.get("group_id"),
                    deduplication_id=delivery.meta.get("dedup_id")
                    or (uuid.uuid4().hex if delivery.meta.get("group_id") else None),
                    validate_group_id=False,
                )
        except QueueDoesNotExist:
            return Result.failure(f"AWS.SimpleQueueService.NonExistentQueue: {name}", retry=False)
        except Exception as exc:  # noqa: BLE001 - moto's validation errors
            return Result.failure(f"{type(exc).__name__}: {exc}", retry=False)
        self.rt.router.mark_dirty({"sqs"})
        self.rt.sqs_sent(account, region, name)
        return Result.success({"MessageId": message.id})


class SnsTarget(_Target):
    def deliver(self, delivery: Delivery) -> Result:
        from moto.sns.models import sns_backends

        _, region, account, _ = arn_parts(delivery.target)
        try:
            with self.rt.router.moto_lock:
                message_id = sns_backends[account][region].publish(
                    delivery.payload.decode("utf-8", "replace"),
                    arn=delivery.target,
                    subject=delivery.meta.get("subject"),
                    message_attributes=delivery.meta.get("sns_attributes"),
                )
        except Exception as exc:  # noqa: BLE001 - NotFound and validation errors
            return Result.failure(f"{type(exc).__name__}: {exc}", retry=False)
        self.rt.router.mark_dirty({"sns"})
        return Result.success({"MessageId": message_id})


class HttpTarget(_Target):
    """POST to an HTTP(S) subscriber; the sandbox sends nowhere but this machine's loopback."""

    def deliver(self, delivery: Delivery) -> Result:
        host = urlparse(delivery.target).hostname or ""
        if host not in LOOPBACK:
            message = f"the sandbox delivers HTTP only to 127.0.0.1/localhost, not {host}"
            return Result.failure(message, retry=False)
        headers = {"Content-Type": "text/plain; charset=UTF-8", **delivery.meta.get("headers", {})}
        request = urllib.request.Request(
            delivery.target, data=delivery.payload, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return Result.success({"status": response.status})
        except urllib.error.HTTPError as exc:
            return Result.failure(f"HTTP {exc.code}", retry=exc.code >= 500 or exc.code == 429)
        except (urllib.error.URLError, OSError) as exc:
            return Result.failure(f"connection failed: {exc}")


class StatesTarget(_Target):
    def deliver(self, delivery: Delivery) -> Result:
        from botocore.exceptions import ClientError

        _, region, _, _ = arn_parts(delivery.target)
        from crosstrain.sandbox.core.clients import make_client

        client = make_client("stepfunctions", self.rt.router.endpoint_url, region=region)
        try:
            answer = client.start_execution(
                stateMachineArn=delivery.target,
                input=delivery.payload.decode("utf-8", "replace") or "{}",
            )
        except ClientError as exc:
            error = exc.response["Error"]
            return Result.failure(f"{error.get('Code')}: {error.get('Message')}", retry=False)
        return Result.success({"executionArn": answer["executionArn"]})


class BusTarget(_Target):
    """An event put on another bus (an EventBridge rule target or an S3 bucket's events)."""

    def deliver(self, delivery: Delivery) -> Result:
        from crosstrain.sandbox.services.events import sources

        _, region, account, resource = arn_parts(delivery.target)
        bus = resource.split("/", 1)[1]
        event = json.loads(delivery.payload)
        matched = sources.route_event(self.rt, account, region, bus, event, parent=delivery)
        return Result.success({"matchedRules": matched})


def to_target(runtime: EventsRuntime, arn: str) -> tuple[str, dict]:
    """Kind and default meta for a delivery to ``arn`` (a Lambda's async config included)."""
    kind = kind_of(arn)
    meta: dict = {}
    if kind == "lambda":
        meta.update(runtime.async_config(arn))
    return kind, meta


__all__ = ["NO_RETRY", "Targets", "arn_parts", "kind_of", "to_target"]
