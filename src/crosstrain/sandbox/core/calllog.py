"""The call log under ``--enforce-iam``: every permission decision on a non-admin caller.

Each entry says who called (the principal's ARN and, for an assumed role, the role's ARN), the
IAM action, the resource ARN moto evaluated, and whether it was allowed -- what a learner
derives a least-privilege policy from (on AWS: CloudTrail, or IAM Access Analyzer's policy
generation). Workers the sandbox runs for a Lambda function, a training job or an endpoint call
with their role's credentials under enforcement (:func:`role_env`), so their calls appear here
under that role. Served at ``GET /_crosstrain/calls`` (``?role=&action=&allowed=&limit=``) and
``Sandbox.calls()``; cleared by a reset; kept in memory only (a restart starts it empty).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crosstrain.sandbox.core.router import Router

MAX_ENTRIES = 20_000
_entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
_lock = threading.Lock()
_installed = False


def role_of(principal: str) -> str:
    """``arn:aws:iam::A:role/NAME`` for an assumed-role session ARN; other ARNs unchanged."""
    head, _, rest = principal.partition(":assumed-role/")
    if not rest:
        return principal
    return head.replace(":sts::", ":iam::") + ":role/" + rest.split("/", 1)[0]


def record(principal: str, action: str, resource: str, allowed: bool, note: str = "") -> None:
    entry = {
        "time": round(time.time(), 3),
        "principal": principal,
        "role": role_of(principal),
        "action": action,
        "resource": resource,
        "allowed": allowed,
    }
    if note:
        entry["note"] = note
    with _lock:
        _entries.append(entry)


def entries(
    role: str | None = None,
    action: str | None = None,
    allowed: bool | None = None,
    limit: int | None = None,
) -> list[dict]:
    """The log, oldest first; ``role`` and ``action`` match substrings of the entry's."""
    with _lock:
        found = [
            dict(e)
            for e in _entries
            if (role is None or role in e["role"] or role in e["principal"])
            and (action is None or action in e["action"])
            and (allowed is None or e["allowed"] == allowed)
        ]
    return found[-limit:] if limit else found


def clear() -> None:
    with _lock:
        _entries.clear()


def install() -> None:
    """Record every decision moto's access control makes (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase.check_action_permitted

    def checked(self, resource: str) -> None:
        principal = getattr(getattr(self, "_access_key", None), "arn", "unknown")
        try:
            original(self, resource)
        except Exception:
            record(principal, self._action, resource, False)
            raise
        record(principal, self._action, resource, True)

    IAMRequestBase.check_action_permitted = checked
    _installed = True


# -- workers act as their role ---------------------------------------------------------------
UNTRUSTED = "crosstrain-role-not-assumable"


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
        record(service, "sts:AssumeRole", role_arn or "(none)", False, "no role ARN")
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
            record(service, "sts:AssumeRole", role_arn, False, why)
            return refused
        assumed = sts_backends[account]["aws"].assume_role(
            region_name=router.region,
            role_session_name=session[:64],
            role_arn=role_arn,
            policy="",
            duration=43200,
            external_id="",
        )
    record(service, "sts:AssumeRole", role_arn, True)
    return {
        "AWS_ACCESS_KEY_ID": assumed.access_key_id,
        "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
        "AWS_SESSION_TOKEN": assumed.session_token,
    }
