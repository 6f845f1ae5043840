"""What moto's change sets and models leave out, filled in as CloudFormation does it."""

from __future__ import annotations


def finish_change_set(stack, change_set, parsed: dict) -> None:
    """What moto's ``execute_change_set`` leaves out: the stack takes the change set's template,
    description, parameters and outputs (CDK reads ``BootstrapVersion`` from them), and each
    resource gets the event AWS shows for it. With the parameters recorded, a later change set
    that repeats them "didn't contain changes", as on AWS."""
    from datetime import timedelta

    from moto.cloudformation.models import Event
    from moto.core.utils import utcnow

    verb = change_set.change_set_type
    before = stack.template_dict.get("Resources") or {} if verb == "UPDATE" else {}
    stack.template_dict = parsed
    stack.description = parsed.get("Description")
    stack.parameters = dict(change_set.parameters or {})
    stack.output_map = stack._create_output_map()
    final = stack.events.pop() if stack.events else None
    start = len(stack.events)
    resources = stack.resource_map._parsed_resources
    for logical_id, resource in (parsed.get("Resources") or {}).items():
        made = resources.get(logical_id)
        if made is None or not isinstance(resource, dict) or before.get(logical_id) == resource:
            continue
        status = "UPDATE_COMPLETE" if logical_id in before else "CREATE_COMPLETE"
        physical = getattr(made, "physical_resource_id", None) or ""
        for state in (status.replace("COMPLETE", "IN_PROGRESS"), status):
            stack.events.append(
                Event(
                    stack.stack_id,
                    stack.name,
                    logical_id,
                    str(physical),
                    resource.get("Type", ""),
                    state,
                    None,
                    None,
                )
            )
    if final is not None:
        stack.events.append(final)
    now = utcnow()  # distinct, ordered times: clients (CDK) sort events by time
    for step, event in enumerate(stack.events[start:]):
        event.timestamp = now + timedelta(milliseconds=step)


def patch_responses() -> None:
    """``CreateChangeSet`` with nothing new makes a ``FAILED`` change set ("didn't contain
    changes"), as AWS does; moto refused the call with UpdateStack's "No updates are to be
    performed." (UpdateStack keeps that answer: it is AWS's there)."""
    from moto.cloudformation.responses import CloudFormationResponse

    validate = CloudFormationResponse._validate_different_update

    def _validate_different_update(self, incoming_params, stack_body, old_stack):
        if self._get_param("ChangeSetName"):
            return None
        return validate(self, incoming_params, stack_body, old_stack)

    CloudFormationResponse._validate_different_update = _validate_different_update


def patch_models() -> None:
    """``Fn::GetAtt`` names AWS documents and moto's models lack (CDK's bootstrap template reads
    the ``Value`` of its ``AWS::SSM::Parameter`` into the ``BootstrapVersion`` output); a stack's
    resources leave out those whose ``Condition`` is false (moto listed them with empty ids); a
    role's managed policies are detached before the stack deletes it (moto refused: "must detach
    all policies first", now that AWS-managed policies exist and attach)."""
    from moto.cloudformation.models import Stack
    from moto.iam.models import Role, iam_backends
    from moto.ssm.models import Parameter
    from moto.utilities.utils import get_partition

    Stack.stack_resources = property(
        lambda self: [r for r in self.resource_map.values() if r is not None]
    )

    names = {"Value": "value", "Type": "parameter_type"}
    Parameter.has_cfn_attr = classmethod(lambda cls, attr: attr in names)
    Parameter.get_cfn_attribute = lambda self, attr: getattr(self, names[attr])

    delete_role = Role.delete_from_cloudformation_json.__func__

    def delete_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region
    ):
        backend = iam_backends[account_id][get_partition(region)]
        for role in backend.roles.values():
            if role.name == resource_name:
                for policy in list(role.managed_policies.values()):
                    policy.detach_from(role)
        return delete_role(cls, resource_name, cloudformation_json, account_id, region)

    Role.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
