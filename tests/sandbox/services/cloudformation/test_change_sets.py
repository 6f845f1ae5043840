"""Stacks made through change sets look like stacks made directly: outputs, events, parameters."""

from __future__ import annotations

import json

TEMPLATE = {
    "Parameters": {"Name": {"Type": "String", "Default": "first"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}},
        "Version": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Name": "/cdk-bootstrap/v", "Value": "21"},
        },
    },
    "Outputs": {
        "BootstrapVersion": {"Value": {"Fn::GetAtt": ["Version", "Value"]}},
        "QueueName": {"Value": {"Fn::GetAtt": ["Queue", "QueueName"]}},
    },
}
UPDATED = {
    **TEMPLATE,
    "Resources": {**TEMPLATE["Resources"], "Other": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {"Named": {"Value": {"Ref": "Name"}}},
}


def _run_change_set(cf, kind: str, name: str = "first", template=TEMPLATE) -> dict:
    cf.create_change_set(
        StackName="boot",
        ChangeSetName=f"cs-{kind.lower()}-{name}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Name", "ParameterValue": name}],
    )
    cf.execute_change_set(StackName="boot", ChangeSetName=f"cs-{kind.lower()}-{name}")
    return cf.describe_stacks(StackName="boot")["Stacks"][0]


def _outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_created_change_set_stack_has_its_outputs(sandbox):
    stack = _run_change_set(sandbox.client("cloudformation"), "CREATE")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert _outputs(stack) == {"BootstrapVersion": "21", "QueueName": "first"}


def test_an_updating_change_set_refreshes_outputs(sandbox):
    cf = sandbox.client("cloudformation")
    _run_change_set(cf, "CREATE")
    stack = _run_change_set(cf, "UPDATE", name="second", template=UPDATED)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _outputs(stack) == {"Named": "second"}


def test_each_resource_has_events(sandbox):
    cf = sandbox.client("cloudformation")
    _run_change_set(cf, "CREATE")
    events = cf.describe_stack_events(StackName="boot")["StackEvents"]
    seen = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    for logical_id in ("Queue", "Version"):
        assert (logical_id, "CREATE_IN_PROGRESS") in seen
        assert (logical_id, "CREATE_COMPLETE") in seen
    newest = events[0]
    assert (newest["LogicalResourceId"], newest["ResourceStatus"]) == ("boot", "CREATE_COMPLETE")


def test_resources_whose_condition_is_false_are_not_listed(sandbox):
    cf = sandbox.client("cloudformation")
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Kept": {"Type": "AWS::SQS::Queue"},
            "Skipped": {"Type": "AWS::SQS::Queue", "Condition": "Never"},
        },
    }
    cf.create_stack(StackName="conditional", TemplateBody=json.dumps(template))
    listed = cf.list_stack_resources(StackName="conditional")["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in listed] == ["Kept"]
    described = cf.describe_stack_resources(StackName="conditional")["StackResources"]
    assert [r["LogicalResourceId"] for r in described] == ["Kept"]


def test_deleting_a_stack_detaches_its_roles_managed_policies(sandbox):
    cf = sandbox.client("cloudformation")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = sandbox.client("iam")
    iam.create_policy(
        PolicyName="mine",
        PolicyDocument=json.dumps(
            {**trust, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    account = sandbox.client("sts").get_caller_identity()["Account"]
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "with-managed",
            "AssumeRolePolicyDocument": trust,
            "ManagedPolicyArns": [f"arn:aws:iam::{account}:policy/mine"],
        },
    }
    cf.create_stack(StackName="roles", TemplateBody=json.dumps({"Resources": {"Role": role}}))
    attached = iam.list_attached_role_policies(RoleName="with-managed")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["mine"]
    cf.delete_stack(StackName="roles")
    summaries = cf.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in summaries if s["StackName"] == "roles"] == ["DELETE_COMPLETE"]
    assert "with-managed" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def _parameters(stack: dict) -> dict:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def test_an_executed_change_set_sets_the_stacks_parameters(sandbox):
    cf = sandbox.client("cloudformation")
    _run_change_set(cf, "CREATE")
    stack = _run_change_set(cf, "UPDATE", name="second")
    assert _parameters(stack) == {"Name": "second"}


def test_a_change_set_repeating_the_stacks_parameters_has_no_changes(sandbox):
    cf = sandbox.client("cloudformation")
    _run_change_set(cf, "CREATE")
    _run_change_set(cf, "UPDATE", name="second")
    cf.create_change_set(
        StackName="boot",
        ChangeSetName="again",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "second"}],
    )
    again = cf.describe_change_set(StackName="boot", ChangeSetName="again")
    assert again["Status"] == "FAILED"
    assert "didn't contain changes" in again["StatusReason"]
