"""Condition blocks evaluate as AWS's policy evaluation does, operator by operator."""

from __future__ import annotations

import pytest

from crosstrain.sandbox.core.conditions import holds, substitute

CONTEXT = {
    "aws:SecureTransport": "false",
    "aws:SourceIp": "127.0.0.1",
    "s3:prefix": "public/reports",
    "aws:PrincipalAccount": "000000000000",
    "aws:CurrentTime": "2026-12-07T12:00:00Z",
    "s3:max-keys": "100",
    "aws:TagKeys": ["team", "cost"],
}


def check(block, context=CONTEXT):
    seen = []
    return holds(block, context, seen.append), seen


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, False),
        ({"Bool": {"aws:SecureTransport": False}}, True),
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
        ({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, True),
        ({"StringLike": {"s3:prefix": "public/*"}}, True),
        ({"StringLike": {"s3:prefix": "private/*"}}, False),
        ({"StringNotLike": {"s3:prefix": ["private/*", "tmp/*"]}}, True),
        ({"StringEquals": {"aws:PrincipalAccount": "000000000000"}}, True),
        ({"StringNotEquals": {"aws:PrincipalAccount": "000000000000"}}, False),
        ({"StringEqualsIgnoreCase": {"s3:prefix": "PUBLIC/REPORTS"}}, True),
        ({"NumericLessThanEquals": {"s3:max-keys": "100"}}, True),
        ({"NumericGreaterThan": {"s3:max-keys": "100"}}, False),
        ({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost", "env"]}}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}, True),
        # every operator and every key must hold
        (
            {"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            False,
        ),
    ],
)
def test_operators_on_present_keys(block, expected):
    assert check(block)[0] is expected


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, False),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, True),
        ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, False),
        ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, True),
        ({"Null": {"aws:SourceVpce": "true"}}, True),
        ({"Null": {"aws:SourceIp": "true"}}, False),
        ({"Null": {"aws:SourceIp": "false"}}, True),
        ({"ForAllValues:StringEquals": {"aws:SourceVpce": "x"}}, True),
        ({"ForAnyValue:StringEquals": {"aws:SourceVpce": "x"}}, False),
        ({"NotIpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}}, True),
    ],
)
def test_a_missing_key_follows_awss_rule(block, expected):
    assert check(block)[0] is expected


def test_an_unknown_operator_is_false_and_reported():
    result, seen = check({"StringSoundsLike": {"s3:prefix": "public"}})
    assert result is False
    assert seen == ["operator StringSoundsLike"]


def test_policy_variables_are_substituted():
    context = {"aws:username": "ana"}
    assert substitute("home/${aws:username}/*", context) == "home/ana/*"
    assert substitute("${aws:userid, 'nobody'}", context) == "nobody"
    assert substitute("literal ${*}", context) == "literal *"
