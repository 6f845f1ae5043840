"""The environment the sandbox gives the processes it starts (Lambda and endpoint workers)."""

from __future__ import annotations

import io
import json
import os
import zipfile

from support import lambda_role

from crosstrain import sandbox as sandbox_api

HANDLER = """
import os
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket="enforce-ssl", Key="from-lambda", Body=b"x")
    return os.environ["AWS_ENDPOINT_URL"]
"""
DENY_HTTP = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::enforce-ssl", "arn:aws:s3:::enforce-ssl/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_workers_call_the_sandbox_over_https_when_tls_only():
    """An enforceSSL bucket refuses plain HTTP in tls-only mode; a Lambda's boto3 must pass."""
    strict = sandbox_api.start(env={**os.environ, "CROSSTRAIN_SECURE_TRANSPORT": "tls-only"})
    try:
        s3 = strict.client("s3")
        s3.create_bucket(Bucket="enforce-ssl")
        s3.put_bucket_policy(Bucket="enforce-ssl", Policy=json.dumps(DENY_HTTP))
        lam = strict.client("lambda")
        lam.create_function(
            FunctionName="secure",
            Runtime="python3.12",
            Role=lambda_role(strict, "lambda-role"),
            Handler="app.handler",
            Code={"ZipFile": _zip(HANDLER)},
        )
        response = lam.invoke(FunctionName="secure", Payload=b"{}")
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        assert payload.startswith("https://")
    finally:
        strict.stop()


LOCALSTACK_STYLE = """
import os
import boto3

def handler(event, context):
    url = f"https://localhost.localstack.cloud:{os.environ['EDGE_PORT']}"
    names = [b["Name"] for b in boto3.client("s3", endpoint_url=url).list_buckets()["Buckets"]]
    return {"names": names, "ca": bool(os.environ.get("AWS_CA_BUNDLE"))}
"""


def test_lambda_code_reaches_localstack_names_over_tls(sandbox):
    """Tutorial code builds ``https://localhost.localstack.cloud:4566`` itself: inside a worker
    the name resolves to the sandbox and the local CA is trusted."""
    sandbox.client("s3").create_bucket(Bucket="seen-from-lambda")
    lam = sandbox.client("lambda")
    lam.create_function(
        FunctionName="tutorial",
        Runtime="python3.12",
        Role=lambda_role(sandbox, "tutorial-role"),
        Handler="app.handler",
        Code={"ZipFile": _zip(LOCALSTACK_STYLE)},
    )
    response = lam.invoke(FunctionName="tutorial", Payload=b"{}")
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    assert payload == {"names": ["seen-from-lambda"], "ca": True}
