"""Opt-in IAM enforcement (``--enforce-iam``) on top of moto's access control.

moto can check every request against IAM, but then even the sandbox's own setup calls would
need an IAM user. crosstrain keeps one administrator: requests signed with the sandbox's admin
access key (``test`` by default, or unsigned ones) are always allowed; requests signed with the
access key of an IAM user or an assumed role are checked: moto finds the caller's policies and
checks the signature; crosstrain's evaluation (:mod:`.policy`, the one bucket policies and the
policy simulator use) decides, with every condition operator.
"""

from __future__ import annotations

import contextlib
import threading

_local = threading.local()
_enabled = False


@contextlib.contextmanager
def principal(*, is_admin: bool, request=None):
    """Mark the current request as made by the admin (skips enforcement) or not; ``request``
    (the HTTP request) supplies the global condition keys (``aws:SourceIp``, ...)."""
    previous = getattr(_local, "is_admin", True), getattr(_local, "request", None)
    _local.is_admin, _local.request = is_admin, request
    try:
        yield
    finally:
        _local.is_admin, _local.request = previous


def _context(access_key) -> dict:
    """The condition keys of the request being checked, as bucket policies see them."""
    from crosstrain.sandbox.core.policy import Principal, global_context
    from crosstrain.sandbox.core.router import signing_scope
    from crosstrain.sandbox.core.tls import tls_only

    request = getattr(_local, "request", None)
    if request is None:
        return {}
    who = Principal(arn=access_key.arn, account=access_key.account_id)
    secure = request.scheme == "https" or not tls_only()
    return global_context(request, who, signing_scope(request)[1], secure)


def _signed_as(check_signature):
    """moto's ``check_signature``, on the request as the client signed it when the sandbox
    rewrote it (LocalStack S3 host names are served path-style on ``localhost``)."""
    from crosstrain.sandbox.core.hosts import SIGNED_AS

    def checked(self) -> None:
        request = getattr(_local, "request", None)
        sent = request.environ.get(SIGNED_AS) if request is not None else None
        if sent:
            self._method, self._path = sent["method"], sent["path"]
            self._headers = sent["headers"]
        return check_signature(self)

    return checked


def _check_action_permitted(self, resource: str) -> None:
    """moto's ``IAMRequestBase.check_action_permitted`` with crosstrain's evaluation
    (:mod:`.policy`): every condition operator is evaluated against the request's keys, and a
    statement whose condition is false does not apply (moto ignored identity-policy conditions,
    and denied when one was false)."""
    from moto.iam.access_control import IAMPolicy

    from crosstrain.sandbox.core.policy import Decision, Principal, Request, evaluate

    if self._action == "sts:GetCallerIdentity":  # always allowed, as on AWS
        return
    who = Principal(arn=self._access_key.arn, account=self._access_key.account_id)
    request = Request(self._action, resource, who, _context(self._access_key))
    permitted = False
    for document in self._access_key.collect_policies():
        decision = evaluate(IAMPolicy(document)._policy_json, request)
        if decision is Decision.DENY:
            self._raise_access_denied()
        permitted = permitted or decision is Decision.ALLOW
    if self._is_assuming_role_operation(resource):
        permitted = permitted and self._check_role_trust_relationship(resource)
    if not permitted:
        self._raise_access_denied()


def enable() -> None:
    """Turn enforcement on for this process (idempotent)."""
    global _enabled
    if _enabled:
        return
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequestBase

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def enforce(self, iam_request_cls, resource="*"):
        if getattr(_local, "is_admin", True):
            return None
        return original(self, iam_request_cls, resource)

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin._authenticate_and_authorize_action = enforce
    IAMRequestBase.check_action_permitted = _check_action_permitted
    IAMRequestBase.check_signature = _signed_as(IAMRequestBase.check_signature)
    from crosstrain.sandbox.core import roles

    roles.install()  # after the evaluator above: it notes that evaluator's decisions
    _enabled = True


def enabled() -> bool:
    return _enabled


def check(request, action: str, resource: str, admin_key: str, lock):
    """Under enforcement, the error a non-admin caller gets when its policies do not allow
    ``action`` on ``resource`` (moto's evaluation), else ``None``. The signature is checked
    against the request as the client sent it (before any protocol rewrite)."""
    from crosstrain.sandbox.core import protocols
    from crosstrain.sandbox.core.router import json_response, signing_scope

    if not _enabled:
        return None
    access_key, _, _ = signing_scope(request)
    if access_key in (None, admin_key):
        return None
    from moto.iam.access_control import IAMRequest
    from moto.iam.models import get_account_id_from
    from werkzeug.exceptions import HTTPException

    wire = request.environ.get(protocols.ORIGINAL) or {
        "method": request.method,
        "path": request.environ.get("RAW_URI") or request.full_path,
        "body": request.get_data(),
        "headers": dict(request.headers),
    }
    try:
        with lock, principal(is_admin=False, request=request):
            iam_request = IAMRequest(
                account_id=get_account_id_from(access_key),
                method=wire["method"],
                path=wire["path"],
                data={},
                body=wire["body"],
                headers=wire["headers"],
                action=action,
            )
            iam_request.check_signature()
            iam_request.check_action_permitted(resource)
    except HTTPException as exc:  # moto's signature and access errors
        code = getattr(exc, "error_type", "AccessDenied")
        code = "AccessDeniedException" if code == "AccessDenied" else code
        message = getattr(exc, "message", str(exc))
        body = {"__type": code, "Message": message, "message": message}
        return json_response(body, exc.code or 403, headers={"x-amzn-ErrorType": code})
    return None


def principal_arn(access_key: str, token: str, admin_key: str, lock) -> str:
    """The ARN behind ``access_key`` (with its session ``token``, if any): an IAM user, an
    assumed role's session, or the account's root (the admin key, and any key moto does not
    know, act as the account itself)."""
    from moto.iam.access_control import CreateAccessKeyFailure, create_access_key
    from moto.iam.models import get_account_id_from

    account = get_account_id_from(access_key)
    if access_key != admin_key:
        headers = {"X-Amz-Security-Token": token} if token else {}
        try:
            with lock:
                return create_access_key(account, "aws", access_key, headers).arn
        except CreateAccessKeyFailure:
            pass
    return f"arn:aws:iam::{account}:root"
