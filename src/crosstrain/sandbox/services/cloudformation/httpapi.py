"""HTTP APIs in stacks: ``AWS::ApiGatewayV2::Api`` and ``AWS::ApiGatewayV2::Stage``.

SAM's ``HttpApi`` events expand to an API whose OpenAPI ``Body`` holds the routes and their
``x-amazon-apigateway-integration`` blocks, plus an auto-deployed ``$default`` stage. moto has the
HTTP API backend but no CloudFormation models for it; these create the API in moto's
``apigatewayv2`` backend (the body imported as ``ImportApi`` does), so the sandbox's API Gateway
runtime serves it like an API made with boto3. Deleting the stack deletes the API.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from crosstrain.sandbox.services.cloudformation.resources import ResourceFailed, _Resource

_ANY = "x-amazon-apigateway-any-method"


def _backend(account_id: str, region_name: str):
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region_name]


def _importable(body: dict) -> dict:
    """The body as moto's importer reads it: ``x-amazon-apigateway-any-method`` is ``ANY``,
    integration types upper-case (``aws_proxy`` -> ``AWS_PROXY``), as API Gateway imports them."""
    doc = copy.deepcopy(body)
    for path, methods in (doc.get("paths") or {}).items():
        if not isinstance(methods, dict):
            continue
        if _ANY in methods:
            methods["any"] = methods.pop(_ANY)
        for method in methods.values():
            integration = (
                method.get("x-amazon-apigateway-integration") if isinstance(method, dict) else None
            )
            if isinstance(integration, dict) and isinstance(integration.get("type"), str):
                integration["type"] = integration["type"].upper()
        doc["paths"][path] = methods
    return doc


class HttpApi(_Resource, CloudFormationModel):
    """``AWS::ApiGatewayV2::Api`` (HTTP): ``Name`` or a ``Body``. Ref: the API id;
    ``Fn::GetAtt ApiEndpoint`` / ``ApiId``."""

    ATTRIBUTES = {"ApiEndpoint": "api_endpoint", "ApiId": "api_id"}  # noqa: RUF012

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Api"

    @property
    def physical_resource_id(self) -> str:
        return self.api_id

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json.get("Properties") or {}
        body = properties.get("Body")
        if isinstance(body, str):
            body = json.loads(body)
        protocol = properties.get("ProtocolType", "HTTP")
        if protocol != "HTTP":
            reason = f"crosstrain sandbox does not support {protocol} APIs (ProtocolType)"
            raise ResourceFailed(kwargs.get("LogicalId"), cls.cloudformation_type(), reason)
        info = (body or {}).get("info") or {}
        api = _backend(account_id, region_name).create_api(
            api_key_selection_expression=None,
            cors_configuration=properties.get("CorsConfiguration"),
            description=properties.get("Description") or info.get("description"),
            disable_schema_validation=None,
            disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
            name=properties.get("Name") or info.get("title") or resource_name,
            protocol_type="HTTP",
            route_selection_expression=None,
            tags=properties.get("Tags") or {},
            version=properties.get("Version"),
        )
        if body and body.get("paths"):
            api.import_api(json.dumps(_importable(body)), fail_on_warnings=False)
            for route in api.routes.values():
                if route.route_key == "ANY $default":
                    route.route_key = "$default"
        return cls(account_id, region_name, api_id=api.api_id, api_endpoint=api.api_endpoint)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_api(self.api_id)


class HttpApiStage(_Resource, CloudFormationModel):
    """``AWS::ApiGatewayV2::Stage``: ``StageName`` of ``ApiId`` (``AutoDeploy``). Ref: the name."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Stage"

    @property
    def physical_resource_id(self) -> str:
        return self.stage_name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        api_id = properties["ApiId"]
        api_id = api_id if isinstance(api_id, str) else api_id.api_id
        config: dict[str, Any] = {
            "stageName": properties["StageName"],
            "autoDeploy": properties.get("AutoDeploy", False),
            "stageVariables": properties.get("StageVariables") or {},
            "description": properties.get("Description", ""),
        }
        _backend(account_id, region_name).create_stage(api_id, config)
        return cls(account_id, region_name, api_id=api_id, stage_name=config["stageName"])

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        api = _backend(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            api.delete_stage(self.stage_name)
