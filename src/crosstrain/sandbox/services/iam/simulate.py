"""``iam:SimulatePrincipalPolicy`` and ``iam:SimulateCustomPolicy`` (moto answers neither).

The decision per action and resource is AWS's: an explicit ``Deny`` that applies wins
(``explicitDeny``), else an ``Allow`` that applies (``allowed``), else ``implicitDeny``; a
permissions boundary must allow too. Whether a statement applies is decided by the evaluation
``--enforce-iam`` and bucket policies use (:mod:`crosstrain.sandbox.core.policy`: ``Action``/
``NotAction`` and ``Resource``/``NotResource`` wildcards, policy variables, every condition
operator of :mod:`crosstrain.sandbox.core.conditions`). A condition key the request did not give
is evaluated as AWS evaluates a missing key and listed in ``MissingContextValues``. Matched
statements come with their policy's id and type and their start and end positions (line,
column) in the document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from crosstrain.sandbox.core import policy as evaluation

_STATEMENT_KEY = re.compile(r'"Statement"\s*:\s*')
NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


class SimulationError(Exception):
    """An IAM error answer: ``code`` (``NoSuchEntity``, ``InvalidInput``) and the message."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Statement:
    body: dict
    start: tuple[int, int]  # (line, column), 1-based, as AWS reports them
    end: tuple[int, int]


@dataclass
class Source:
    """One policy taking part: its id and type as AWS names them, and its statements."""

    id: str
    type: str  # user | group | role | aws-managed | user-managed | resource | none
    statements: list[Statement] = field(default_factory=list)

    @classmethod
    def parse(cls, id_: str, type_: str, document: str) -> Source:
        try:
            return cls(id_, type_, statements(document))
        except ValueError as exc:
            raise SimulationError("MalformedPolicyDocument", f"{id_}: {exc}") from None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def statements(document: str) -> list[Statement]:
    """The statements of a policy document with where each starts and ends in its text."""
    parsed = json.loads(document)
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise ValueError("a policy document needs a Statement")
    match = _STATEMENT_KEY.search(document)
    decoder = json.JSONDecoder()
    if match is None:  # not where a text search finds it: positions are unknown
        items = parsed["Statement"]
        items = items if isinstance(items, list) else [items]
        return [Statement(s, (1, 1), _position(document, len(document))) for s in items]
    offset = match.end()
    if document[offset] != "[":
        body, end = decoder.raw_decode(document, offset)
        return [Statement(body, _position(document, offset), _position(document, end))]
    found, offset = [], offset + 1
    while True:
        while document[offset] in " \t\r\n,":
            offset += 1
        if document[offset] == "]":
            return found
        body, end = decoder.raw_decode(document, offset)
        found.append(Statement(body, _position(document, offset), _position(document, end)))
        offset = end


def applies(statement: dict, action: str, resource: str, context: dict, missing: set) -> bool:
    """Whether ``statement`` speaks about ``action`` on ``resource`` in ``context``: the
    evaluation ``--enforce-iam`` uses (:func:`crosstrain.sandbox.core.policy.applies`). Condition
    keys the context lacks are added to ``missing`` (then evaluated as AWS evaluates a missing
    key: ``StringEquals`` false, ``StringNotEquals`` and ``...IfExists`` true, ...)."""
    conditions = statement.get("Condition") or {}
    if isinstance(conditions, dict):
        keys = {k for values in conditions.values() if isinstance(values, dict) for k in values}
        missing |= {key for key in keys if key.lower() not in context}
    request = evaluation.Request(action, resource, evaluation.Principal(), context)
    return evaluation.applies(statement, request)


def _matched(source: Source, statement: Statement) -> dict:
    return {
        "SourcePolicyId": source.id,
        "SourcePolicyType": source.type,
        "StartPosition": {"Line": statement.start[0], "Column": statement.start[1]},
        "EndPosition": {"Line": statement.end[0], "Column": statement.end[1]},
    }


def decide(
    sources: list[Source], action: str, resource: str, context: dict
) -> tuple[str, list[dict], list[str]]:
    """``(decision, matched statements, missing context keys)`` for one action on a resource."""
    allows, denies, missing = [], [], set()
    for source in sources:
        for statement in source.statements:
            if applies(statement.body, action, resource, context, missing):
                effect = statement.body.get("Effect")
                (denies if effect == "Deny" else allows).append(_matched(source, statement))
    if denies:
        return "explicitDeny", denies, sorted(missing)
    if allows:
        return "allowed", allows, sorted(missing)
    return "implicitDeny", [], sorted(missing)


def evaluate(
    sources: list[Source],
    boundary: list[Source],
    actions: list[str],
    resources: list[str],
    context: dict,
) -> list[dict]:
    """One ``EvaluationResult`` per action and resource."""
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            decision, matched, missing = decide(sources, action, resource, context)
            result: dict[str, Any] = {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision,
                "MatchedStatements": matched,
                "MissingContextValues": missing,
            }
            if boundary:
                allowed = decide(boundary, action, resource, context)[0] == "allowed"
                result["PermissionsBoundaryDecisionDetail"] = {
                    "AllowedByPermissionsBoundary": allowed
                }
                if decision == "allowed" and not allowed:
                    result["EvalDecision"] = "implicitDeny"
            results.append(result)
    return results


# -- the principal's policies --------------------------------------------------------------------
def _managed(backend, attached) -> list[Source]:
    from moto.iam.access_control import IAMPolicy

    found = []
    for policy in attached:
        document = json.dumps(IAMPolicy(policy)._policy_json)
        for version in getattr(policy, "versions", []):
            if version.is_default:
                document = version.document
        kind = "aws-managed" if ":iam::aws:policy/" in policy.arn else "user-managed"
        found.append(Source.parse(policy.name, kind, document))
    return found


def principal_sources(backend, arn: str) -> tuple[list[Source], list[Source]]:
    """The policies of the user, group or role ``arn`` (and its boundary's)."""
    from moto.iam.exceptions import NotFoundException

    kind, _, name = arn.partition(":")[2].rpartition(":")[2].partition("/")
    name = name.rsplit("/", 1)[-1]
    sources: list[Source] = []
    try:
        if kind == "role":
            role = backend.get_role(name)
            for policy_name in backend.list_role_policies(name):
                _, document = backend.get_role_policy(name, policy_name)
                sources.append(Source.parse(policy_name, "role", _text(document)))
            sources += _managed(backend, backend.list_attached_role_policies(name)[0])
            holder = role
        elif kind == "user":
            holder = backend.get_user(name)
            sources += _inline(backend.get_user_policy, backend.list_user_policies(name), name)
            sources += _managed(backend, backend.list_attached_user_policies(name)[0])
            for group in backend.get_groups_for_user(name):
                sources += _group_sources(backend, group.name)
        elif kind == "group":
            backend.get_group(name)
            holder = None
            sources += _group_sources(backend, name)
        else:
            raise SimulationError("InvalidInput", f"Invalid ARN {arn}: not a user, group or role.")
    except NotFoundException as exc:
        raise SimulationError("NoSuchEntity", exc.message, 404) from None
    boundary_arn = getattr(holder, "permissions_boundary_arn", None) if holder else None
    boundary = []
    if boundary_arn:
        boundary = _managed(backend, [backend.get_policy(boundary_arn)])
    return sources, boundary


def _text(document) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _inline(getter, names, owner) -> list[Source]:
    sources = []
    for policy_name in names:
        policy = getter(owner, policy_name)
        document = policy["policy_document"] if isinstance(policy, dict) else policy
        sources.append(Source.parse(policy_name, "user", _text(document)))
    return sources


def _group_sources(backend, group: str) -> list[Source]:
    sources = []
    for policy_name in backend.list_group_policies(group):
        policy = backend.get_group_policy(group, policy_name)
        sources.append(Source.parse(policy_name, "group", _text(policy["policy_document"])))
    return sources + _managed(backend, backend.list_attached_group_policies(group)[0])


# -- the query protocol --------------------------------------------------------------------------
def members(params: dict[str, list[str]], name: str) -> list[str]:
    """``Name.member.1``, ``Name.member.2``, ... in order."""
    found = []
    index = 1
    while f"{name}.member.{index}" in params:
        found.append(params[f"{name}.member.{index}"][0])
        index += 1
    return found


def context_entries(params: dict[str, list[str]]) -> dict[str, str]:
    """``ContextEntries`` as ``{lower-case key: value}`` (the first value of a list)."""
    context = {}
    index = 1
    while f"ContextEntries.member.{index}.ContextKeyName" in params:
        key = params[f"ContextEntries.member.{index}.ContextKeyName"][0]
        values = members(params, f"ContextEntries.member.{index}.ContextKeyValues")
        if values:
            context[key.lower()] = values[0]
        index += 1
    return context


def parse(body: str) -> dict[str, list[str]]:
    return parse_qs(body, keep_blank_values=True)


def _xml(value, tag: str = "") -> str:
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml(v)}</{k}>" for k, v in value.items())
    if isinstance(value, list):
        return "".join(f"<member>{_xml(item)}</member>" for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def xml_answer(action: str, results: list[dict], request_id: str) -> str:
    result = {"IsTruncated": False, "EvaluationResults": results}
    return (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{_xml(result)}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def xml_error(error: SimulationError, request_id: str) -> str:
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>{error.code}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
