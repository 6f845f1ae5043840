"""--enforce-iam: IAM users get what their policies allow; the admin key keeps working."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support import lambda_role

from crosstrain import sandbox as sandbox_api


def user_client(sb, service: str, keys: dict):
    return boto3.client(
        service,
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )


def make_user(sb, actions: list[str], resource: str = "*", name: str = "analyst") -> dict:
    iam = sb.client("iam")
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName=name)["AccessKey"]


@pytest.fixture(scope="module")
def enforcing():
    with sandbox_api.start(enforce_iam=True) as sb:
        yield sb


def test_user_denied_what_the_policy_does_not_allow(enforcing):
    enforcing.reset()
    keys = make_user(enforcing, ["s3:ListAllMyBuckets"])
    s3 = user_client(enforcing, "s3", keys)
    s3.list_buckets()  # allowed
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="not-allowed")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_admin_key_is_never_denied(enforcing):
    enforcing.reset()
    enforcing.client("s3").create_bucket(Bucket="admin-bucket")
    assert enforcing.health()["settings"]["enforce_iam"] is True


def test_without_enforcement_users_are_not_checked(sandbox):
    keys = make_user(sandbox, ["s3:ListAllMyBuckets"])
    user_client(sandbox, "s3", keys).create_bucket(Bucket="allowed-anyway")


def hello_function(sb) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'hello'\n")
    function = sb.client("lambda").create_function(
        FunctionName="hello",
        Runtime="python3.12",
        Role=lambda_role(sb, "hello"),
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return function["FunctionArn"]


def test_invoking_a_function_needs_invoke_function_on_it(enforcing):
    enforcing.reset()
    arn = hello_function(enforcing)
    reader = user_client(enforcing, "lambda", make_user(enforcing, ["lambda:GetFunction"]))
    with pytest.raises(ClientError) as err:
        reader.invoke(FunctionName="hello")  # served by crosstrain's runtime, not moto
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "lambda:InvokeFunction" in err.value.response["Error"]["Message"]

    keys = make_user(enforcing, ["lambda:InvokeFunction"], resource=arn, name="caller")
    answer = user_client(enforcing, "lambda", keys).invoke(FunctionName="hello")
    assert answer["Payload"].read() == b'"hello"'  # a policy scoped to the function's ARN


def test_athena_calls_are_checked(enforcing):
    enforcing.reset()
    athena = user_client(enforcing, "athena", make_user(enforcing, ["s3:ListAllMyBuckets"]))
    with pytest.raises(ClientError) as err:
        athena.list_query_executions()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
