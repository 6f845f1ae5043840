"""Bucket policies, evaluated for one request as AWS evaluates a resource-based policy.

A statement applies when its ``Action``/``NotAction``, ``Resource``/``NotResource``,
``Principal``/``NotPrincipal`` and ``Condition`` all match the request. Any applying ``Deny`` wins;
else any applying ``Allow`` allows; else the policy is silent (``NEUTRAL``) and the caller's own
permissions decide (in the sandbox: allowed, unless ``--enforce-iam``).

Condition keys are looked up in the request's context (:mod:`.context`). A key the sandbox does
not know is treated as AWS treats a key missing from a request (see :mod:`.conditions`) and
reported through ``unknown`` so the sandbox can say so loudly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from crosstrain.sandbox.services.s3 import conditions
from crosstrain.sandbox.services.s3.context import known_key


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Principal:
    """Who sends the request: ``arn`` is ``None`` for an anonymous (unsigned) request."""

    arn: str | None = None
    account: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.arn is None


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(spec: Any, who: Principal) -> bool:
    """Whether a ``Principal`` element names ``who``.

    ``"*"`` and ``{"AWS": "*"}`` name everyone (anonymous callers too); an account id or
    ``arn:aws:iam::ACCOUNT:root`` names every principal of that account; other ARNs are matched
    exactly (wildcards allowed). ``Service``, ``Federated`` and ``CanonicalUser`` principals never
    send requests in the sandbox, so they match nobody.
    """
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        return False
    for entry in _listed(spec.get("AWS")):
        if entry == "*":
            return True
        if who.anonymous:
            continue
        if entry == who.account or entry.endswith(f"::{who.account}:root"):
            return True
        if who.arn and conditions.like(entry, who.arn):
            return True
    return False


def _matches_any(patterns: list[str], value: str, ignore_case: bool = False) -> bool:
    return any(conditions.like(p, value, ignore_case) for p in patterns)


@dataclass
class Request:
    """What a bucket policy is asked about."""

    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::bucket/key"
    principal: Principal
    context: Mapping[str, str | list[str]]


def _applies(statement: Mapping, request: Request, unknown: Callable[[str], None]) -> bool:
    context = request.context
    if "NotAction" in statement:
        if _matches_any(_listed(statement["NotAction"]), request.action, ignore_case=True):
            return False
    elif not _matches_any(_listed(statement.get("Action")), request.action, ignore_case=True):
        return False
    if "NotResource" in statement:
        patterns = [conditions.substitute(p, context) for p in _listed(statement["NotResource"])]
        if _matches_any(patterns, request.resource):
            return False
    elif "Resource" in statement:
        patterns = [conditions.substitute(p, context) for p in _listed(statement["Resource"])]
        if not _matches_any(patterns, request.resource):
            return False
    if "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], request.principal):
            return False
    elif not _principal_matches(statement.get("Principal"), request.principal):
        return False
    block = statement.get("Condition") or {}
    for key in conditions.keys_of(block):
        if not known_key(key):
            unknown(f"condition key {key}")
    return conditions.holds(block, context, unknown)


def evaluate(
    policy: str | bytes | Mapping,
    request: Request,
    unknown: Callable[[str], None] = lambda what: None,
) -> Decision:
    """The policy's decision on ``request`` (a malformed policy is silent)."""
    if isinstance(policy, bytes | str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return Decision.NEUTRAL
    statements = policy.get("Statement") if isinstance(policy, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements or []:
        if not isinstance(statement, Mapping) or not _applies(statement, request, unknown):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.DENY
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOW if allowed else Decision.NEUTRAL
