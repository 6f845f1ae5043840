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


HTTP_API_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code_uri}
      Handler: app.handler
      Runtime: python3.12
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello/{{name}}
            Method: get
        Anything:
          Type: HttpApi
Outputs:
  ApiId:
    Value: !Ref ServerlessHttpApi
  Url:
    Value: !Sub "https://${{ServerlessHttpApi}}.execute-api.${{AWS::Region}}.amazonaws.com/"
"""
GREETER = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(
        {"route": event["routeKey"], "params": event.get("pathParameters")})}
"""


def _fetch_http_api(sandbox, api_id: str, path: str) -> dict:
    url = f"{sandbox.endpoint_url}/restapis/{api_id}/$default/_user_request_{path}"
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
        return json.loads(answer.read())


def test_an_http_api_event_deploys_and_answers(sandbox):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="sam-http")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", GREETER)
    s3.put_object(Bucket="sam-http", Key="greeter.zip", Body=buffer.getvalue())
    cf = sandbox.client("cloudformation")
    cf.create_stack(
        StackName="greeter",
        TemplateBody=HTTP_API_TEMPLATE.format(code_uri="s3://sam-http/greeter.zip"),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    outputs = _outputs(cf, "greeter")
    api_id = outputs["ApiId"]
    assert outputs["Url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/"
    assert _fetch_http_api(sandbox, api_id, "/hello/ana") == {
        "route": "GET /hello/{name}",
        "params": {"name": "ana"},
    }
    assert _fetch_http_api(sandbox, api_id, "/other")["route"] == "$default"
    stages = sandbox.client("apigatewayv2").get_stages(ApiId=api_id)["Items"]
    assert [s["StageName"] for s in stages] == ["$default"]
    cf.delete_stack(StackName="greeter")
    assert sandbox.client("apigatewayv2").get_apis()["Items"] == []
