"""The call log: who called what, on which resource, with what result, through real clients."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from crosstrain.sandbox.core import callparts
from crosstrain.sandbox.core.calllog import CallLog
from crosstrain.sandbox.core.callparts import source_of

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


def test_calls_name_operation_principal_resource_and_source(sandbox):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="raw/a.csv", Body=b"x")
    s3.put_bucket_tagging(Bucket="lake", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    with pytest.raises(ClientError):
        s3.get_object(Bucket="lake", Key="missing.csv")
    ddb = sandbox.client("dynamodb")
    ddb.create_table(
        TableName="scores",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    calls = sandbox.calls()
    ops = [(c["service"], c["operation"]) for c in calls]
    assert ops[:5] == [
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "PutBucketTagging"),
        ("s3", "GetObject"),
        ("dynamodb", "CreateTable"),
    ]
    put = calls[1]
    assert put["resource"] == "arn:aws:s3:::lake/raw/a.csv"
    assert put["principal"].endswith(":root") and put["result"] == "ok"
    assert put["source"] == "sdk"
    assert calls[3]["result"] == "error" and calls[3]["status"] == 404
    assert calls[4]["resource"].endswith(":table/scores")
    assert sandbox.calls(service="dynamodb", limit=1)[0]["operation"] == "CreateTable"


def test_an_assumed_role_is_the_principal_of_its_calls(sandbox):
    iam, sts = sandbox.client("iam"), sandbox.client("sts")
    role = iam.create_role(RoleName="scorer", AssumeRolePolicyDocument=json.dumps(TRUST))
    creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="job")["Credentials"]
    import boto3

    as_role = boto3.client(
        "sqs",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    as_role.create_queue(QueueName="bursts")
    row = sandbox.calls(principal="assumed-role/scorer")[-1]
    assert row["operation"] == "CreateQueue"
    assert row["principal"].endswith(":assumed-role/scorer/job")


def test_the_cli_is_told_apart_and_sandbox_reset_empties_the_log(sandbox, tmp_path):
    env = {**sandbox.env(), "PATH": f"{sys.prefix}/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(
        [f"{sys.prefix}/bin/aws", "s3api", "list-buckets"], env=env, check=True, capture_output=True
    )
    row = sandbox.calls(service="s3")[-1]
    assert (row["operation"], row["source"]) == ("ListBuckets", "cli")
    sandbox.reset()
    assert sandbox.calls() == []


def test_the_crosstrain_cli_prints_the_log(sandbox):
    sandbox.client("sqs").create_queue(QueueName="q1")
    port = sandbox.endpoint_url.rsplit(":", 1)[1]
    out = subprocess.run(
        [sys.executable, "-m", "crosstrain.cli", "sandbox", "calls", "--port", port, "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(r["operation"] == "CreateQueue" for r in json.loads(out))
    table = subprocess.run(
        [sys.executable, "-m", "crosstrain.cli", "sandbox", "calls", "--port", port],
        capture_output=True,
        text=True,
    )
    assert table.returncode == 0 and "CreateQueue" in table.stdout


def _request(path="/lake/k", method="PUT", ua="Boto3/1.40 botocore/1.40"):
    return Request(
        EnvironBuilder(path=path, method=method, headers={"User-Agent": ua}).get_environ()
    )


def test_a_full_log_folds_the_oldest_calls_into_a_summary():
    log = CallLog(size=3)
    for _ in range(5):
        log.record(_request(), (None, "us-east-1", "s3"), 200, time.perf_counter())
    assert len(log.query()) == 3
    summary = log.summary()
    assert summary["folded"] == 2
    assert summary["older"] == [
        {
            "service": "s3",
            "operation": "PutObject",
            "principal": "anonymous",
            "result": "ok",
            "count": 2,
        }
    ]


def test_the_log_survives_a_save_and_load(tmp_path):
    log = CallLog(size=10)
    log.record(_request(), ("AKIAX", "eu-west-1", "s3"), 403, time.perf_counter())
    log.save(tmp_path / "calls.json")
    again = CallLog(size=10)
    again.load(tmp_path / "calls.json")
    assert again.query() == log.query()


@pytest.mark.parametrize(
    "agent, source",
    [
        ("aws-cli/2.15.0 Python/3.11", "cli"),
        ("Boto3/1.40.0 md/Botocore#1.40.0 crosstrain-check", "check"),
        ("aws-sdk-js/2.1 aws-cdk/2.100", "cdk"),
        ("Boto3/1.44 botocore/1.44", "sdk"),
        ("curl/8", "other"),
    ],
)
def test_source_from_user_agent(agent, source):
    assert source_of(agent) == source


def test_rest_operations_come_from_the_botocore_model():
    assert callparts.operation("s3", "GET", "/lake", ("tagging",)) == "GetBucketTagging"
    assert callparts.operation("s3", "GET", "/lake", ("list-type",)) == "ListObjectsV2"
    assert (
        callparts.operation("lambda", "POST", "/2015-03-31/functions/f/invocations", ()) == "Invoke"
    )
    assert callparts.operation("nosuchservice", "GET", "/x", ()) == "GET /x"
