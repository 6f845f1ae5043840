"""Who acts in the sandbox: workers call as their role under ``--enforce-iam``, and every
permission decision IAM makes is noted on the call it was made for.

Workers the sandbox runs for a Lambda function, a training job or an endpoint get credentials
of their role (:func:`role_env`), so their calls are judged, and logged, as that role's; a role
that does not exist or does not trust the service gets credentials every call refuses, never
the admin's. The decisions moto's access control makes while a request is served are collected
per thread (:func:`begin`, :func:`take`) and land in the call log (:mod:`.calllog`).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crosstrain.sandbox.core.router import Router

UNTRUSTED = "crosstrain-role-not-assumable"


# -- permission decisions, collected per request (thread) while it is served -----------------
_local = threading.local()
_installed = False


def install() -> None:
    """Have every decision moto's access control makes noted on the call (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase.check_action_permitted

    def checked(self, resource: str) -> None:
        try:
            original(self, resource)
        except Exception:
            _decided(self._action, resource, False)
            raise
        _decided(self._action, resource, True)

    IAMRequestBase.check_action_permitted = checked
    _installed = True


def _decided(action: str, resource: str, allowed: bool) -> None:
    pending = getattr(_local, "pending", None)
    if pending is not None:
        pending.append((action, resource, allowed, ""))


def begin() -> None:
    """Start collecting the decisions of the request this thread serves."""
    _local.pending = []


def take() -> tuple[tuple[str, str, bool, str], ...]:
    """The decisions collected since :func:`begin` (and stop collecting)."""
    pending, _local.pending = getattr(_local, "pending", None) or [], None
    return tuple(pending)


def role_of(principal: str) -> str:
    """``arn:aws:iam::A:role/NAME`` for an assumed-role session ARN; other ARNs unchanged."""
    head, _, rest = principal.partition(":assumed-role/")
    if not rest:
        return principal
    return head.replace(":sts::", ":iam::") + ":role/" + rest.split("/", 1)[0]


def trusts(document, service: str) -> bool:
    """Whether a role's trust policy lets ``service`` (e.g. ``lambda.amazonaws.com``) assume it."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return False
    statements = (document or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        services = (statement.get("Principal") or {}).get("Service", [])
        services = services if isinstance(services, list) else [services]
        if (
            statement.get("Effect") == "Allow"
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
            and service in services
        ):
            return True
    return False


def role_env(router: Router, role_arn: str | None, service: str, session: str) -> dict[str, str]:
    """Under ``--enforce-iam``, credentials of ``role_arn`` assumed by ``service`` for a worker
    (an empty dict otherwise: the worker keeps the admin key). A role that does not exist or
    does not trust ``service`` gets credentials every call refuses, never the admin's."""
    from crosstrain.sandbox.core import iam

    if not iam.enabled():
        return {}
    refused = {
        "AWS_ACCESS_KEY_ID": UNTRUSTED,
        "AWS_SECRET_ACCESS_KEY": UNTRUSTED,
        "AWS_SESSION_TOKEN": UNTRUSTED,
    }
    parts = (role_arn or "").split(":")
    if len(parts) < 6 or "/" not in parts[5]:
        router.calls.note("sts", "AssumeRole", service, role_arn or "(none)", False, "no role ARN")
        return refused
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    account, name = parts[4], parts[5].rsplit("/", 1)[1]
    with router.moto_lock:
        role = next(
            (r for r in iam_backends[account]["aws"].roles.values() if r.name == name), None
        )
        if role is None or not trusts(role.assume_role_policy_document, service):
            why = "no such role" if role is None else f"its trust policy does not allow {service}"
            router.calls.note("sts", "AssumeRole", service, role_arn, False, why)
            return refused
        assumed = sts_backends[account]["aws"].assume_role(
            region_name=router.region,
            role_session_name=session[:64],
            role_arn=role_arn,
            policy="",
            duration=43200,
            external_id="",
        )
    router.calls.note("sts", "AssumeRole", service, role_arn, True)
    return {
        "AWS_ACCESS_KEY_ID": assumed.access_key_id,
        "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
        "AWS_SESSION_TOKEN": assumed.session_token,
    }
