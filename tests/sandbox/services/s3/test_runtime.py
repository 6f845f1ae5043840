"""Bucket policies in a running sandbox: conditions decide, every S3 request is checked."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from crosstrain import sandbox as sandbox_api


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _deny(action, resource, condition=None) -> dict:
    statement = {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


DENY_HTTP = _deny(
    "s3:*",
    ["arn:aws:s3:::policy-bucket", "arn:aws:s3:::policy-bucket/*"],
    {"Bool": {"aws:SecureTransport": "false"}},
)


@pytest.fixture
def s3(sandbox):
    client = sandbox.client("s3")
    client.create_bucket(Bucket="policy-bucket")
    return client


def test_a_secure_transport_deny_lets_the_sandbox_endpoint_through(s3):
    """The CDK bootstrap bucket's statement: uploads and reads work (the default)."""
    s3.put_bucket_policy(Bucket="policy-bucket", Policy=_policy(DENY_HTTP))
    s3.put_object(Bucket="policy-bucket", Key="asset.zip", Body=b"zip")
    assert s3.get_object(Bucket="policy-bucket", Key="asset.zip")["Body"].read() == b"zip"
    assert s3.list_objects_v2(Bucket="policy-bucket")["KeyCount"] == 1


def test_tls_only_denies_plain_http_as_aws_does(tmp_path):
    import os

    env = {**os.environ, "CROSSTRAIN_SECURE_TRANSPORT": "tls-only"}
    strict = sandbox_api.start(env=env)
    try:
        s3 = strict.client("s3")
        s3.create_bucket(Bucket="policy-bucket")
        s3.put_object(Bucket="policy-bucket", Key="before", Body=b"x")
        s3.put_bucket_policy(Bucket="policy-bucket", Policy=_policy(DENY_HTTP))
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket="policy-bucket", Key="asset.zip", Body=b"zip")
        assert _code(exc) == "AccessDenied"
        with pytest.raises(ClientError) as exc:
            s3.list_objects_v2(Bucket="policy-bucket")
        assert _code(exc) == "AccessDenied"
        assert strict.health()["runtimes"]["s3"]["secure_transport"] == "tls-only"
    finally:
        strict.stop()


def test_source_ip_conditions_see_the_callers_address(s3):
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(
            _deny(
                "s3:PutObject",
                "arn:aws:s3:::policy-bucket/*",
                {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            )
        ),
    )
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="policy-bucket", Key="k", Body=b"x")
    assert _code(exc) == "AccessDenied"
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(
            _deny(
                "s3:PutObject",
                "arn:aws:s3:::policy-bucket/*",
                {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            )
        ),
    )
    s3.put_object(Bucket="policy-bucket", Key="k", Body=b"x")


def test_prefix_conditions_apply_to_listing(s3):
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(
            _deny(
                "s3:ListBucket",
                "arn:aws:s3:::policy-bucket",
                {"StringNotLike": {"s3:prefix": "public/*"}},
            )
        ),
    )
    assert s3.list_objects_v2(Bucket="policy-bucket", Prefix="public/")["KeyCount"] == 0
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="policy-bucket")
    assert _code(exc) == "AccessDenied"


def test_principal_account_conditions_see_the_callers_account(sandbox, s3):
    account = sandbox.client("sts").get_caller_identity()["Account"]
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(
            _deny(
                "s3:GetObject",
                "arn:aws:s3:::policy-bucket/*",
                {"StringEquals": {"aws:PrincipalAccount": account}},
            )
        ),
    )
    s3.put_object(Bucket="policy-bucket", Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="policy-bucket", Key="k")
    assert _code(exc) == "AccessDenied"


def test_bucket_requests_are_checked_too(s3):
    """moto checked object requests only; DeleteBucket is denied like on AWS."""
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(_deny("s3:DeleteBucket", "arn:aws:s3:::policy-bucket")),
    )
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="policy-bucket")
    assert _code(exc) == "AccessDenied"


def test_an_unknown_condition_key_is_announced(sandbox, s3):
    s3.put_bucket_policy(
        Bucket="policy-bucket",
        Policy=_policy(
            _deny(
                "s3:GetObject",
                "arn:aws:s3:::policy-bucket/*",
                {"StringEquals": {"s3:FutureKey": "x"}},
            )
        ),
    )
    s3.put_object(Bucket="policy-bucket", Key="k", Body=b"x")
    assert s3.get_object(Bucket="policy-bucket", Key="k")["Body"].read() == b"x"
    notices = sandbox.health()["notices"]
    assert any("s3:FutureKey" in n and "policy-bucket" in n for n in notices)


def test_anonymous_reads_follow_the_policy(sandbox, s3):
    import urllib.error
    import urllib.request

    s3.put_object(Bucket="policy-bucket", Key="page.html", Body=b"<p>hi</p>")
    url = f"{sandbox.endpoint_url}/policy-bucket/page.html"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=10)
    assert exc.value.code == 403
    allow = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::policy-bucket/*",
    }
    s3.put_bucket_policy(Bucket="policy-bucket", Policy=_policy(allow))
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"<p>hi</p>"


@pytest.mark.parametrize(
    ("kind", "field", "arn"),
    [
        ("QueueConfigurations", "QueueArn", ""),  # moto: 500 (AttributeError)
        ("QueueConfigurations", "QueueArn", "arn:aws:sqs:us-east-1:000000000000"),
        ("TopicConfigurations", "TopicArn", "arn:aws:sns:us-east-1::topic"),
        (
            "LambdaFunctionConfigurations",
            "LambdaFunctionArn",
            "arn:aws:lambda:us-east-1:000000000000:f",
        ),
    ],
)
def test_a_malformed_notification_arn_answers_400(s3, kind, field, arn):
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(
            Bucket="policy-bucket",
            NotificationConfiguration={kind: [{field: arn, "Events": ["s3:ObjectCreated:*"]}]},
        )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _code(exc) == "InvalidArgument"


def test_a_well_formed_notification_arn_is_stored(sandbox, s3):
    queue = sandbox.client("sqs").create_queue(QueueName="uploads")["QueueUrl"]
    arn = sandbox.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    config = {
        "QueueConfigurations": [
            {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
        ]
    }
    s3.put_bucket_notification_configuration(
        Bucket="policy-bucket", NotificationConfiguration=config
    )
    stored = s3.get_bucket_notification_configuration(Bucket="policy-bucket")
    assert stored["QueueConfigurations"][0]["QueueArn"] == arn["Attributes"]["QueueArn"]


def test_head_object_keeps_its_length_through_the_policy_check(s3):
    """Requests the S3 runtime forwards to moto answer exactly as moto does (HEAD included)."""
    s3.put_object(Bucket="policy-bucket", Key="data.parquet", Body=b"x" * 1234)
    assert s3.head_object(Bucket="policy-bucket", Key="data.parquet")["ContentLength"] == 1234
