"""What AWS refuses at configuration time, refused the same way before moto stores it.

- ``PutRule``: an invalid ``EventPattern`` (``InvalidEventPatternException``) or
  ``ScheduleExpression`` (``ValidationException``);
- ``PutBucketNotificationConfiguration``: a malformed destination ARN, a function, queue or
  topic that does not exist, or a function whose resource policy does not let
  ``s3.amazonaws.com`` invoke it (``InvalidArgument: Unable to validate the following
  destination configurations``, as S3 answers).

:func:`lambda_denies` is also used at delivery time for SNS and EventBridge, which AWS checks
then.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import Handler, json_response
from crosstrain.sandbox.services.events import patterns
from crosstrain.sandbox.services.events.schedule import ScheduleError, parse

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def put_rule(request: Request) -> Handler | None:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return None
    if body.get("ScheduleExpression"):
        try:
            parse(body["ScheduleExpression"])
        except ScheduleError as exc:
            return _json_error("ValidationException", str(exc))
    if body.get("EventPattern"):
        try:
            patterns.loads(body["EventPattern"])
        except patterns.PatternError as exc:
            return _json_error("InvalidEventPatternException", f"Event pattern is not valid. {exc}")
    return None


def _json_error(code: str, message: str) -> Handler:
    def handler(request: Request) -> Response:
        return json_response(
            {"__type": code, "message": message}, 400, headers={"x-amzn-ErrorType": code}
        )

    return handler


def bucket_notification(runtime: EventsRuntime, request: Request) -> Handler | None:
    try:
        root = ET.fromstring(request.get_data() or b"<x/>")
    except ET.ParseError:
        return None  # moto answers MalformedXML
    problems: list[tuple[str, str]] = []
    for tag, kind in (
        ("CloudFunctionConfiguration", "lambda"),
        ("QueueConfiguration", "sqs"),
        ("TopicConfiguration", "sns"),
    ):
        for config in root.iter(f"{_NS}{tag}"):
            arn_element = None
            for name in ("CloudFunction", "Queue", "Topic"):
                arn_element = config.find(f"{_NS}{name}")
                if arn_element is not None:
                    break
            arn = (arn_element.text or "").strip() if arn_element is not None else ""
            problem = _check(runtime, kind, arn)
            if problem:
                problems.append((arn, problem))
    if not problems:
        return None

    def handler(request: Request) -> Response:
        parts = "".join(
            f"<ArgumentName{i}>{_esc(arn)}</ArgumentName{i}>"
            f"<ArgumentValue{i}>{_esc(why)}</ArgumentValue{i}>"
            for i, (arn, why) in enumerate(problems, 1)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
            "<Message>Unable to validate the following destination configurations</Message>"
            f"{parts}<RequestId>crosstrain</RequestId></Error>"
        )
        return Response(body, 400, mimetype="application/xml")

    return handler


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _check(runtime: EventsRuntime, kind: str, arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != kind:
        return f"{arn!r} is not a valid {kind} ARN"
    region, account = parts[3], parts[4]
    with runtime.router.moto_lock:
        if kind == "lambda":
            return lambda_denies(arn, "s3.amazonaws.com")
        if kind == "sqs":
            from moto.sqs.models import sqs_backends

            if parts[5] not in sqs_backends[account][region].queues:
                return "The destination queue does not exist"
        if kind == "sns":
            from moto.sns.models import sns_backends

            if arn not in sns_backends[account][region].topics:
                return "The destination topic does not exist"
    return None


def lambda_denies(function_arn: str, principal: str) -> str | None:
    """Why ``principal`` may not invoke the function (``None``: it may). Call under the moto
    lock."""
    from moto.awslambda.models import lambda_backends

    parts = function_arn.split(":")
    if len(parts) < 7:
        return f"{function_arn!r} is not a valid function ARN"
    region, account, name = parts[3], parts[4], parts[6]
    qualifier = parts[7] if len(parts) > 7 else None
    try:
        fn = lambda_backends[account][region].get_function(name, qualifier)
    except Exception:  # noqa: BLE001 - moto's not-found error
        return "The destination function does not exist"
    for statement in getattr(fn.policy, "statements", []) or []:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        who = statement.get("Principal")
        service = who.get("Service") if isinstance(who, dict) else who
        services = service if isinstance(service, list) else [service]
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if principal in services and any(
            a in ("lambda:InvokeFunction", "lambda:*") for a in actions
        ):
            return None
    return (
        f"Permissions on the destination function do not allow {principal} to invoke it "
        f"(add one with: aws lambda add-permission --function-name {name} "
        f"--principal {principal} --action lambda:InvokeFunction --statement-id ...)"
    )
