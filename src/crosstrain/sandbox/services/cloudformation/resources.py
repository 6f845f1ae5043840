"""The resource types the labs need and moto lacks, as real resources in the sandbox.

Each is a moto ``CloudFormationModel`` subclass, so moto's model map finds it; creating, updating
and deleting one changes moto's Glue, S3 and Lambda backends as the real resource would.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from moto.core.common_models import CloudFormationModel

CROSSTRAIN_TYPES = (
    "AWS::ApiGateway::Stage",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CDK::Metadata",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Lambda::Url",
    "AWS::S3::BucketPolicy",
)
_MOTO_FUNCTION_URL = re.compile(r"^https://(?P<id>[0-9a-f]+)\.lambda-url\.")
# Set at install: the runtime that serves Function URLs maps a URL id to the URL that reaches it.
function_url_for: dict[str, Callable[[str], str]] = {}


class ResourceFailed(Exception):
    """A resource of a stack cannot be created; the stack fails and rolls back."""

    def __init__(self, logical_id: str | None, resource_type: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


# -- the resource types crosstrain adds ----------------------------------------------------------
class _Resource:
    """What the models share; a mixin, as moto maps only *direct* CloudFormationModel subclasses."""

    ATTRIBUTES: ClassVar[dict[str, str]] = {}  # Fn::GetAtt name -> Python attribute

    def __init__(self, account_id: str, region_name: str, **ids: str):
        self.account_id = account_id
        self.region_name = region_name
        self.__dict__.update(ids)

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])

    def is_created(self) -> bool:
        return True


def _glue(account_id: str, region_name: str):
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region_name]


def _s3(account_id: str, region_name: str):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region_name)]


def _lambda(account_id: str, region_name: str):
    from moto.awslambda.utils import get_backend

    return get_backend(account_id, region_name)


class GlueDatabase(_Resource, CloudFormationModel):
    """``AWS::Glue::Database``: a Glue catalog database. Ref: its name."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Database"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def _spec(properties: dict, default_name: str) -> tuple[str, dict]:
        database_input = dict(properties.get("DatabaseInput") or {})
        name = database_input.get("Name") or properties.get("DatabaseName") or default_name
        database_input["Name"] = name
        return name, database_input

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        name, database_input = cls._spec(cloudformation_json["Properties"], resource_name.lower())
        _glue(account_id, region_name).create_database(name, database_input)
        return cls(account_id, region_name, name=name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        name, database_input = cls._spec(cloudformation_json["Properties"], original_resource.name)
        if name == original_resource.name:
            _glue(account_id, region_name).update_database(name, database_input)
            return original_resource
        new = cls.create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name
        )
        original_resource.delete(account_id, region_name)
        return new

    def delete(self, account_id: str, region_name: str) -> None:
        _glue(account_id, region_name).databases.pop(self.name, None)


class GlueTable(_Resource, CloudFormationModel):
    """``AWS::Glue::Table``: a table in a Glue catalog database. Ref: its name."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Table"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def _spec(properties: dict, default_name: str) -> tuple[str, str, dict]:
        table_input = dict(properties.get("TableInput") or {})
        name = table_input.get("Name") or properties.get("Name") or default_name
        table_input["Name"] = name
        return properties["DatabaseName"], name, table_input

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        database, name, table_input = cls._spec(properties, resource_name.lower())
        _glue(account_id, region_name).create_table(
            database, name, table_input, properties.get("OpenTableFormatInput")
        )
        return cls(account_id, region_name, database_name=database, name=name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        database, name, table_input = cls._spec(properties, original_resource.name)
        if (database, name) == (original_resource.database_name, original_resource.name):
            _glue(account_id, region_name).update_table(database, name, table_input)
            return original_resource
        new = cls.create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name
        )
        original_resource.delete(account_id, region_name)
        return new

    def delete(self, account_id: str, region_name: str) -> None:
        database = _glue(account_id, region_name).databases.get(self.database_name)
        if database is not None:
            database.tables.pop(self.name, None)


class BucketPolicy(_Resource, CloudFormationModel):
    """``AWS::S3::BucketPolicy``: the policy of an existing bucket. Ref: the bucket name."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        document = properties["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        _s3(account_id, region_name).put_bucket_policy(properties["Bucket"], policy.encode())
        return cls(account_id, region_name, bucket=properties["Bucket"])

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        new = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        if new.bucket != original_resource.bucket:
            original_resource.delete(account_id, region_name)
        return new

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.exceptions import MissingBucket

        with contextlib.suppress(MissingBucket):
            _s3(account_id, region_name).delete_bucket_policy(self.bucket)


class FunctionUrl(_Resource, CloudFormationModel):
    """``AWS::Lambda::Url``: a function URL config. Ref: the function ARN.

    ``GetAtt FunctionUrl`` is the URL ``GetFunctionUrlConfig`` shows (the sandbox's, when a
    runtime serves Function URLs). ``Qualifier`` is not applied: moto keeps one URL per function.
    """

    ATTRIBUTES: ClassVar[dict[str, str]] = {"FunctionArn": "function_arn", "FunctionUrl": "url"}

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    @property
    def url(self) -> str:
        match = _MOTO_FUNCTION_URL.match(self.function_url)
        url_for = function_url_for.get("url_for")
        return url_for(match.group("id")) if match and url_for else self.function_url

    @staticmethod
    def _config(properties: dict) -> dict:
        keys = ("AuthType", "Cors", "InvokeMode")
        return {key: properties[key] for key in keys if properties.get(key) is not None}

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        properties = cloudformation_json["Properties"]
        target = properties["TargetFunctionArn"]
        url = _lambda(account_id, region_name).create_function_url_config(
            target, cls._config(properties)
        )
        return cls(
            account_id,
            region_name,
            target=target,
            function_arn=url.function.function_arn,
            function_url=url.url,
        )

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        if properties["TargetFunctionArn"] != original_resource.target:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        url = _lambda(account_id, region_name).get_function_url_config(original_resource.target)
        url.config = cls._config(properties)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.exceptions import UnknownFunctionException

        with contextlib.suppress(UnknownFunctionException):
            _lambda(account_id, region_name).delete_function_url_config(self.target)


class CdkMetadata(_Resource, CloudFormationModel):
    """``AWS::CDK::Metadata``: the usage record CDK adds to its templates; it does nothing."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CDK::Metadata"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        return cls(account_id, region_name, name=resource_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Nothing to delete."""
