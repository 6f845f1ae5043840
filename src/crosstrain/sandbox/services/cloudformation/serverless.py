"""SAM in the sandbox: templates with ``Transform: AWS::Serverless-2016-10-31`` deploy.

CloudFormation expands the transform with AWS's own translator (the ``aws-sam-translator``
library SAM and CloudFormation use) before anything else looks at the template, in
``CreateStack``, ``UpdateStack``, ``CreateChangeSet`` and ``ValidateTemplate``; the expanded
template is what the stack keeps (``GetTemplate`` shows the processed template). Managed policy
names (``Policies: [AmazonS3ReadOnlyAccess]``) resolve against the AWS-managed policies moto
knows; a template SAM rejects fails with the translator's message, as on AWS.

The expansion of an ``Api`` event is a REST API defined by an OpenAPI ``Body`` plus a stage;
moto's ``AWS::ApiGateway::RestApi`` ignores ``Body`` and it has no ``AWS::ApiGateway::Stage``, so
:func:`patch_rest_api` imports the body (the paths, methods and ``x-amazon-apigateway-integration``
blocks) and :class:`ApiStage` creates the stage: the sandbox's API Gateway runtime then serves the
API like any other.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from crosstrain.sandbox.services.cloudformation.resources import _Resource

SAM = "AWS::Serverless-2016-10-31"


def declares_sam(template: dict) -> bool:
    transform = template.get("Transform") if isinstance(template, dict) else None
    names = transform if isinstance(transform, list) else [transform]
    return SAM in names


class _PolicyLoader:
    """AWS-managed policy names -> ARNs, from moto's copy of the managed policies."""

    @staticmethod
    @functools.cache
    def load() -> dict[str, str]:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)
        return {
            name: f"arn:aws:iam::aws:policy{doc.get('Path', '/')}{name}"
            for name, doc in data.items()
        }


def _parameter_values(template: dict, parameters: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if isinstance(spec, dict) and "Default" in spec:
            values[name] = spec["Default"]
    if isinstance(parameters, dict):
        values.update(parameters)
    for item in parameters if isinstance(parameters, list) else []:
        if isinstance(item, dict) and "ParameterValue" in item:
            values[item["ParameterKey"]] = item["ParameterValue"]
    return values


def expand(template: dict, parameters: Any, region: str, account_id: str, stack: str) -> dict:
    """The CloudFormation template a SAM template stands for (``ValidationError`` if invalid)."""
    import boto3
    from moto.cloudformation.exceptions import ValidationError
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values = _parameter_values(template, parameters)
    values.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack,
        }
    )
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        return translator.translate(
            copy.deepcopy(template),
            parameter_values=values,
            get_managed_policy_map=_PolicyLoader.load,
        )
    except InvalidDocumentException as exc:
        causes = " ".join(getattr(c, "message", str(c)) for c in exc.causes)
        raise ValidationError(
            message=f"Transform {SAM} failed with: {exc.message} {causes}".strip()
        ) from None


def _expanded(template: Any, parameters: Any, backend, stack: str) -> Any:
    """``template`` (a string or dict), expanded when it declares the SAM transform."""
    from moto.cloudformation.models import Stack

    if isinstance(template, dict):
        parsed = template
    else:
        try:
            parsed = Stack.parse_template(template)
        except Exception:  # noqa: BLE001 - moto reports a malformed template itself
            return template
    if not isinstance(parsed, dict) or not declares_sam(parsed):
        return template
    result = expand(parsed, parameters, backend.region_name, backend.account_id, stack)
    return json.dumps(result)


def patch_backend(backend_cls) -> None:
    """Expand SAM templates in every backend call that takes a template (outermost wrapper)."""
    create, update = backend_cls.create_stack, backend_cls.update_stack
    change_set, validate = backend_cls.create_change_set, backend_cls.validate_template

    def create_stack(self, name, template, parameters, **kwargs):
        return create(self, name, _expanded(template, parameters, self, name), parameters, **kwargs)

    def update_stack(self, name, template, role_arn, parameters, tags):
        expanded = _expanded(template, parameters, self, name)
        return update(self, name, expanded, role_arn, parameters, tags)

    def create_change_set(self, stack_name, change_set_name, template, parameters, *args, **kw):
        expanded = _expanded(template, parameters, self, stack_name)
        return change_set(self, stack_name, change_set_name, expanded, parameters, *args, **kw)

    def validate_template(self, template):
        return validate(self, _expanded(template, {}, self, "validation"))

    backend_cls.create_stack = create_stack
    backend_cls.update_stack = update_stack
    backend_cls.create_change_set = create_change_set
    backend_cls.validate_template = validate_template


def _openapi(body: dict) -> dict:
    """moto imports OpenAPI 3 only; the paths SAM writes in Swagger 2.0 read the same. Integration
    types are upper-cased as API Gateway's importer does (``aws_proxy`` -> ``AWS_PROXY``)."""
    doc = copy.deepcopy({key: value for key, value in body.items() if key != "swagger"})
    doc["openapi"] = "3.0.1"
    for methods in (doc.get("paths") or {}).values():
        for method in (methods or {}).values() if isinstance(methods, dict) else []:
            integration = (
                method.get("x-amazon-apigateway-integration") if isinstance(method, dict) else None
            )
            if isinstance(integration, dict) and isinstance(integration.get("type"), str):
                integration["type"] = integration["type"].upper()
    return doc


def patch_rest_api() -> None:
    """``AWS::ApiGateway::RestApi`` with an OpenAPI ``Body``: the API gets its paths."""
    from moto.apigateway.models import RestAPI, apigateway_backends

    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json.get("Properties") or {}
        body = properties.get("Body")
        if isinstance(body, str):
            body = json.loads(body)
        info = (body or {}).get("info") or {}
        backend = apigateway_backends[account_id][region_name]
        api = backend.create_rest_api(
            name=properties.get("Name") or info.get("title") or resource_name,
            description=properties.get("Description") or info.get("description", ""),
            endpoint_configuration=properties.get("EndpointConfiguration"),
        )
        if body and body.get("paths"):
            backend.put_rest_api(api.id, _openapi(body), fail_on_warnings=False)
        return api

    RestAPI.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def _apigateway(account_id: str, region_name: str):
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region_name]


def _id(value: Any) -> str:
    """An id from a ``Ref`` (moto resolves a Ref to a Deployment to the model itself)."""
    return value if isinstance(value, str) else value.id


class ApiStage(_Resource, CloudFormationModel):
    """``AWS::ApiGateway::Stage``: a named stage of a deployment. Ref: the stage name."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @property
    def physical_resource_id(self) -> str:
        return self.stage_name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        api_id, name = _id(properties["RestApiId"]), properties["StageName"]
        _apigateway(account_id, region_name).create_stage(
            api_id,
            name,
            _id(properties["DeploymentId"]),
            variables=properties.get("Variables") or {},
            description=properties.get("Description", ""),
            tracing_enabled=properties.get("TracingEnabled"),
        )
        return cls(account_id, region_name, api_id=api_id, stage_name=name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        api = _apigateway(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.stage_name, None)
