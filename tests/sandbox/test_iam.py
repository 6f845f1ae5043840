"""--enforce-iam: IAM users get what their policies allow; the admin key keeps working."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

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


def make_user(sb, actions: list[str]) -> dict:
    iam = sb.client("iam")
    iam.create_user(UserName="analyst")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    iam.put_user_policy(UserName="analyst", PolicyName="p", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName="analyst")["AccessKey"]


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
