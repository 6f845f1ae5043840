"""Which resource types a stack may use in the sandbox: moto's, crosstrain's, and AWS's others."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from crosstrain.sandbox.services.cloudformation.resources import CROSSTRAIN_TYPES

UNSUPPORTED = "crosstrain sandbox does not support resource type {}"
_TYPE_NAME = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")


# -- what is supported -------------------------------------------------------------------------
def moto_parsing():
    """moto's CloudFormation parser, with the crosstrain models in its (cached) model map."""
    from moto.cloudformation import parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    return parsing


def is_supported(resource_type: str) -> bool:
    """Whether a stack may use ``resource_type`` in the sandbox (created, or skipped as on AWS)."""
    from moto.cloudformation import parsing

    return (
        resource_type in parsing.NULL_MODELS
        or resource_type.startswith("Custom::")
        or resource_type in parsing.get_model_map()
    )


@functools.cache
def supported_types() -> tuple[str, ...]:
    """Every resource type the sandbox creates (moto's and crosstrain's), sorted."""
    parsing = moto_parsing()
    types = {t for t in parsing.get_model_map() if _TYPE_NAME.match(t)}
    types.discard("AWS::SERVICE::RESOURCE")  # the placeholder of moto's base class
    return tuple(sorted(types | set(CROSSTRAIN_TYPES)))


def aws_types() -> tuple[str, ...]:
    """Every resource type AWS has in us-east-1, from cfn-lint's schemas (a moto dependency)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("cfn-lint is not installed: cannot list AWS resource types")
    index = Path(spec.submodule_search_locations[0], "data/schemas/providers/us-east-1.json")
    return tuple(sorted(json.loads(index.read_text())))


def unsupported_types() -> list[str]:
    """AWS resource types that make a stack fail in the sandbox, sorted."""
    supported = set(supported_types())
    parsing = moto_parsing()
    return [t for t in aws_types() if t not in supported and t not in parsing.NULL_MODELS]


def unsupported_resources(template: Any) -> list[tuple[str, str, str]]:
    """``(logical id, type, reason)`` of each resource in ``template`` the sandbox cannot create."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return []
    found = []
    for logical_id, resource in resources.items():
        resource_type = resource.get("Type") if isinstance(resource, dict) else None
        if isinstance(resource_type, str) and not is_supported(resource_type):
            found.append((logical_id, resource_type, UNSUPPORTED.format(resource_type)))
    return found
