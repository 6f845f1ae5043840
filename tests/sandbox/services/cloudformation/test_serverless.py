"""SAM templates deploy: the transform is expanded and the result is a working API + function."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from crosstrain.sandbox.services.cloudformation.serverless import SAM, expand

APP = Path(__file__).resolve().parents[3] / "scenarios" / "sam_app"


def _template(code_uri: str) -> str:
    text = (APP / "template.yaml").read_text().replace("CodeUri: src/", f"CodeUri: {code_uri}")
    return text


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(APP / "src" / "app.py", "app.py")
    return buffer.getvalue()


def _upload(sandbox) -> str:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="sam-artifacts")
    s3.put_object(Bucket="sam-artifacts", Key="counter.zip", Body=_zip())
    return "s3://sam-artifacts/counter.zip"


def _outputs(cf, stack: str) -> dict:
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), described
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def _visit(sandbox, api_id: str, page: str) -> dict:
    url = f"{sandbox.endpoint_url}/restapis/{api_id}/Prod/_user_request_/visits/{page}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def test_expansion_makes_plain_cloudformation():
    template = yaml.safe_load(_template("s3://bucket/code.zip").replace("!", "_"))
    template["Resources"]["CounterFunction"]["Properties"]["Environment"] = {}
    template["Resources"]["CounterFunction"]["Properties"]["Policies"] = ["AWSXrayWriteOnlyAccess"]
    template["Outputs"] = {}
    result = expand(template, {}, "us-east-1", "000000000000", "visits")
    types = {r["Type"] for r in result["Resources"].values()}
    assert "AWS::Lambda::Function" in types and "AWS::ApiGateway::RestApi" in types
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    role = next(r for r in result["Resources"].values() if r["Type"] == "AWS::IAM::Role")
    assert (
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess" in role["Properties"]["ManagedPolicyArns"]
    )


def test_a_sam_template_deploys_through_a_change_set_and_answers(sandbox):
    """What `aws cloudformation deploy` does with a packaged SAM template."""
    cf = sandbox.client("cloudformation")
    cf.create_change_set(
        StackName="visits",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=_template(_upload(sandbox)),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cf.execute_change_set(StackName="visits", ChangeSetName="first")
    outputs = _outputs(cf, "visits")
    assert outputs["VisitsApi"].endswith(".amazonaws.com/Prod/visits/")
    assert _visit(sandbox, outputs["ApiId"], "home") == {"page": "home", "visits": 1}
    assert _visit(sandbox, outputs["ApiId"], "home") == {"page": "home", "visits": 2}
    types = {
        r["ResourceType"]
        for r in cf.list_stack_resources(StackName="visits")["StackResourceSummaries"]
    }
    assert {"AWS::DynamoDB::Table", "AWS::ApiGateway::Stage", "AWS::Lambda::Permission"} <= types


def test_create_stack_expands_too(sandbox):
    cf = sandbox.client("cloudformation")
    cf.create_stack(
        StackName="visits2",
        TemplateBody=_template(_upload(sandbox)),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    outputs = _outputs(cf, "visits2")
    assert _visit(sandbox, outputs["ApiId"], "about") == {"page": "about", "visits": 1}


def test_an_invalid_sam_template_fails_with_the_translators_reason(sandbox):
    broken = {
        "Transform": SAM,
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": 3}}},
    }
    with pytest.raises(ClientError) as exc:
        sandbox.client("cloudformation").create_stack(
            StackName="broken", TemplateBody=json.dumps(broken)
        )
    assert f"Transform {SAM} failed with" in exc.value.response["Error"]["Message"]


def test_validate_template_accepts_a_sam_template(sandbox):
    cf = sandbox.client("cloudformation")
    answer = cf.validate_template(TemplateBody=_template("s3://sam-artifacts/counter.zip"))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
