"""A cloud engineer's CDK app (bucket + Python Lambda + SQS queue) deploys to the sandbox
unchanged, with ``cdklocal`` and with plain ``cdk`` pointed at it by ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from scenarios.tools import CDK_APP

pytestmark = pytest.mark.slow

# No update check, notices or telemetry: nothing leaves the machine.
QUIET = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "1",
    "NODE_NO_WARNINGS": "1",
}


def run_cdk(tool: str, args: list[str], env: dict, out: Path) -> str:
    # A CDK_HOME per test: the CDK caches the account id of an access key in ~/.cdk, and a cache
    # from a sandbox with another account sends its role lookups to that account.
    env = {**env, "CDK_HOME": str(out / "cdk-home")}
    command = [tool, *args, "--no-notices", "--output", str(out / "cdk.out")]
    done = subprocess.run(
        command, cwd=CDK_APP, env=env, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, f"{' '.join(command[:2])} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def sandbox_env(sandbox, stack: str, s3_endpoint: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({**sandbox.env(), **QUIET, "STACK_NAME": stack})
    if not s3_endpoint:
        env.pop("AWS_ENDPOINT_URL_S3")
    return env


def stack_outputs(sandbox, stack: str) -> dict:
    described = sandbox.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def assert_function_works(sandbox, outputs: dict) -> None:
    """Invoke the deployed function through boto3 and see what it did."""
    answer = sandbox.client("lambda").invoke(
        FunctionName=outputs["FunctionName"],
        Payload=json.dumps({"name": "day1.csv", "body": "id,amount\n1,9.5\n"}),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"stored": "uploads/day1.csv", "queued": True}
    body = sandbox.client("s3").get_object(Bucket=outputs["BucketName"], Key="uploads/day1.csv")
    assert body["Body"].read() == b"id,amount\n1,9.5\n"
    messages = sandbox.client("sqs").receive_message(QueueUrl=outputs["QueueUrl"])["Messages"]
    assert json.loads(messages[0]["Body"]) == {"key": "uploads/day1.csv"}


def test_the_app_synthesizes(cdk_tools, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run_cdk(cdk_tools["cdk"], ["synth", "--quiet"], {**env, **QUIET}, tmp_path)
    template = json.loads((tmp_path / "cdk.out" / "IngestStack.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::SQS::Queue"} <= types


def test_cdklocal_bootstraps_deploys_and_the_function_runs(sandbox, cdk_tools, tmp_path):
    env = sandbox_env(sandbox, "IngestStack")
    boot = run_cdk(cdk_tools["cdklocal"], ["bootstrap"], env, tmp_path)
    account = sandbox.client("sts").get_caller_identity()["Account"]
    assert f"aws://{account}/us-east-1 bootstrapped" in boot
    version = stack_outputs(sandbox, "CDKToolkit")["BootstrapVersion"]
    assert int(version) >= 20
    deployed = run_cdk(
        cdk_tools["cdklocal"], ["deploy", "--require-approval", "never"], env, tmp_path
    )
    assert "IngestStack.FunctionName" in deployed
    assert_function_works(sandbox, stack_outputs(sandbox, "IngestStack"))


def test_plain_cdk_with_aws_endpoint_url_deploys_and_destroys(sandbox, cdk_tools, tmp_path):
    """Only ``AWS_ENDPOINT_URL`` (no S3-specific endpoint): the SDK uses it for every service."""
    env = sandbox_env(sandbox, "PlainStack", s3_endpoint=False)
    run_cdk(cdk_tools["cdk"], ["bootstrap"], env, tmp_path)
    run_cdk(cdk_tools["cdk"], ["deploy", "--require-approval", "never"], env, tmp_path)
    outputs = stack_outputs(sandbox, "PlainStack")
    assert_function_works(sandbox, outputs)
    run_cdk(cdk_tools["cdk"], ["destroy", "--force"], env, tmp_path)
    functions = sandbox.client("lambda").list_functions()["Functions"]
    assert outputs["FunctionName"] not in {f["FunctionName"] for f in functions}


def test_over_https_a_tls_only_sandbox_still_takes_the_assets(cdk_tools, tmp_path):
    """aws:SecureTransport comes from the request's scheme: with only TLS counting as secure,
    the CDK talking HTTPS (trusting the sandbox's CA through AWS_CA_BUNDLE) uploads its assets
    past the bootstrap bucket's Deny and deploys, as on AWS."""
    from crosstrain import sandbox as sandbox_api

    strict = sandbox_api.start(env={**os.environ, "CROSSTRAIN_SECURE_TRANSPORT": "tls-only"})
    try:
        assert strict.ca_bundle, "the sandbox made no local CA"
        env = sandbox_env(strict, "TlsStack", s3_endpoint=False)
        env["AWS_ENDPOINT_URL"] = strict.endpoint_url.replace("http://", "https://", 1)
        run_cdk(cdk_tools["cdk"], ["bootstrap"], env, tmp_path)
        run_cdk(cdk_tools["cdk"], ["deploy", "--require-approval", "never"], env, tmp_path)
        outputs = stack_outputs(strict, "TlsStack")
        function = strict.client("lambda").get_function(FunctionName=outputs["FunctionName"])
        assert function["Configuration"]["Runtime"] == "python3.12"
        # (Not invoked: functions reach the sandbox over plain HTTP, which tls-only denies on
        # this enforceSSL bucket; see docs/sandbox/s3.md.)
    finally:
        strict.stop()
