"""Bucket policies decide on action, resource, principal and condition as AWS does."""

from __future__ import annotations

from crosstrain.sandbox.core.policy import Decision, Principal, Request, evaluate
from crosstrain.sandbox.services.s3.context import known_key

ACCOUNT = "000000000000"
ME = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/ana", account=ACCOUNT)
ANONYMOUS = Principal()
HTTP = {"aws:SecureTransport": "false"}


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny_insecure(resource="arn:aws:s3:::b/*"):
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", resource],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ask(doc, action="s3:GetObject", resource="arn:aws:s3:::b/k", who=ME, context=None):
    return evaluate(doc, Request(action, resource, who, context or {}))


def test_a_conditional_deny_applies_only_when_its_condition_holds():
    doc = policy(deny_insecure())
    assert ask(doc, context=HTTP) is Decision.DENY
    assert ask(doc, context={"aws:SecureTransport": "true"}) is Decision.NEUTRAL


def test_deny_wins_over_allow():
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    assert ask(policy(allow)) is Decision.ALLOW
    assert ask(policy(allow, deny_insecure()), context=HTTP) is Decision.DENY


def test_actions_match_case_insensitively_with_wildcards():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "S3:Put*", "Resource": "*"}
    assert ask(policy(deny), action="s3:PutObject") is Decision.DENY
    assert ask(policy(deny), action="s3:GetObject") is Decision.NEUTRAL


def test_not_action_and_not_resource():
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "NotAction": "s3:GetObject",
        "NotResource": "arn:aws:s3:::b/public/*",
    }
    assert ask(policy(deny), action="s3:PutObject") is Decision.DENY
    assert ask(policy(deny), action="s3:GetObject") is Decision.NEUTRAL
    assert ask(policy(deny), action="s3:PutObject", resource="arn:aws:s3:::b/public/x") is (
        Decision.NEUTRAL
    )


def test_principals_name_an_account_a_user_or_everyone():
    def allow(principal):
        statement = {"Effect": "Allow", "Principal": principal, "Action": "*", "Resource": "*"}
        return policy(statement)

    assert ask(allow({"AWS": ACCOUNT})) is Decision.ALLOW
    assert ask(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})) is Decision.ALLOW
    assert ask(allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/ana"]})) is Decision.ALLOW
    assert ask(allow({"AWS": "arn:aws:iam::111111111111:root"})) is Decision.NEUTRAL
    assert ask(allow({"AWS": ACCOUNT}), who=ANONYMOUS) is Decision.NEUTRAL
    assert ask(allow("*"), who=ANONYMOUS) is Decision.ALLOW
    assert ask(allow({"Service": "lambda.amazonaws.com"})) is Decision.NEUTRAL


def test_not_principal_excludes_the_named():
    deny = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ana"},
        "Action": "*",
        "Resource": "*",
    }
    assert ask(policy(deny)) is Decision.NEUTRAL
    bob = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/bob", account=ACCOUNT)
    assert ask(policy(deny), who=bob) is Decision.DENY


def test_an_unknown_condition_key_is_missing_and_reported():
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"s3:SomeFutureKey": "x"}},
    }
    seen = []
    decision = evaluate(
        policy(deny),
        Request("s3:GetObject", "arn:aws:s3:::b/k", ME, {}, known_key),
        seen.append,
    )
    assert decision is Decision.NEUTRAL
    assert seen == ["condition key s3:SomeFutureKey"]


def test_a_single_statement_object_and_a_malformed_policy():
    assert ask({"Statement": deny_insecure()}, context=HTTP) is Decision.DENY
    assert evaluate("{not json", Request("s3:GetObject", "*", ME, {})) is Decision.NEUTRAL


def test_an_identity_statement_has_no_principal_to_match():
    allow = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}
    assert ask(policy(allow)) is Decision.ALLOW
    assert ask(policy(allow), action="s3:PutObject") is Decision.NEUTRAL
