"""AWS-managed policies exist when named; Lambda takes a role that was never created, unless IAM
is enforced (then the role must exist, as on AWS)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError
from support import LAMBDA_TRUST

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.services.iam.runtime import named_policies

TRUST = json.dumps(LAMBDA_TRUST)


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'hi'\n")
    return buffer.getvalue()


def test_managed_policies_attach_and_describe(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    for arn in (
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ):
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        assert iam.get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn
    attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == [
        "AWSLambdaBasicExecutionRole",
        "AmazonSageMakerFullAccess",
    ]


def test_unknown_managed_policy_is_refused_as_aws_does(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/NoSuchThing")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_managed_policies_named_in_a_template(sandbox):
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "from-stack",
                    "AssumeRolePolicyDocument": json.loads(TRUST),
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
                },
            }
        }
    }
    cfn = sandbox.client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    attached = sandbox.client("iam").list_attached_role_policies(RoleName="from-stack")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AmazonS3ReadOnlyAccess"]


def test_named_policies_finds_paths_and_names():
    body = b'{"a": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", ' + (
        b'"b": ":iam::aws:policy/AdministratorAccess"}'
    )
    assert named_policies(body) == {
        "/service-role/AWSLambdaBasicExecutionRole",
        "/AdministratorAccess",
    }
    assert named_policies(b"no policy here") == set()


def test_lambda_accepts_a_role_that_was_never_created(sandbox):
    lam = sandbox.client("lambda")
    for account in ("000000000000", "123456789012"):
        name = f"f{account[:3]}"
        role = f"arn:aws:iam::{account}:role/never-made"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code()},
        )
        assert lam.get_function(FunctionName=name)["Configuration"]["Role"] == role
        assert lam.invoke(FunctionName=name)["Payload"].read() == b'"hi"'


def test_with_enforce_iam_the_role_must_exist(tmp_path):
    with sandbox_api.start(enforce_iam=True, tls_dir=tmp_path) as enforced:
        lam = enforced.client("lambda")
        with pytest.raises(ClientError) as caught:
            lam.create_function(
                FunctionName="f",
                Runtime="python3.11",
                Role="arn:aws:iam::000000000000:role/never-made",
                Handler="app.handler",
                Code={"ZipFile": code()},
            )
        assert "cannot be assumed" in caught.value.response["Error"]["Message"]


def test_with_enforce_iam_the_role_must_trust_lambda(tmp_path):
    """AWS refuses a role whose trust policy does not let lambda.amazonaws.com assume it."""
    ec2_trust = json.loads(TRUST)
    ec2_trust["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
    with sandbox_api.start(enforce_iam=True, tls_dir=tmp_path) as enforced:
        iam = enforced.client("iam")
        ec2_role = iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=json.dumps(ec2_trust))
        lambda_role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)
        lam = enforced.client("lambda")
        common = {"Runtime": "python3.11", "Handler": "app.handler", "Code": {"ZipFile": code()}}
        with pytest.raises(ClientError) as caught:
            lam.create_function(FunctionName="f", Role=ec2_role["Role"]["Arn"], **common)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert "cannot be assumed by Lambda" in caught.value.response["Error"]["Message"]
        lam.create_function(FunctionName="g", Role=lambda_role["Role"]["Arn"], **common)
