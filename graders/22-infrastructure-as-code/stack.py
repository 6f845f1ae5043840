"""What the checks of 22-infrastructure-as-code read: the lab's names, the stack, its template
(parsed with CloudFormation's short-form tags) and its live resources."""

import json

from botocore.exceptions import ClientError

from crosstrain.labs import checkkit
from crosstrain.labs.checkkit import error_code
from crosstrain.labs.checks import Fail

STACK, DEPLOY_BUCKET, CODE_KEY = "churn-serving", "churn-iac-deploy", "code/churn-scorer.zip"
TYPES = {
    "AWS::S3::Bucket": "the model bucket",
    "AWS::DynamoDB::Table": "the prediction log table",
    "AWS::IAM::Role": "the function's role",
    "AWS::Lambda::Function": "the scoring function",
}
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
NEW_MEMORY = 1024
# Live function settings compared with the template, to find changes made by hand.
DRIFT_FIELDS = ("MemorySize", "Timeout", "Runtime", "Handler")
FEATURES = checkkit.FEATURES


# -- the stack and its template ---------------------------------------------------------------


def template_loader():
    """A YAML loader that reads CloudFormation's short forms (!Ref, !GetAtt, !Sub, ...)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", construct)
    return Loader


def parse_template(body) -> dict:
    if isinstance(body, dict):
        return body
    try:
        return json.loads(body)
    except ValueError:
        import yaml

        return yaml.load(body, Loader=template_loader())  # noqa: S506 - a safe loader subclass


def stack(ctx) -> dict:
    """The stack churn-serving, which must exist and have deployed."""
    cfn = ctx.client("cloudformation")
    try:
        found = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    except ClientError as exc:
        if error_code(exc) != "ValidationError":
            raise
        names = [
            s["StackName"]
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ]
        raise Fail(f"there is no stack {STACK} (stacks: {', '.join(names) or 'none'})") from None
    return found


def resources(ctx) -> dict[str, list[dict]]:
    """The stack's resources by type."""
    found: dict[str, list[dict]] = {}
    cfn = ctx.client("cloudformation")
    for resource in cfn.describe_stack_resources(StackName=STACK)["StackResources"]:
        found.setdefault(resource["ResourceType"], []).append(resource)
    return found


def the(ctx, resource_type: str) -> dict:
    """The one resource of ``resource_type`` in the stack (logical and physical id)."""
    matches = resources(ctx).get(resource_type, [])
    if len(matches) != 1:
        raise Fail(f"the stack {STACK} has {len(matches)} resources of type {resource_type}")
    return matches[0]


def template(ctx) -> dict:
    body = ctx.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    return parse_template(body)


def properties(ctx, logical_id: str) -> dict:
    return template(ctx).get("Resources", {}).get(logical_id, {}).get("Properties", {}) or {}


def deployed(ctx) -> dict:
    """The stack, which must be in a completed state."""
    found = stack(ctx)
    if found["StackStatus"] not in DONE:
        reason = found.get("StackStatusReason") or "see describe_stack_events"
        raise Fail(
            f"the stack {STACK} is {found['StackStatus']}: {reason}. Read its events "
            "(describe_stack_events), fix template.yaml, delete the stack and create it again"
        )
    return found
