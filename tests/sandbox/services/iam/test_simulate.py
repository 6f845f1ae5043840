"""iam:SimulatePrincipalPolicy and iam:SimulateCustomPolicy decide as AWS does, with moto's
policy evaluation: explicit deny wins, then allow, else implicit deny; matched statements and
missing context keys are reported."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from crosstrain.sandbox.services.iam.simulate import statements

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
S3_BUT_NO_DELETE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        ],
    },
    indent=2,
)


def decisions(answer) -> dict[str, str]:
    return {r["EvalActionName"]: r["EvalDecision"] for r in answer["EvaluationResults"]}


@pytest.fixture
def iam(sandbox):
    return sandbox.client("iam")


@pytest.fixture
def role_arn(iam):
    arn = iam.create_role(RoleName="sm", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="sm", PolicyName="s3", PolicyDocument=S3_BUT_NO_DELETE)
    return arn


def test_a_roles_policies_allow_deny_and_leave_out(iam, role_arn):
    answer = iam.simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=["s3:GetObject", "s3:DeleteBucket", "sqs:SendMessage"],
    )

    assert decisions(answer) == {
        "s3:GetObject": "allowed",
        "s3:DeleteBucket": "explicitDeny",
        "sqs:SendMessage": "implicitDeny",
    }
    allowed, denied, _ = answer["EvaluationResults"]
    assert allowed["MatchedStatements"] == [
        {
            "SourcePolicyId": "s3",
            "SourcePolicyType": "role",
            "StartPosition": {"Line": 4, "Column": 5},
            "EndPosition": {"Line": 8, "Column": 6},
        }
    ]
    assert denied["MatchedStatements"][0]["StartPosition"] == {"Line": 9, "Column": 5}


def test_attached_managed_policies_count(iam, role_arn):
    iam.attach_role_policy(
        RoleName="sm", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    )

    answer = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=["sagemaker:CreateTrainingJob"]
    )

    [result] = answer["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"][0]["SourcePolicyId"] == "AmazonSageMakerFullAccess"
    assert result["MatchedStatements"][0]["SourcePolicyType"] == "aws-managed"


def test_a_users_group_policies_count(iam):
    arn = iam.create_user(UserName="ana")["User"]["Arn"]
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="ana")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=S3_BUT_NO_DELETE)

    answer = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:ListBucket"])

    assert decisions(answer) == {"s3:ListBucket": "allowed"}
    assert answer["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyType"] == "group"


def test_custom_policy_per_resource_and_context(iam):
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/*",
            "Condition": {"StringEquals": {"aws:username": "ana"}},
        },
    }
    common = {
        "PolicyInputList": [json.dumps(policy)],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::data/x.csv", "arn:aws:s3:::other/x.csv"],
    }

    without = iam.simulate_custom_policy(**common)["EvaluationResults"]
    with_ana = iam.simulate_custom_policy(
        **common,
        ContextEntries=[
            {
                "ContextKeyName": "aws:username",
                "ContextKeyValues": ["ana"],
                "ContextKeyType": "string",
            }
        ],
    )["EvaluationResults"]

    assert [r["EvalDecision"] for r in without] == ["implicitDeny", "implicitDeny"]
    assert without[0]["MissingContextValues"] == ["aws:username"]
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in with_ana] == [
        ("arn:aws:s3:::data/x.csv", "allowed"),
        ("arn:aws:s3:::other/x.csv", "implicitDeny"),
    ]
    assert with_ana[0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"


def test_a_permissions_boundary_caps_what_is_allowed(iam):
    boundary = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    answer = iam.simulate_custom_policy(
        PolicyInputList=[S3_BUT_NO_DELETE],
        PermissionsBoundaryPolicyInputList=[json.dumps(boundary)],
        ActionNames=["s3:GetObject", "s3:PutObject"],
    )

    assert decisions(answer) == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}


def test_an_unknown_principal_is_no_such_entity(iam):
    with pytest.raises(ClientError) as caught:
        iam.simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::000000000000:role/ghost", ActionNames=["s3:GetObject"]
        )
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


def test_statement_positions_follow_the_documents_text():
    document = (
        '{"Version": "2012-10-17",\n "Statement": [\n  {"Effect": "Allow"},\n  {"Effect": "Deny"}]}'
    )

    found = statements(document)

    assert [(s.body["Effect"], s.start, s.end) for s in found] == [
        ("Allow", (3, 3), (3, 22)),
        ("Deny", (4, 3), (4, 21)),
    ]


# Every operator the enforcement evaluator knows (core.conditions): (operator, key, expected,
# a value that satisfies it, one that does not).
OPERATORS = [
    ("StringLike", "aws:username", "an*", "ana", "bob"),
    ("StringNotEquals", "aws:username", "bob", "ana", "bob"),
    ("StringEqualsIgnoreCase", "aws:username", "ANA", "ana", "bob"),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:user/team-*",
     "arn:aws:iam::000000000000:user/team-a", "arn:aws:iam::000000000000:user/other"),
    ("Bool", "aws:SecureTransport", "true", "true", "false"),
    ("NumericLessThan", "s3:max-keys", "10", "5", "50"),
    ("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z",
     "2026-12-07T00:00:00Z", "2019-01-01T00:00:00Z"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8", "10.1.2.3", "192.168.0.1"),
    ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", "192.168.0.1", "10.1.2.3"),
]  # fmt: skip


@pytest.mark.parametrize(("operator", "key", "expected", "good", "bad"), OPERATORS)
def test_every_condition_operator_enforcement_knows(iam, operator, key, expected, good, bad):
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {operator: {key: expected}},
        },
    }

    def decide(value: str) -> str:
        answer = iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(policy)],
            ActionNames=["s3:ListBucket"],
            ContextEntries=[{"ContextKeyName": key, "ContextKeyValues": [value],
                             "ContextKeyType": "string"}],
        )  # fmt: skip
        return decisions(answer)["s3:ListBucket"]

    assert (decide(good), decide(bad)) == ("allowed", "implicitDeny")


def test_a_negated_condition_holds_when_its_key_is_missing(iam):
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    }
    answer = iam.simulate_custom_policy(
        PolicyInputList=[S3_BUT_NO_DELETE, json.dumps(policy)], ActionNames=["s3:GetObject"]
    )
    assert decisions(answer) == {"s3:GetObject": "explicitDeny"}
    assert answer["EvaluationResults"][0]["MissingContextValues"] == ["aws:RequestedRegion"]
