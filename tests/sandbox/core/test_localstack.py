"""LocalStack's conventions hold by default: account 000000000000, HTTPS on the sandbox port with
a local CA, ``*.localhost.localstack.cloud`` host names (S3 path and virtual-host styles)."""

from __future__ import annotations

import json
import ssl
import urllib.request

import boto3
import pytest
from botocore.config import Config

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.core import hosts

KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


@pytest.fixture
def local_names(monkeypatch):
    """Resolve LocalStack's names here as public DNS would (this machine is offline)."""
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(hosts, "_patched", False)
    hosts.resolve_locally()


def client(service: str, endpoint: str, config: Config | None = None, **kwargs):
    config = Config(retries={"max_attempts": 1}).merge(config or Config())
    return boto3.client(service, endpoint_url=endpoint, config=config, **KEYS, **kwargs)


def test_default_account_is_localstacks(sandbox):
    assert sandbox.client("sts").get_caller_identity()["Account"] == "000000000000"
    arn = sandbox.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    assert "/000000000000/q" in arn


def test_moto_account_is_an_option(tmp_path):
    with sandbox_api.start(account="123456789012", tls_dir=tmp_path) as other:
        assert other.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_https_on_the_same_port_with_a_local_ca(sandbox, local_names):
    bundle = sandbox.ca_bundle
    https = f"https://localhost.localstack.cloud:{sandbox.port}"
    s3 = client("s3", https, verify=bundle)
    s3.create_bucket(Bucket="over-tls")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["over-tls"]
    # the same port still speaks plain HTTP
    assert sandbox.client("s3").head_bucket(Bucket="over-tls")


def test_https_is_refused_to_a_client_that_does_not_trust_the_ca(sandbox, local_names):
    context = ssl.create_default_context()  # the system's CAs, not ours
    url = f"https://localhost.localstack.cloud:{sandbox.port}/_localstack/health"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, context=context, timeout=5)  # noqa: S310
    assert sandbox.alive()  # a failed handshake costs the sandbox nothing


def test_the_wsgi_scheme_follows_the_connection(sandbox, local_names):
    context = ssl.create_default_context(cafile=sandbox.ca_bundle)
    url = f"https://127.0.0.1:{sandbox.port}/_localstack/health"
    with urllib.request.urlopen(url, context=context, timeout=5) as answer:  # noqa: S310
        assert json.loads(answer.read())["edition"] == "crosstrain"


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_s3_host_names_of_localstack(sandbox, local_names, style):
    endpoint = f"http://s3.localhost.localstack.cloud:{sandbox.port}"
    s3 = client("s3", endpoint, config=Config(s3={"addressing_style": style}))
    s3.create_bucket(Bucket=f"{style}-bucket")
    s3.put_object(Bucket=f"{style}-bucket", Key="a/b.txt", Body=b"hello")
    body = sandbox.client("s3").get_object(Bucket=f"{style}-bucket", Key="a/b.txt")["Body"]
    assert body.read() == b"hello"


def test_is_local_name():
    assert hosts.is_local_name("localhost.localstack.cloud:4566")
    assert hosts.is_local_name("abc.execute-api.localhost.localstack.cloud")
    assert not hosts.is_local_name("localstack.cloud")
    assert not hosts.is_local_name("evil-localhost.localstack.cloud.example.com")


STACK = {
    "Resources": {"Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}}},
    "Outputs": {
        "QueueArn": {"Value": {"Fn::GetAtt": ["Jobs", "Arn"]}},
        "QueueUrl": {"Value": {"Ref": "Jobs"}},
    },
}


def test_a_stack_deployed_over_tls_on_localstack_names(sandbox, local_names):
    """A LocalStack sample's stack through ``https://localhost.localstack.cloud:4566``: ARNs in
    account 000000000000, and the queue answers on the same TLS endpoint."""
    https = f"https://localhost.localstack.cloud:{sandbox.port}"
    cf = client("cloudformation", https, verify=sandbox.ca_bundle)
    cf.create_stack(StackName="tls-stack", TemplateBody=json.dumps(STACK))
    stack = cf.describe_stacks(StackName="tls-stack")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:jobs"
    sqs = client("sqs", https, verify=sandbox.ca_bundle)
    sqs.send_message(QueueUrl=outputs["QueueUrl"], MessageBody="hello")
    received = sqs.receive_message(QueueUrl=outputs["QueueUrl"])["Messages"]
    assert [m["Body"] for m in received] == ["hello"]
