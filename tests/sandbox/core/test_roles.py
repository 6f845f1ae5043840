"""--enforce-iam: workers call as their role, and every decision lands in the call log."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.core.roles import role_of, trusts

HANDLER = """
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    s3.put_object(Bucket="data", Key="scores/" + event["id"], Body=b"1")
    try:
        s3.get_object(Bucket="data", Key="train/x.csv")
        return "read train"
    except Exception as exc:
        return type(exc).__name__ + ":" + str(exc)[:80]
"""


def trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def deploy(sb, role_name: str, service: str) -> None:
    iam = sb.client("iam")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust(service))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/scores/*"}
        ],
    }
    iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps(policy))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    sb.client("lambda").create_function(
        FunctionName="score",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )


def invoke(sb, event: dict) -> str:
    out = sb.client("lambda").invoke(FunctionName="score", Payload=json.dumps(event).encode())
    return json.loads(out["Payload"].read())


@pytest.fixture(scope="module")
def enforcing():
    with sandbox_api.start(enforce_iam=True) as sb:
        yield sb


def test_a_function_calls_as_its_role_and_the_log_says_what_it_did(enforcing):
    enforcing.reset()
    enforcing.client("s3").create_bucket(Bucket="data")
    deploy(enforcing, "scorer", "lambda.amazonaws.com")
    answer = invoke(enforcing, {"id": "c1.json"})
    assert "AccessDenied" in answer
    calls = enforcing.decisions(role="role/scorer")
    seen = {(c["action"], c["resource"], c["allowed"]) for c in calls}
    assert ("s3:PutObject", "arn:aws:s3:::data/scores/c1.json", True) in seen
    assert ("s3:GetObject", "arn:aws:s3:::data/train/x.csv", False) in seen
    assert all(c["role"] == "arn:aws:iam::000000000000:role/scorer" for c in calls)


def test_a_role_that_does_not_trust_the_service_gets_nothing(enforcing):
    enforcing.reset()
    enforcing.client("s3").create_bucket(Bucket="data")
    deploy(enforcing, "wrong-trust", "lambda.amazonaws.com")  # CreateFunction checks trust
    iam = enforcing.client("iam")  # ... so take it away afterwards, before the first invoke
    iam.update_assume_role_policy(
        RoleName="wrong-trust", PolicyDocument=trust("sagemaker.amazonaws.com")
    )
    answer = invoke(enforcing, {"id": "c2.json"})
    assert "PutObject" in answer["errorMessage"], answer  # the function's first call failed
    assert "InvalidAccessKeyId" in answer["errorMessage"] or "invalid" in answer["errorMessage"]
    (refused,) = enforcing.decisions(action="sts:AssumeRole")
    assert refused["allowed"] is False
    assert "does not allow lambda.amazonaws.com" in refused["note"]
    assert enforcing.client("s3").list_objects_v2(Bucket="data").get("KeyCount") == 0


def test_a_reset_clears_the_log(enforcing):
    enforcing.reset()
    assert enforcing.calls() == [] and enforcing.decisions() == []


def test_trust_and_role_helpers():
    assert trusts(trust("lambda.amazonaws.com"), "lambda.amazonaws.com")
    assert not trusts(trust("lambda.amazonaws.com"), "sagemaker.amazonaws.com")
    session = "arn:aws:sts::000000000000:assumed-role/scorer/score"
    assert role_of(session) == "arn:aws:iam::000000000000:role/scorer"


def test_sandbox_calls_lists_the_denied_calls(enforcing):
    from click.testing import CliRunner

    from crosstrain.cli import main

    enforcing.reset()
    enforcing.client("s3").create_bucket(Bucket="data")
    deploy(enforcing, "scorer", "lambda.amazonaws.com")
    invoke(enforcing, {"id": "c3.json"})
    port = str(enforcing.port)
    listed = CliRunner().invoke(main, ["sandbox", "calls", "--port", port, "--denied", "--json"])
    assert listed.exit_code == 0, listed.output
    (denied,) = json.loads(listed.output)
    assert (denied["action"], denied["allowed"]) == ("s3:GetObject", False)
    table = CliRunner().invoke(main, ["sandbox", "calls", "--port", port, "--role", "scorer"])
    assert "s3:PutObject" in table.output  # the scoring function's call, with its decision
