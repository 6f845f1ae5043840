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


def conditional_user(sb, *statements, name: str = "conditional") -> dict:
    iam = sb.client("iam")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName=name)["AccessKey"]


def _list_buckets_if(operator: str, key: str, value) -> dict:
    return {
        "Effect": "Allow",
        "Action": "s3:ListAllMyBuckets",
        "Resource": "*",
        "Condition": {operator: {key: value}},
    }


def test_identity_policy_conditions_are_evaluated(enforcing):
    enforcing.reset()
    far = conditional_user(
        enforcing, _list_buckets_if("IpAddress", "aws:SourceIp", "10.0.0.0/8"), name="far"
    )
    with pytest.raises(ClientError) as err:
        user_client(enforcing, "s3", far).list_buckets()
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    near = conditional_user(
        enforcing, _list_buckets_if("IpAddress", "aws:SourceIp", "127.0.0.0/8"), name="near"
    )
    user_client(enforcing, "s3", near).list_buckets()


def test_an_allow_whose_condition_fails_does_not_deny(enforcing):
    """A statement whose condition is false does not apply (moto denied outright)."""
    enforcing.reset()
    keys = conditional_user(
        enforcing,
        _list_buckets_if("StringLike", "aws:username", "someone-else*"),
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    )
    user_client(enforcing, "s3", keys).list_buckets()


def test_a_conditional_deny_applies_when_its_condition_holds(enforcing):
    enforcing.reset()
    keys = conditional_user(
        enforcing,
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "s3:CreateBucket",
            "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/cond*"}},
        },
    )
    s3 = user_client(enforcing, "s3", keys)
    s3.list_buckets()
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="denied-by-condition")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


@pytest.fixture
def local_names(monkeypatch):
    """Resolve LocalStack's names here as public DNS would (this machine is offline)."""
    import socket

    from crosstrain.sandbox.core import hosts

    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(hosts, "_patched", False)
    hosts.resolve_locally()


@pytest.mark.parametrize("style", ["virtual", "path"])
def test_localstack_s3_host_names_are_signed_and_checked(enforcing, local_names, style):
    """``BUCKET.s3.localhost.localstack.cloud``: the signature is checked against what the
    client signed (the sandbox serves it path-style), then the user's policy decides."""
    enforcing.reset()
    enforcing.client("s3").create_bucket(Bucket="vhost")
    keys = conditional_user(
        enforcing,
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"},
        name=f"vhost-{style}",
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost.localstack.cloud:{enforcing.port}",
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": style}),
    )
    s3.put_object(Bucket="vhost", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="vhost", Key="a/b.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket="vhost", Key="a/b.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
