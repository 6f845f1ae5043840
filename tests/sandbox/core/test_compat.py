"""Tools people already use reach the sandbox unchanged: boto3, aws CLI, awslocal,
localstack-client, pyarrow, and scripts that wait for LocalStack's health endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.core.ports import port_is_free

BIN = Path(sys.executable).parent


def run_cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK"))}
    full_env.update(env)
    return subprocess.run(args, env=full_env, capture_output=True, text=True, timeout=120)


def test_boto3_with_aws_endpoint_url_and_dummy_credentials(aws_env):
    import boto3

    s3 = boto3.client("s3")  # everything comes from the environment
    s3.create_bucket(Bucket="env-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["env-bucket"]


@pytest.mark.parametrize("tool", ["aws", "awslocal"])
def test_aws_cli_and_awslocal(sandbox, tool):
    exe = shutil.which(tool, path=str(BIN)) or shutil.which(tool)
    assert exe, f"{tool} is installed with the dev extra"
    env = sandbox.env()
    made = run_cli([exe, "s3", "mb", f"s3://{tool}-bucket"], env)
    assert made.returncode == 0, made.stderr
    listed = run_cli([exe, "s3api", "list-buckets", "--output", "json"], env)
    assert listed.returncode == 0, listed.stderr
    assert [b["Name"] for b in json.loads(listed.stdout)["Buckets"]] == [f"{tool}-bucket"]


def test_localstack_client_session_on_any_port(sandbox, monkeypatch):
    from localstack_client.session import Session

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", f"127.0.0.1:{sandbox.port}")
    s3 = Session().client("s3")
    s3.create_bucket(Bucket="lsc-bucket")
    assert sandbox.client("s3").head_bucket(Bucket="lsc-bucket")


@pytest.mark.skipif(not port_is_free(4566), reason="port 4566 is busy on this machine")
def test_localstack_client_session_on_the_default_port(monkeypatch):
    from localstack_client.session import Session

    for key in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST"):
        monkeypatch.delenv(key, raising=False)
    with sandbox_api.start(4566) as sb:
        Session().client("sqs").create_queue(QueueName="default-port-queue")
        assert sb.client("sqs").list_queues()["QueueUrls"][0].endswith("default-port-queue")


def test_pyarrow_s3_filesystem_reads_and_writes_parquet(sandbox):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import fs

    sandbox.client("s3").create_bucket(Bucket="lake")
    s3fs = fs.S3FileSystem(
        endpoint_override=sandbox.endpoint_url.removeprefix("http://"),
        scheme="http",
        access_key="test",
        secret_key="test",
        region="us-east-1",
    )
    table = pa.table({"customer": ["a", "b"], "spend": [1.5, 2.5]})
    pq.write_table(table, "lake/curated/part-0.parquet", filesystem=s3fs)
    assert pq.read_table("lake/curated/part-0.parquet", filesystem=s3fs).equals(table)


def test_crosstrain_health(sandbox):
    with urllib.request.urlopen(f"{sandbox.endpoint_url}/_crosstrain/health") as response:
        health = json.loads(response.read())
    assert health["service"] == "crosstrain-sandbox"
    assert health["pid"] == sandbox.pid


def test_localstack_compatible_health(sandbox):
    sandbox.client("s3").create_bucket(Bucket="health-bucket")
    with urllib.request.urlopen(f"{sandbox.endpoint_url}/_localstack/health") as response:
        health = json.loads(response.read())
    assert health["services"]["s3"] == "running"
    assert health["services"]["dynamodb"] == "available"


def test_localstack_init_readiness(sandbox):
    """``curl localhost:4566/_localstack/init/ready``: what start-up scripts wait on."""
    with urllib.request.urlopen(f"{sandbox.endpoint_url}/_localstack/init") as response:
        stages = json.loads(response.read())
    assert stages["completed"]["READY"] is True and stages["scripts"] == []
    with urllib.request.urlopen(f"{sandbox.endpoint_url}/_localstack/init/ready") as response:
        assert json.loads(response.read()) == {"completed": True, "scripts": []}
