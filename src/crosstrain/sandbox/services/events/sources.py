"""Where events come from: moto's own hand-over points, redirected into the delivery engine.

moto already decides *that* something should be delivered — an S3 object matched a
notification's filter (and built AWS's record), an SNS subscription's filter policy matched, an
EventBridge rule exists on the bus — but then invokes Lambda through Docker (dropped here),
writes to SQS in the caller's request, or ignores the target. :func:`install` replaces those
hand-over points, once per process, with calls into the active
:class:`~crosstrain.sandbox.services.events.runtime.EventsRuntime`, which queues a delivery.
:mod:`.moto_sqs` puts moto's SQS on the sandbox clock and stops its own event-source polling.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from crosstrain.sandbox.services.events import moto_sqs, patterns

if TYPE_CHECKING:
    from crosstrain.sandbox.services.events.delivery import Delivery
    from crosstrain.sandbox.services.events.runtime import EventsRuntime

log = logging.getLogger("crosstrain.sandbox.events")

_installed = False
_lock = threading.Lock()
ACTIVE: dict[str, EventsRuntime] = {}  # "runtime" -> the process's events runtime


def active() -> EventsRuntime | None:
    return ACTIVE.get("runtime")


def install(runtime: EventsRuntime) -> None:
    global _installed
    ACTIVE["runtime"] = runtime
    with _lock:
        if _installed:
            return
        _installed = True
        _patch_s3()
        _patch_sns()
        _patch_events()
    moto_sqs.install(runtime.clock)


# -- S3 --------------------------------------------------------------------------------------
def _patch_s3() -> None:
    """Send moto's S3 notifications through the delivery engine, in S3's record shape."""
    from moto.s3 import notifications as n

    original_event = n._get_s3_event

    def get_s3_event(event_name, bucket, key, notification_id):
        return _s3_event(original_event(event_name, bucket, key, notification_id), key)

    n._get_s3_event = get_s3_event
    n._invoke_awslambda = _s3_to_lambda
    n._send_sqs_message = _s3_to_sqs
    n._send_sns_message = _s3_to_sns
    n._send_event_bridge_message = _s3_to_eventbridge


def _s3_event(body: dict, key) -> dict:
    """moto's notification records, completed with the fields S3 sends."""
    rt = active()
    now = rt.clock.time() if rt else None
    for record in body["Records"]:
        record["eventTime"] = _iso(now, millis=True)
        record["userIdentity"] = {"principalId": "AWS:AIDACROSSTRAINSANDBOX"}
        record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
        record["responseElements"] = {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": uuid.uuid4().hex,
        }
        obj = record["s3"]["object"]
        obj["key"] = quote_plus(key.name, safe="/")  # S3 leaves the slashes as they are
        obj["sequencer"] = f"{int((now or 0) * 1e6):016X}"
        if getattr(key, "version_id", None) and key.version_id != "null":
            obj["versionId"] = key.version_id
        record["s3"]["bucket"]["ownerIdentity"] = {"principalId": "A3CROSSTRAINSANDBOX"}
    return body


def _s3_to_lambda(account_id, event_body, fn_arn, region_name) -> None:
    rt = active()
    if rt is not None:
        rt.submit_lambda(fn_arn, json.dumps(event_body).encode(), source=_bucket_arn(event_body))


def _s3_to_sqs(account_id, event_body, queue_name, region_name) -> None:
    rt = active()
    if rt is not None:
        arn = f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}"
        rt.submit(arn, json.dumps(event_body).encode(), source=_bucket_arn(event_body))


def _s3_to_sns(account_id, event_body, topic_arn, region_name) -> None:
    rt = active()
    if rt is not None:
        rt.submit(
            topic_arn,
            json.dumps(event_body).encode(),
            source=_bucket_arn(event_body),
            meta={"subject": "Amazon S3 Notification"},
        )


def _s3_to_eventbridge(account_id, bucket, event_name, key) -> None:
    rt = active()
    if rt is None:
        return
    event = _s3_bridge_event(rt.clock.time(), account_id, bucket, event_name, key)
    bus = f"arn:aws:events:{bucket.region_name}:{account_id}:event-bus/default"
    rt.submit(bus, json.dumps(event).encode(), source=bucket.arn)


def _s3_bridge_event(now: float, account_id: str, bucket, event_name: str, key) -> dict:
    """The ``Object Created`` / ``Object Deleted`` event S3 puts on the default bus."""
    from moto.s3 import notifications as n

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": n._detail_type(event_name),
        "source": "aws.s3",
        "account": account_id,
        "time": _iso(now),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": {
                "key": key.name,
                "size": key.size,
                "etag": key.etag.replace('"', ""),
                "sequencer": f"{int(now * 1e6):016X}",
                **({"version-id": key.version_id} if key.version_id else {}),
            },
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject" if "Created" in event_name else "DeleteObject",
        },
    }


def _bucket_arn(body: dict) -> str:
    try:
        return body["Records"][0]["s3"]["bucket"]["arn"]
    except (KeyError, IndexError, TypeError):
        return f"arn:aws:s3:::{body.get('Bucket', '')}"


# -- SNS -------------------------------------------------------------------------------------
def _patch_sns() -> None:
    """Deliver SNS messages to Lambda, SQS and HTTP(S) through the delivery engine."""
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(self, message, message_id, subject=None, message_attributes=None, **kw):
        rt = active()
        if rt is None or self.protocol not in ("lambda", "http", "https", "sqs"):
            return original(self, message, message_id, subject, message_attributes, **kw)
        if not _sns_passes_filter(rt, self, message, message_attributes):
            return None
        if kw.get("message_structure") == "json":
            message = self._parse_message_structure(message, self.protocol)
            kw = {**kw, "message_structure": None}
        if self.protocol == "sqs":
            send = partial(original, self, message, message_id, subject, message_attributes, **kw)
            _sns_to_sqs(rt, self, message, send)
        elif self.protocol == "lambda":
            record = _sns_record(self, message, message_id, subject, message_attributes)
            payload = json.dumps({"Records": [record]}).encode()
            rt.submit_lambda(
                self.endpoint, payload, source=self.topic.arn, principal="sns.amazonaws.com"
            )
        else:
            _sns_to_http(rt, self, message, message_id, subject, message_attributes)
        return None

    Subscription.publish = publish


def _sns_passes_filter(rt, sub, message: str, attributes) -> bool:
    """Whether the subscription's filter policy lets ``message`` through (logged when not)."""
    matcher = sub._filter_policy_matcher
    if matcher is None or matcher.matches(attributes, message):
        return True
    rt.engine.record(
        "sns", sub.topic.arn, sub.endpoint, len(message), _filtered(), detail={"filtered": True}
    )
    return False


def _sns_to_sqs(rt, sub, message: str, send) -> None:
    """moto writes the SQS message itself (raw or enveloped); the engine logs the delivery."""
    from crosstrain.sandbox.services.events.delivery import Result

    try:
        send()
        result = Result.success()
    except Exception as exc:  # noqa: BLE001 - AWS accepts the publish regardless
        result = Result.failure(f"{type(exc).__name__}: {exc}", retry=False)
    rt.engine.record("sns", sub.topic.arn, sub.endpoint, len(message), result)
    rt.sqs_sent_arn(sub.endpoint)


def _sns_to_http(rt, sub, message: str, message_id, subject, attributes) -> None:
    post = sub.get_post_data(message, message_id, subject, attributes)
    raw = sub.attributes.get("RawMessageDelivery") in (True, "true")
    body = message.encode() if raw else json.dumps(post).encode()
    headers = {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": sub.topic.arn,
        "x-amz-sns-subscription-arn": sub.arn,
    }
    rt.submit(sub.endpoint, body, source=sub.topic.arn, meta={"headers": headers})


def _filtered():
    from crosstrain.sandbox.services.events.delivery import Result

    return Result(True, "filtered out by the subscription's filter policy")


def _sns_record(sub, message, message_id, subject, attributes) -> dict:
    rt = active()
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": sub.arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": sub.topic.arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": _iso(rt.clock.time() if rt else None, millis=True),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
            "UnsubscribeUrl": f"https://sns.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub.arn}",
            "MessageAttributes": {
                k: {"Type": v.get("Type"), "Value": v.get("Value")}
                for k, v in (attributes or {}).items()
            },
        },
    }


# -- EventBridge -----------------------------------------------------------------------------
def _patch_events() -> None:
    from moto.events.models import Rule

    def send_to_targets(self, original_event, transform_input=True):
        rt = active()
        if rt is None:
            return
        event = dict(original_event)
        event.pop("ingestion-time", None)
        if not isinstance(event.get("time"), str) or not event["time"]:
            event["time"] = _iso(_epoch(event.get("time")) or rt.clock.time())
        if rule_matches(self, event):
            dispatch(rt, self, event)

    Rule.send_to_targets = send_to_targets


def rule_matches(rule, event: dict) -> bool:
    if getattr(rule, "state", "ENABLED") != "ENABLED":
        return False
    pattern = rule.event_pattern.get_pattern() if rule.event_pattern else None
    if not pattern:
        return False
    return patterns.matches(pattern, event)


def route_event(rt, account: str, region: str, bus: str, event: dict, parent=None) -> int:
    """Run ``event`` through the rules of ``bus``; returns how many matched."""
    from moto.events.models import events_backends

    with rt.router.moto_lock:
        backend = events_backends[account][region]
        found = backend.event_buses.get(bus)
        rules = list(found.rules.values()) if found else []
    matched = [rule for rule in rules if rule_matches(rule, event)]
    for rule in matched:
        dispatch(rt, rule, event, parent=parent)
    return len(matched)


def dispatch(rt, rule, event: dict, parent: Delivery | None = None) -> None:
    """Send ``event`` to every target of ``rule`` (input, input path or transformer applied)."""
    from crosstrain.sandbox.services.events.delivery import RetryPolicy

    rule_arn = rule.arn
    for target in list(rule.targets):
        arn = target["Arn"]
        try:
            payload = _target_input(target, event, rule)
        except ValueError as exc:
            rt.engine.record("events", rule_arn, arn, 0, _failed(str(exc)))
            continue
        policy = target.get("RetryPolicy") or {}
        retry = RetryPolicy(
            max_retries=int(policy.get("MaximumRetryAttempts", 185)),
            max_age=float(policy.get("MaximumEventAgeInSeconds", 86400)),
            delays=(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0),
        )
        meta: dict[str, Any] = {}
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dlq:
            meta["dlq"] = dlq
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            meta["group_id"] = group
        if arn.split(":")[2] == "lambda":
            rt.submit_lambda(
                arn, payload, source=rule_arn, principal="events.amazonaws.com", parent=parent
            )
        elif arn.split(":")[2] == "logs":
            group = arn.split(":log-group:", 1)[-1].removesuffix(":*")
            with rt.router.moto_lock:
                rule._send_to_cw_log_group(group, dict(event))
        else:
            rt.submit(arn, payload, source=rule_arn, policy=retry, meta=meta, parent=parent)


def _failed(message: str):
    from crosstrain.sandbox.services.events.delivery import Result

    return Result.failure(message, retry=False)


def _target_input(target: dict, event: dict, rule) -> bytes:
    if target.get("Input") is not None:
        return target["Input"].encode()
    if target.get("InputPath"):
        return json.dumps(patterns.json_path(event, target["InputPath"])).encode()
    transformer = target.get("InputTransformer")
    if transformer:
        text = patterns.transform(
            event,
            transformer.get("InputPathsMap"),
            transformer.get("InputTemplate", ""),
            rule_arn=rule.arn,
            rule_name=rule.name,
        )
        return text.encode()
    return json.dumps(event).encode()


def scheduled_event(rule, moment: datetime) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def _epoch(value) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return None


def _iso(epoch: float | None, *, millis: bool = False) -> str:
    import time

    moment = datetime.fromtimestamp(epoch if epoch is not None else time.time(), UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
