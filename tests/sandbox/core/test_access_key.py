"""A sandbox started with ``token=`` serves only requests carrying it (issue #17's fallback where
no network namespace keeps other submissions' code off its port)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError

from crosstrain import sandbox
from crosstrain.sandbox.core.clients import make_client, make_session

HANDLER = """
import boto3
def handler(event, context):
    return sorted(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"])
"""


@pytest.fixture(scope="module")
def keyed():
    sb = sandbox.start(token="k" * 32)
    yield sb
    sb.stop()


def stranger(sb, service: str, key: str):
    return make_client(service, sb.endpoint_url, sb.region, make_session(sb.region, key=key))


def unsigned(sb, method: str, path: str) -> int:
    request = urllib.request.Request(sb.endpoint_url + path, method=method, data=b"")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_handle_and_its_environment_use_the_key(keyed):
    keyed.client("s3").create_bucket(Bucket="mine")
    assert keyed.env()["AWS_ACCESS_KEY_ID"] == "k" * 32
    assert keyed.reset()["reset"] is True  # internal routes: the handle sends the key


@pytest.mark.parametrize(
    ("service", "code"),
    [("s3", "InvalidAccessKeyId"), ("sts", "InvalidClientTokenId")],
)
def test_another_key_gets_an_aws_shaped_403(keyed, service, code):
    for key in ("test", "someone-else"):
        client = stranger(keyed, service, key)
        with pytest.raises(ClientError) as err:
            client.list_buckets() if service == "s3" else client.get_caller_identity()
        assert err.value.response["Error"]["Code"] == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_json_service_refuses_with_its_own_code(keyed):
    with pytest.raises(ClientError) as err:
        stranger(keyed, "dynamodb", "test").list_tables()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/_crosstrain/reset"), ("POST", "/moto-api/reset"), ("GET", "/_crosstrain/events")],
)
def test_unsigned_admin_calls_are_refused(keyed, method, path):
    assert unsigned(keyed, method, path) == 403


def test_health_still_answers_without_the_key(keyed):
    assert unsigned(keyed, "GET", "/_localstack/health") == 200
    assert keyed.alive()


def test_a_sandbox_without_a_key_serves_anyone(sandbox):
    assert stranger(sandbox, "s3", "anyone").list_buckets()["Buckets"] == []


def test_its_workers_call_back_with_the_key(keyed):
    keyed.client("s3").create_bucket(Bucket="seen-by-lambda")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", HANDLER)
    lam = keyed.client("lambda")
    lam.create_function(
        FunctionName="lister",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/any",
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="lister")
    answer = lam.invoke(FunctionName="lister", Payload=b"{}")
    assert "seen-by-lambda" in json.loads(answer["Payload"].read())


def test_a_deployed_apis_public_url_needs_no_key(keyed):
    # Anyone may call a public API on AWS: the runtime answers (no such API), not the gate.
    assert unsigned(keyed, "GET", "/restapis/nosuchapi/prod/_user_request_/predict") != 403
