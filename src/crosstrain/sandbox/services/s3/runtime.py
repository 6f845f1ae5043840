"""S3 in the sandbox: bucket policies decide as on AWS, bad requests answer as on AWS.

moto applies a bucket policy only to object requests, ignores ``Principal`` and treats every
``Condition`` it cannot evaluate as true, so the usual "deny unless ``aws:SecureTransport``" blocks
every upload (CDK's bootstrap bucket has exactly that statement). In the sandbox:

- every S3 request to a bucket with a policy (bucket and object requests alike) is evaluated by
  :mod:`.policy` with the request's principal and condition context; an explicit ``Deny`` answers
  ``403 AccessDenied`` before moto sees the request;
- moto's own check (``FakeBucket.get_permission``, which also decides anonymous reads and the
  keys of a multi-object delete) is replaced by the same evaluation, so there is one mechanism;
- a condition key the sandbox does not know is treated as missing from the request (AWS's rule
  for a missing key) and said loudly: a warning in the sandbox log and a notice in
  ``/_crosstrain/health``, once per bucket and key;
- ``PutBucketNotificationConfiguration`` with a malformed destination ARN answers
  ``400 InvalidArgument`` as AWS does (moto answered 500, which boto3 retries).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.policy import Decision, Principal, evaluate
from crosstrain.sandbox.core.policy import Request as PolicyRequest
from crosstrain.sandbox.core.router import Runtime, signing_scope
from crosstrain.sandbox.services.s3 import context as s3context

log = logging.getLogger("crosstrain.sandbox.s3")


@dataclass
class _Current:
    principal: Principal
    context: dict = field(default_factory=dict)


_current: contextvars.ContextVar[_Current | None] = contextvars.ContextVar(
    "crosstrain_s3_request", default=None
)
# moto names a few object actions after the HTTP method; IAM knows them under these names.
_MOTO_ACTIONS = {"s3:HeadObject": "s3:GetObject", "s3:PostObject": "s3:PutObject"}


def principal_for(request: Request) -> Principal:
    """The principal that signed ``request`` (anonymous when unsigned)."""
    from crosstrain.sandbox.core.accounts import account_for

    access_key, _, _ = signing_scope(request)
    if not access_key:
        return Principal()
    account = account_for(request)
    try:
        from moto.iam.access_control import CreateAccessKeyFailure, create_access_key

        key = create_access_key(account, "aws", access_key, dict(request.headers))
        return Principal(arn=key.arn, account=account)
    except CreateAccessKeyFailure:
        return Principal(arn=f"arn:aws:iam::{account}:root", account=account)


def _get_permission(bucket, action: str, resource: str):
    """Replacement of moto's ``FakeBucket.get_permission``: the sandbox's evaluation."""
    from moto.iam.access_control import PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    current = _current.get() or _Current(Principal())
    action = _MOTO_ACTIONS.get(action, action)
    request = PolicyRequest(action, resource, current.principal, current.context)
    decision = evaluate(bucket.policy, request)
    return {
        Decision.ALLOW: PermissionResult.PERMITTED,
        Decision.DENY: PermissionResult.DENIED,
    }.get(decision, PermissionResult.NEUTRAL)


_install_lock = threading.Lock()
_installed = threading.Event()


def install() -> None:
    """Replace moto's bucket-policy check in this process (idempotent)."""
    with _install_lock:
        if not _installed.is_set():
            from moto.s3.models import FakeBucket

            FakeBucket.get_permission = _get_permission
            _installed.set()


def _error(status: int, code: str, message: str, method: str, **extra: str) -> Response:
    root = ET.Element("Error")
    for name, value in {"Code": code, "Message": message, **extra}.items():
        ET.SubElement(root, name).text = value
    ET.SubElement(root, "RequestId").text = uuid.uuid4().hex[:16].upper()
    body = b"" if method == "HEAD" else ET.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, status=status, mimetype="application/xml")


_DESTINATIONS = {
    "Queue": re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$"),
    "Topic": re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"),
    "CloudFunction": re.compile(
        r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$"
    ),
}


def malformed_destination(body: bytes) -> str | None:
    """The first destination ARN of a notification configuration that is not a well-formed ARN
    of the service it names (queue, topic, function); ``None`` when all are well formed."""
    try:
        root = ET.fromstring(body or b"<x/>")
    except ET.ParseError:
        return None
    for element in root.iter():
        pattern = _DESTINATIONS.get(element.tag.rsplit("}", 1)[-1])
        arn = (element.text or "").strip()
        if pattern is not None and not pattern.match(arn):
            return arn
    return None


class S3Runtime(Runtime):
    """Evaluates bucket policies before moto answers an S3 request."""

    name = "s3"

    def __init__(self, router):
        super().__init__(router)
        self._reported: set[tuple[str, str]] = set()

    def route(self, request: Request):
        _, region, service = signing_scope(request)
        signed = service is not None
        if signed and service != "s3":
            return None
        if request.path.startswith(("/_crosstrain/", "/_localstack/", "/moto-api/", "/_aws/")):
            return None
        bucket_name, key = s3context.bucket_and_key(request)
        if not bucket_name:
            return None
        install()
        bucket = self._bucket(bucket_name)
        if not signed and (bucket is None or bucket.policy is None):
            return None
        return lambda req: self._serve(req, bucket, bucket_name, key, region)

    def permission(self, request: Request):
        return None  # moto checks S3 calls itself under --enforce-iam

    def _bucket(self, name: str):
        from moto.s3.models import s3_backends

        where = s3_backends.bucket_accounts.get(name)
        if where is None:
            return None
        partition, account = where
        with self.router.moto_lock:
            return s3_backends[account][partition].buckets.get(name)

    def _serve(self, request: Request, bucket, bucket_name: str, key, region) -> Response:
        if "notification" in request.args and request.method == "PUT":
            bad = malformed_destination(request.get_data())
            if bad is not None:
                return _error(
                    400,
                    "InvalidArgument",
                    "Unable to validate the following destination configurations",
                    request.method,
                    ArgumentName1=bad or "(empty)",
                    ArgumentValue1="The ARN is not well formed",
                )
        on_object = key is not None
        action = s3context.action_of(request.method, request.args, on_object)
        call = s3context.S3Call(bucket_name, key, action)
        principal = principal_for(request)
        call.context = s3context.request_context(request, call, principal, region)
        if bucket is not None and bucket.policy is not None:
            policy_request = PolicyRequest(
                action, call.resource, principal, call.context, s3context.known_key
            )
            decision = evaluate(bucket.policy, policy_request, self._unknown(bucket_name))
            if decision is Decision.DENY:
                who = principal.arn or "anonymous"
                return _error(
                    403,
                    "AccessDenied",
                    f"User: {who} is not authorized to perform: {action} on resource: "
                    f'"{call.resource}" with an explicit deny in a resource-based policy',
                    request.method,
                )
        token = _current.set(_Current(principal, call.context))
        try:
            return self.router.forward(request)
        finally:
            _current.reset(token)

    def _unknown(self, bucket: str):
        def report(what: str) -> None:
            if (bucket, what) in self._reported:
                return
            self._reported.add((bucket, what))
            message = (
                f"bucket policy of {bucket}: the sandbox does not know {what}; it is treated "
                "as missing from every request (AWS's rule for a missing key), which may differ "
                "from AWS"
            )
            log.warning(message)
            self.router.notices.append(message)

        return report

    def health(self) -> dict:
        return {
            "policies_evaluated": _installed.is_set(),
            "secure_transport": "tls-only" if s3context.tls_only() else "http-counts",
        }

    def reset(self) -> None:
        self._reported.clear()
