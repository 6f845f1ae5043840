"""What lab 23's checks read: the learner's files, the call log's decisions per workload, the
roles' documents and the policy simulator (a sibling module of checks.py)."""

import json

from crosstrain.labs.checkkit import as_list
from crosstrain.labs.checks import Fail

from .names import ACCOUNT, ENDPOINT, FUNCTION, ROLES, TRAINING_JOB


def workspace_json(ctx, name: str, hint: str | None = None) -> dict:
    path = ctx.workspace / name
    if not path.is_file():
        raise Fail(f"there is no {name} in your lab folder", hint=hint)
    try:
        found = json.loads(path.read_text())
    except ValueError as exc:
        raise Fail(f"{name} is not JSON ({exc})", hint=hint) from None
    if not isinstance(found, dict):
        raise Fail(f"{name} holds a {type(found).__name__}, not an object", hint=hint)
    return found


def workload_of(principal: str) -> str | None:
    session = principal.rsplit("/", 1)[-1]
    if session.startswith(TRAINING_JOB):
        return "training"
    return {ENDPOINT: "endpoint", FUNCTION: "scoring"}.get(session)


def used_calls(ctx) -> dict[str, set[tuple[str, str]]]:
    """The distinct (action, resource) each workload was allowed to make, from the call log."""
    used: dict[str, set[tuple[str, str]]] = {w: set() for w in ROLES}
    for call in ctx.sandbox.decisions(allowed=True):
        workload = workload_of(call["principal"])
        if workload:
            used[workload].add((call["action"], call["resource"]))
    return used


def role_documents(ctx, workload: str) -> tuple[list[tuple[str, dict]], list[str], dict]:
    """A role's inline policy documents, its attached policy ARNs and its trust policy."""
    iam = ctx.client("iam")
    role = ROLES[workload]
    try:
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        raise Fail(f"there is no role {role}") from None
    inline = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        inline.append((name, json.loads(document) if isinstance(document, str) else document))
    attached = [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    ]
    return inline, attached, json.loads(trust) if isinstance(trust, str) else trust


def grants(documents: list[tuple[str, dict]]) -> list[tuple[str, str, str]]:
    """Every (policy name, action, resource pattern) an Allow statement grants."""
    found = []
    for name, document in documents:
        for statement in as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            for action in as_list(statement.get("Action")):
                for resource in as_list(statement.get("Resource")):
                    found.append((name, str(action), str(resource)))
    return found


def simulate(ctx, workload: str, action: str, resource: str) -> str:
    """IAM's policy simulator: ``allowed``, ``explicitDeny`` or ``implicitDeny``."""
    iam = ctx.client("iam")
    try:
        answer = iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLES[workload]}",
            ActionNames=[action],
            ResourceArns=[resource],
        )
    except iam.exceptions.NoSuchEntityException:
        raise Fail(f"there is no role {ROLES[workload]}") from None
    return answer["EvaluationResults"][0]["EvalDecision"]


def trusted_services(trust: dict) -> set[str]:
    services = set()
    for statement in as_list(trust.get("Statement", [])):
        if statement.get("Effect") == "Allow" and "sts:AssumeRole" in as_list(
            statement.get("Action")
        ):
            services |= set(as_list((statement.get("Principal") or {}).get("Service")))
    return services


# -- observe-calls ------------------------------------------------------------------------------
