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
    _enabled = True


def enabled() -> bool:
    return _enabled
