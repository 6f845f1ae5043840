"""Opt-in IAM enforcement (``--enforce-iam``) on top of moto's access control.

moto can check every request against IAM, but then even the sandbox's own setup calls would
need an IAM user. crosstrain keeps one administrator: requests signed with the sandbox's admin
access key (``test`` by default, or unsigned ones) are always allowed; requests signed with the
access key of an IAM user or an assumed role are checked by moto's policy evaluation.
"""

from __future__ import annotations

import contextlib
import threading

_local = threading.local()
_enabled = False


@contextlib.contextmanager
def principal(*, is_admin: bool):
    """Mark the current request as made by the admin (skips enforcement) or not."""
    previous = getattr(_local, "is_admin", True)
    _local.is_admin = is_admin
    try:
        yield
    finally:
        _local.is_admin = previous


def enable() -> None:
    """Turn enforcement on for this process (idempotent)."""
    global _enabled
    if _enabled:
        return
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def enforce(self, iam_request_cls, resource="*"):
        if getattr(_local, "is_admin", True):
            return None
        return original(self, iam_request_cls, resource)

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin._authenticate_and_authorize_action = enforce
    from crosstrain.sandbox.core import roles

    roles.install()
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
        with lock:
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
