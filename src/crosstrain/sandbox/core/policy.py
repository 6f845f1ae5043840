"""IAM policy documents, evaluated for one request as AWS evaluates them: the one evaluator
behind bucket policies (S3), ``--enforce-iam`` (identity policies) and the IAM policy simulator.

A statement applies when its ``Action``/``NotAction``, ``Resource``/``NotResource``,
``Principal``/``NotPrincipal`` (resource-based policies; identity policies have none) and
``Condition`` (:mod:`crosstrain.sandbox.core.conditions`) all match the request. Any applying
``Deny`` wins; else any applying ``Allow`` allows; else the policy is silent (``NEUTRAL``).

Condition keys are looked up in the request's context (:func:`global_context` gives the keys
every request has; services add their own). A key the request does not have is treated as AWS
treats a missing key; a key the caller does not know (``Request.known_key``) and an operator the
evaluator does not know are reported through ``unknown`` so the sandbox can say so loudly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from crosstrain.sandbox.core import conditions


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
    known_key: Callable[[str], bool] | None = None  # None: every key is known


def applies(
    statement: Mapping, request: Request, unknown: Callable[[str], None] = lambda what: None
) -> bool:
    """Whether ``statement`` speaks about ``request`` (its effect aside)."""
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
    elif "Principal" in statement and not _principal_matches(
        statement["Principal"], request.principal
    ):
        return False
    block = statement.get("Condition") or {}
    for key in conditions.keys_of(block):
        if request.known_key is not None and not request.known_key(key):
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
        if not isinstance(statement, Mapping) or not applies(statement, request, unknown):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.DENY
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOW if allowed else Decision.NEUTRAL


def global_context(request, principal: Principal, region: str | None, secure: bool) -> dict:
    """The global condition keys (``aws:*``) of an HTTP request by ``principal``; ``secure``:
    whether it counts as secure transport."""
    now = datetime.now(UTC)
    context: dict[str, str | list[str]] = {
        "aws:SecureTransport": "true" if secure else "false",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if request.remote_addr:
        context["aws:SourceIp"] = request.remote_addr
    if region:
        context["aws:RequestedRegion"] = region
    for header, key in (("User-Agent", "aws:UserAgent"), ("Referer", "aws:Referer")):
        if request.headers.get(header):
            context[key] = request.headers[header]
    if not principal.anonymous:
        context["aws:PrincipalAccount"] = principal.account
        context["aws:PrincipalArn"] = principal.arn
        context["aws:PrincipalIsAWSService"] = "false"
        kind = principal.arn.split(":", 5)[-1].split("/", 1)[0]
        context["aws:PrincipalType"] = {
            "root": "Account",
            "user": "User",
            "assumed-role": "AssumedRole",
        }.get(kind, "User")
        if kind == "user":
            context["aws:username"] = principal.arn.rsplit("/", 1)[-1]
    return context
