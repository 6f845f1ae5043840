"""CloudFormation in the sandbox never lies.

moto's CloudFormation skips resource types it does not know and still reports ``CREATE_COMPLETE``.
In the sandbox:

- the types the labs need and moto lacks (:data:`CROSSTRAIN_TYPES`) are real resources: the
  models in :mod:`.resources` are ``CloudFormationModel`` subclasses, so moto's own model map
  finds them and they create, update and delete entries in moto's Glue, S3 and Lambda backends;
- a stack using any other type neither moto nor crosstrain supports fails as AWS shows a failed
  resource: ``CREATE_FAILED`` then ``ROLLBACK_COMPLETE`` (``UPDATE_ROLLBACK_COMPLETE`` for updates
  and change sets), with a reason naming the type. ``Custom::`` types and moto's ``NULL_MODELS``
  keep moto's behaviour;
- a ``TemplateURL`` in any S3 URL style (AWS, LocalStack, ``127.0.0.1``/``localhost``) is read from
  the sandbox's own S3, never from the network.

How: :func:`install` patches moto inside the sandbox process, once, when the first CloudFormation
request arrives (importing moto's CloudFormation takes seconds; the sandbox must start fast). It
replaces ``resource_class_from_type`` (unknown type → error instead of ``None``), wraps
``create_stack``, ``Stack.update`` and ``execute_change_set`` (the template is checked before
anything is created) and nested-stack creation (a failed child fails its parent), and replaces
``get_stack_from_s3_url``. Resolving TemplateURL inside moto rather than rewriting requests in
``route()`` also covers nested stacks, whose TemplateURL moto reads itself.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from crosstrain.sandbox.core.router import Runtime, signing_scope
from crosstrain.sandbox.services.cloudformation import (  # httpapi: its models register
    httpapi,  # noqa: F401
    serverless,
)
from crosstrain.sandbox.services.cloudformation.changesets import (
    finish_change_set,
    patch_models,
    patch_responses,
)
from crosstrain.sandbox.services.cloudformation.resources import (
    CROSSTRAIN_TYPES,
    ResourceFailed,
    function_url_for,
)
from crosstrain.sandbox.services.cloudformation.support import (
    UNSUPPORTED,
    moto_parsing,
    unsupported_resources,
)

# S3 hosts: [BUCKET.]s3[.REGION or -REGION].amazonaws.com, [BUCKET.]s3.localhost.localstack.cloud
_S3_HOST = re.compile(
    r"^(?:(?P<bucket>.+)\.)?s3(?:[.-][a-z0-9-]+)*\."
    r"(?:amazonaws\.com(?:\.cn)?|localhost\.localstack\.cloud)$"
)
_LOCAL_HOSTS = frozenset({"localhost", "localhost.localstack.cloud", "::1", "0.0.0.0"})
# moto's service name where it is not the type's service part, lower-cased.
_SERVICE_NAMES = {
    "Lambda": "awslambda",
    "ElasticLoadBalancing": "elb",
    "ElasticLoadBalancingV2": "elbv2",
}


# -- TemplateURL -------------------------------------------------------------------------------
def s3_location(url: str) -> tuple[str, str, str | None]:
    """``(bucket, key, version id)`` of an S3 object URL in any style; ``ValueError`` otherwise.

    Virtual-hosted (``bucket.s3[.region].amazonaws.com``, ``bucket.s3.localhost.localstack.cloud``,
    ``bucket.localhost``) and path style (``s3[.region].amazonaws.com``,
    ``s3.localhost.localstack.cloud``, ``localhost``, ``127.0.0.1``, any port).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path)[1:]
    match = _S3_HOST.match(host)
    if parts.scheme not in ("http", "https"):
        raise ValueError(url)
    if match and match.group("bucket"):
        bucket, key = match.group("bucket"), path
    elif host.endswith(".localhost"):
        bucket, key = host.removesuffix(".localhost"), path
    elif match or host in _LOCAL_HOSTS or host.startswith("127."):
        bucket, _, key = path.partition("/")
    else:
        raise ValueError(url)
    if not bucket or not key:
        raise ValueError(url)
    return bucket, key, parse_qs(parts.query).get("versionId", [None])[0]


def read_template(template_url: str, account_id: str, partition: str) -> str:
    """The template a TemplateURL points at, from the sandbox's S3 (replaces moto's reader)."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    try:
        bucket, key, version = s3_location(template_url)
    except ValueError:
        raise ValidationError(
            message=f"TemplateURL {template_url} is not an S3 object URL; the sandbox reads "
            "templates from its own S3, e.g. https://BUCKET.s3.amazonaws.com/KEY or "
            "http://127.0.0.1:4566/BUCKET/KEY"
        ) from None
    prefix = f"TemplateURL {template_url} must point at an object in the sandbox's S3"
    try:
        obj = s3_backends[account_id][partition].get_object(bucket, key, version_id=version)
    except MissingBucket:
        raise ValidationError(message=f"{prefix}: there is no bucket '{bucket}'") from None
    if obj is None:
        raise ValidationError(message=f"{prefix}: bucket '{bucket}' has no key '{key}'")
    try:
        return obj.value.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(message=f"{prefix}: s3://{bucket}/{key} is not UTF-8 text") from None


# -- failing a stack as AWS does ---------------------------------------------------------------
def _fail(stack, operation: str, failures: list[tuple], rolled_back: bool = True) -> None:
    """Record ``failures`` on ``stack`` and leave it in the state AWS shows after a rollback."""
    from moto.cloudformation.models import Event

    verb = operation.lower()
    existing = stack.resource_map._resource_json_map if operation == "UPDATE" else {}
    for logical_id, resource_type, reason in failures:
        status = "UPDATE_FAILED" if logical_id in existing else "CREATE_FAILED"
        event = Event(
            stack.stack_id, stack.name, logical_id, "", resource_type, status, reason, None
        )
        stack.events.append(event)
    ids = ", ".join(str(f[0]) for f in failures)
    reasons = " ".join(dict.fromkeys(f[2].rstrip(".") + "." for f in failures))
    summary = f"The following resource(s) failed to {verb}: [{ids}]. {reasons}"
    if operation == "CREATE":
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", summary + " Rollback requested by user.")
        final = "ROLLBACK_COMPLETE"
    else:
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", summary)
        final = "UPDATE_ROLLBACK_COMPLETE" if rolled_back else "UPDATE_ROLLBACK_FAILED"
        if not rolled_back:
            summary += " The sandbox cannot undo the changes already made."
    stack._add_stack_event(final, None if rolled_back else summary)
    stack.status = final
    stack.status_reason = summary


def _roll_back_create(backend, stack) -> None:
    """Delete what a failed create made and leave the stack empty, as after an AWS rollback."""
    from moto.cloudformation.parsing import OutputMap

    stack.resource_map.delete()
    stack.resource_map._resource_json_map = {}
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]


def _failed_stack(backend, name, template, parsed, parameters, kwargs, failures):
    """A stack that failed before any resource was created (nothing to roll back)."""
    from moto.cloudformation.exceptions import AlreadyExistsException
    from moto.cloudformation.models import Stack
    from moto.cloudformation.utils import generate_stack_id

    if any(stack.name == name for stack in backend.stacks.values()):
        raise AlreadyExistsException(f"Stack {name} already exists")
    stack = Stack(
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template={},
        parameters=parameters or {},
        account_id=backend.account_id,
        region_name=backend.region_name,
        notification_arns=kwargs.get("notification_arns"),
        tags=kwargs.get("tags"),
        role_arn=kwargs.get("role_arn"),
    )
    stack.template, stack.template_dict = template, parsed
    stack.description = parsed.get("Description")
    backend.stacks[stack.stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    _fail(stack, "CREATE", failures)
    return stack


def _parse(template: Any) -> dict:
    from moto.cloudformation.models import Stack

    if isinstance(template, dict):
        return template
    try:
        parsed = Stack.parse_template(template)
    except Exception:  # noqa: BLE001 - moto reports a malformed template itself
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _failure(exc: ResourceFailed, template: dict) -> tuple[str, str, str]:
    logical_id = exc.logical_id
    if logical_id is None:  # raised by resource_class_from_type, which knows only the type
        resources = template.get("Resources") or {}
        logical_id = next(
            (lid for lid, r in resources.items() if r.get("Type") == exc.resource_type),
            exc.resource_type,
        )
    return logical_id, exc.resource_type, exc.reason


def _guarded_class_from_type(parsing):
    """moto's ``resource_class_from_type``, failing an unknown type instead of skipping it."""
    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str):
        resource_class = original(resource_type)
        if resource_class is None and resource_type not in parsing.NULL_MODELS:
            raise ResourceFailed(None, resource_type, UNSUPPORTED.format(resource_type))
        return resource_class

    return resource_class_from_type


def _checked_create_stack(original):
    """``create_stack`` that fails (and rolls back) a stack with a resource it cannot create."""

    def create_stack(self, name, template, parameters, **kwargs):
        parsed = _parse(template)
        failures = unsupported_resources(parsed)
        if failures:
            return _failed_stack(self, name, template, parsed, parameters, kwargs, failures)
        try:
            return original(self, name, template, parameters, **kwargs)
        except ResourceFailed as exc:
            stack = next((s for s in self.stacks.values() if s.name == name), None)
            if stack is None:
                failures = [_failure(exc, parsed)]
                return _failed_stack(self, name, template, parsed, parameters, kwargs, failures)
            _roll_back_create(self, stack)
            _fail(stack, "CREATE", [_failure(exc, parsed)])
            return stack

    return create_stack


def _checked_update(original):
    """``Stack.update`` that fails the update on a resource it cannot create or update."""

    def update(self, template, *args, **kwargs):
        parsed = _parse(template)
        failures = unsupported_resources(parsed)
        if failures:
            self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
            _fail(self, "UPDATE", failures)
            return None
        try:
            return original(self, template, *args, **kwargs)
        except ResourceFailed as exc:
            _fail(self, "UPDATE", [_failure(exc, parsed)], rolled_back=False)
            return None

    return update


def _checked_execute_change_set(original):
    """``execute_change_set`` that fails as AWS does and otherwise finishes what moto leaves out
    (:func:`.changesets.finish_change_set`)."""

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.describe_change_set(change_set_name)
        stack, operation = self.stacks[change_set.stack_id], change_set.change_set_type
        parsed = _parse(change_set.template_dict)
        failures, rolled_back = unsupported_resources(parsed), True
        if failures:
            stack._add_stack_event(f"{operation}_IN_PROGRESS", "User Initiated")
        else:
            try:
                original(self, change_set_name, stack_name)
                finish_change_set(stack, change_set, parsed)
                return None
            except ResourceFailed as exc:
                failures, rolled_back = [_failure(exc, parsed)], operation == "CREATE"
                if operation == "CREATE":
                    _roll_back_create(self, stack)
        if operation == "CREATE":
            stack.template, stack.template_dict = change_set.template, parsed
        _fail(stack, operation, failures, rolled_back=rolled_back)
        change_set.execution_status = "EXECUTE_FAILED"
        return None

    return execute_change_set


def _checked_nested(original):
    """Nested-stack creation where a child that rolled back fails its parent."""

    def create_nested(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        child = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        if child.status == "ROLLBACK_COMPLETE":
            reason = f"Embedded stack {child.stack_id} was not successfully created: "
            raise ResourceFailed(
                kwargs.get("LogicalId"),
                cls.cloudformation_type(),
                reason + getattr(child, "status_reason", ""),
            )
        return child

    return classmethod(create_nested)


def _patch_moto() -> None:
    from moto.cloudformation import models, responses, utils

    parsing = moto_parsing()
    backend_cls, stack_cls = models.CloudFormationBackend, models.Stack
    patch_models()
    patch_responses()
    parsing.resource_class_from_type = _guarded_class_from_type(parsing)
    backend_cls.create_stack = _checked_create_stack(backend_cls.create_stack)
    stack_cls.update = _checked_update(stack_cls.update)
    backend_cls.execute_change_set = _checked_execute_change_set(backend_cls.execute_change_set)
    stack_cls.create_from_cloudformation_json = _checked_nested(
        stack_cls.create_from_cloudformation_json.__func__
    )
    for module in (models, responses, utils):
        module.get_stack_from_s3_url = read_template
    serverless.patch_rest_api()
    serverless.patch_backend(backend_cls)  # last: SAM is expanded before anything else looks


def stack_services() -> set[str]:
    """moto's names of the services that the stacks (live or deleted) have resources in."""
    from moto.backend_index import backend_url_patterns
    from moto.cloudformation.models import cloudformation_backends

    known = {name for name, _ in backend_url_patterns}
    types: set[str] = set()
    for regions in list(cloudformation_backends.values()):
        for backend in list(regions.values()):
            for stack in [*backend.stacks.values(), *backend.deleted_stacks.values()]:
                resources = (getattr(stack, "template_dict", None) or {}).get("Resources") or {}
                types.update(r.get("Type", "") for r in resources.values() if isinstance(r, dict))
    services = set()
    for resource_type in types:
        parts = resource_type.split("::")
        if len(parts) == 3 and parts[0] == "AWS":
            services.add(_SERVICE_NAMES.get(parts[1], parts[1].lower()))
    return services & known


_install_lock = threading.Lock()
_installed = threading.Event()


def install() -> None:
    """Patch moto's CloudFormation in this process (idempotent; the sandbox process only)."""
    with _install_lock:
        if not _installed.is_set():
            _patch_moto()
            _installed.set()


class CloudFormationRuntime(Runtime):
    """Installs the patches above before moto answers the first CloudFormation request."""

    name = "cloudformation"

    def route(self, request):
        if not _installed.is_set() and signing_scope(request)[2] == "cloudformation":
            for runtime in self.router.runtimes:
                if callable(getattr(runtime, "url_for", None)):
                    function_url_for["url_for"] = runtime.url_for
            install()
        return None

    def observe(self, call) -> None:
        """A stack changes other services: mark them dirty so their state is saved too."""
        if call.service == "cloudformation":
            with self.router.moto_lock:
                services = stack_services()
            self.router.mark_dirty(services)

    def health(self) -> dict:
        return {"installed": _installed.is_set(), "crosstrain_types": list(CROSSTRAIN_TYPES)}
