"""IAM as LocalStack users expect it: AWS-managed policies exist, and Lambda takes any role.

AWS-managed policies (``arn:aws:iam::aws:policy/...``): moto can load all of them for every
account, which costs seconds and tens of MB on the first call. The sandbox loads each one the
first time a request names it (an IAM call, a CloudFormation template, a template uploaded to
S3 for CDK): ``GetPolicy``, ``AttachRolePolicy``, ``ManagedPolicyArns`` work as on AWS.
``ListPolicies --scope AWS`` lists the ones loaded so far (the ledger says so).

Role ARNs: LocalStack lets ``CreateFunction`` name a role that was never created; so does the
sandbox, unless ``--enforce-iam`` is on (then the role must exist and trust
``lambda.amazonaws.com``, as on AWS).

``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy`` (which moto lacks; the SageMaker Python
SDK validates roles with them) are answered here with moto's policy evaluation (:mod:`.simulate`).
"""

from __future__ import annotations

import functools
import json
import re
import threading

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core import iam
from crosstrain.sandbox.core.accounts import account_for
from crosstrain.sandbox.core.router import Handler, Runtime, aws_action, signing_scope
from crosstrain.sandbox.services.iam import simulate

_MANAGED = re.compile(rb"iam::aws:policy((?:/[\w+=,.@-]+)*)/([\w+=,.@-]+)")
_MARK = b"iam::aws:policy/"
_ENCODED_MARKS = (b"%3A%3Aaws%3Apolicy%2F", b"%3a%3aaws%3apolicy%2f")
_lock = threading.Lock()


@functools.cache
def _catalog() -> dict[str, tuple[str, dict]]:
    """AWS-managed policies moto ships, by ``path + name`` (e.g. ``/service-role/X``)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {
        f"{data.get('Path') or '/'}{name}": (name, data)
        for name, data in json.loads(aws_managed_policies_data).items()
    }


def load_managed(account: str, names: set[str]) -> list[str]:
    """Put the AWS-managed policies ``names`` (``path + name``) into ``account``'s IAM; return
    the ARNs added (unknown names are left for moto to refuse as AWS would)."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    added = []
    for backend in iam_backends[account].values():
        for key in names:
            found = _catalog().get(key)
            if found is None:
                continue
            name, data = found
            policy = AWSManagedPolicy.from_data(name, account, backend.region_name, data)
            if policy.arn in backend.managed_policies:
                continue
            backend.managed_policies[policy.arn] = policy
            backend.aws_managed_policies.append(policy)
            added.append(policy.arn)
    return added


def named_policies(body: bytes) -> set[str]:
    """``path + name`` of every AWS-managed policy ARN ``body`` mentions (also form-encoded, as
    IAM's query protocol sends ``PolicyArn``)."""
    if _MARK not in body:
        if not any(mark in body for mark in _ENCODED_MARKS):
            return set()
        from urllib.parse import unquote_to_bytes

        body = unquote_to_bytes(body)
    return {
        (m.group(1) or b"").decode() + "/" + m.group(2).decode() for m in _MANAGED.finditer(body)
    }


def _trusts_lambda(document: dict) -> bool:
    """Whether a trust policy lets ``lambda.amazonaws.com`` call ``sts:AssumeRole`` (an Allow
    naming the service, and no Deny that does)."""
    from crosstrain.sandbox.core.conditions import like

    statements = document.get("Statement") or []
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        actions = actions if isinstance(actions, list) else [actions]
        services = (statement.get("Principal") or {}).get("Service") or []
        services = services if isinstance(services, list) else [services]
        if "lambda.amazonaws.com" not in services or not any(
            like(a, "sts:AssumeRole", ignore_case=True) for a in actions
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _lambda_may_assume(account_id: str, role_arn: str) -> None:
    """With ``--enforce-iam``, refuse a role Lambda may not assume, as AWS does (moto checks
    only that it exists)."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.iam.exceptions import NotFoundException as IAMNotFoundException
    from moto.iam.models import iam_backends

    for backend in iam_backends[account_id].values():
        try:
            role = backend.get_role_by_arn(role_arn)
        except IAMNotFoundException:
            continue
        document = role.assume_role_policy_document
        try:
            trust = json.loads(document) if isinstance(document, str) else dict(document)
        except ValueError:
            trust = {}
        if not _trusts_lambda(trust):
            raise InvalidParameterValueException(
                "The role defined for the function cannot be assumed by Lambda."
            )
        return


def _allow_any_role() -> None:
    """Let moto store a Lambda function whose role does not exist, in any account (unless IAM
    is enforced): moto's role check runs against a role it is told exists."""
    from moto.awslambda import models
    from moto.iam.models import iam_backends

    if getattr(models.LambdaStorage.put_function, "crosstrain", False):
        return
    original = models.LambdaStorage.put_function

    def put_function(self, fn):
        if iam.enabled():
            _lambda_may_assume(self.account_id, fn.role)
            return original(self, fn)
        role, backends = fn.role, list(iam_backends[self.account_id].values())
        lookups = [backend.get_role_by_arn for backend in backends]
        fn.role = f"arn:aws:iam::{self.account_id}:role/{role.rsplit('/', 1)[-1]}"
        for backend in backends:
            backend.get_role_by_arn = lambda arn: None
        try:
            return original(self, fn)
        finally:
            fn.role = role
            for backend, lookup in zip(backends, lookups, strict=True):
                backend.get_role_by_arn = lookup

    put_function.crosstrain = True
    models.LambdaStorage.put_function = put_function


def _stack_roles_attach_managed_policies() -> None:
    """moto's ``AWS::IAM::Role`` ignores ``ManagedPolicyArns``; attach them, as AWS does."""
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    if getattr(Role.create_from_cloudformation_json, "crosstrain", False):
        return
    original = Role.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        role = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        arns = (cloudformation_json.get("Properties") or {}).get("ManagedPolicyArns") or []
        backend = iam_backends[account_id][get_partition(region_name)]
        for arn in arns:
            load_managed(account_id, named_policies(str(arn).encode()))
            backend.attach_role_policy(arn, role.name)
        return role

    create.crosstrain = True
    Role.create_from_cloudformation_json = classmethod(create)


class IamRuntime(Runtime):
    """Loads AWS-managed policies on demand and relaxes Lambda's role check (LocalStack's way)."""

    name = "iam"

    def __init__(self, router):
        super().__init__(router)
        self.loaded: set[tuple[str, str]] = set()

    def route(self, request: Request) -> Handler | None:
        if request.method != "POST" or signing_scope(request)[2] not in (None, "iam"):
            return None
        if aws_action(request) in ("SimulatePrincipalPolicy", "SimulateCustomPolicy"):
            return self._simulate
        return None

    def _simulate(self, request: Request) -> Response:
        """Answer a policy simulation in IAM's query protocol (XML)."""
        import uuid

        params = simulate.parse(request.get_data(as_text=True))
        action = aws_action(request) or ""
        request_id = str(uuid.uuid4())
        try:
            results = self._evaluate(account_for(request), action, params)
        except simulate.SimulationError as exc:
            return Response(simulate.xml_error(exc, request_id), exc.status, mimetype="text/xml")
        body = simulate.xml_answer(action, results, request_id)
        return Response(body, 200, mimetype="text/xml")

    def _evaluate(self, account: str, action: str, params: dict) -> list[dict]:
        from moto.iam.models import iam_backends

        given = [
            simulate.Source.parse(f"PolicyInputList.{i}", "none", document)
            for i, document in enumerate(simulate.members(params, "PolicyInputList"), 1)
        ]
        boundary = [
            simulate.Source.parse(f"PermissionsBoundaryPolicyInputList.{i}", "none", document)
            for i, document in enumerate(
                simulate.members(params, "PermissionsBoundaryPolicyInputList"), 1
            )
        ]
        actions = simulate.members(params, "ActionNames")
        if not actions:
            raise simulate.SimulationError("ValidationError", "ActionNames must not be empty.")
        sources = list(given)
        if action == "SimulatePrincipalPolicy":
            arn = (params.get("PolicySourceArn") or [""])[0]
            with self.router.moto_lock:
                owned, owned_boundary = simulate.principal_sources(
                    iam_backends[account]["aws"], arn
                )
            sources += owned
            boundary = boundary or owned_boundary
        elif not given:
            raise simulate.SimulationError("ValidationError", "PolicyInputList must not be empty.")
        resource_policy = (params.get("ResourcePolicy") or [""])[0]
        if resource_policy:
            sources.append(simulate.Source.parse("ResourcePolicy", "resource", resource_policy))
        return simulate.evaluate(
            sources,
            boundary,
            actions,
            simulate.members(params, "ResourceArns"),
            simulate.context_entries(params),
        )

    def before(self, request: Request) -> None:
        if request.path.startswith("/2015-03-31/functions") or "cloudformation" in (
            request.headers.get("Authorization", "")
        ):
            _allow_any_role()
            _stack_roles_attach_managed_policies()
        names = named_policies(request.get_data())
        if not names:  # the usual case: nothing to load, nothing more to work out
            return
        account = account_for(request)
        wanted = {n for n in names if (account, n) not in self.loaded}
        if wanted:
            with _lock:
                load_managed(account, wanted)
                self.loaded |= {(account, n) for n in wanted}

    def reset(self) -> None:
        self.loaded.clear()

    def health(self) -> dict:
        return {"managed_policies_loaded": len(self.loaded)}
