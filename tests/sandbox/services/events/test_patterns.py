"""EventBridge event patterns and input transformers (AWS's documented examples)."""

import json

import pytest

from crosstrain.sandbox.services.events import patterns
from crosstrain.sandbox.services.events.patterns import PatternError, matches

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 0.5,
        "source-ip": "10.0.0.123",
        "tags": ["ml", "prod"],
        "location": {"file": "data/in/scores.csv"},
        "nothing": None,
    },
}


def test_exact_string_match_and_mismatch():
    assert matches({"source": ["aws.ec2"]}, EVENT)
    assert not matches({"source": ["aws.s3"]}, EVENT)


def test_any_of_values_matches():
    assert matches({"detail": {"state": ["running", "terminated"]}}, EVENT)


def test_every_field_must_match():
    assert not matches({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, EVENT)


def test_array_event_value_matches_when_any_element_does():
    assert matches({"detail": {"tags": ["prod"]}}, EVENT)
    assert not matches({"detail": {"tags": ["dev"]}}, EVENT)


def test_numbers_compare_numerically_and_not_as_strings():
    assert matches({"detail": {"c-count": [5.0]}}, EVENT)
    assert not matches({"detail": {"c-count": ["5"]}}, EVENT)


def test_null_matches_only_null():
    assert matches({"detail": {"nothing": [None]}}, EVENT)
    assert not matches({"detail": {"state": [None]}}, EVENT)


def test_prefix_and_suffix_with_and_without_case():
    assert matches({"detail": {"location": {"file": [{"prefix": "data/in/"}]}}}, EVENT)
    assert not matches({"detail": {"location": {"file": [{"prefix": "Data/"}]}}}, EVENT)
    assert matches(
        {"detail": {"location": {"file": [{"prefix": {"equals-ignore-case": "DATA/"}}]}}}, EVENT
    )
    assert matches({"detail": {"location": {"file": [{"suffix": ".csv"}]}}}, EVENT)
    assert matches(
        {"detail": {"location": {"file": [{"suffix": {"equals-ignore-case": ".CSV"}}]}}}, EVENT
    )


def test_equals_ignore_case():
    assert matches({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}, EVENT)


def test_anything_but_value_list_prefix_and_suffix():
    assert matches({"detail": {"state": [{"anything-but": "running"}]}}, EVENT)
    assert not matches({"detail": {"state": [{"anything-but": ["terminated", "x"]}]}}, EVENT)
    assert not matches({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}}, EVENT)
    assert matches({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}}, EVENT)
    assert not matches({"detail": {"c-count": [{"anything-but": [5]}]}}, EVENT)


def test_anything_but_does_not_match_a_missing_field():
    assert not matches({"detail": {"absent": [{"anything-but": "x"}]}}, EVENT)


def test_numeric_ranges():
    assert matches({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, EVENT)
    assert not matches({"detail": {"c-count": [{"numeric": [">", 5]}]}}, EVENT)
    assert matches({"detail": {"d-count": [{"numeric": ["<", 10]}]}}, EVENT)
    assert not matches({"detail": {"state": [{"numeric": [">", 0]}]}}, EVENT)


def test_exists_true_and_false():
    assert matches({"detail": {"state": [{"exists": True}]}}, EVENT)
    assert not matches({"detail": {"absent": [{"exists": True}]}}, EVENT)
    assert matches({"detail": {"absent": [{"exists": False}]}}, EVENT)
    assert not matches({"detail": {"state": [{"exists": False}]}}, EVENT)


def test_exists_false_matches_when_the_whole_parent_is_missing():
    assert matches({"nowhere": {"x": [{"exists": False}]}}, EVENT)


def test_wildcard():
    assert matches({"detail": {"location": {"file": [{"wildcard": "data/*/*.csv"}]}}}, EVENT)
    assert not matches({"detail": {"location": {"file": [{"wildcard": "data/*.json"}]}}}, EVENT)


def test_or_of_alternatives():
    pattern = {
        "source": ["aws.ec2"],
        "$or": [{"detail": {"state": ["running"]}}, {"detail": {"c-count": [5]}}],
    }
    assert matches(pattern, EVENT)
    pattern["$or"][1] = {"detail": {"c-count": [6]}}
    assert not matches(pattern, EVENT)


def test_cidr():
    assert matches({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EVENT)
    assert not matches({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EVENT)


@pytest.mark.parametrize(
    "bad",
    [
        '{"source": "aws.ec2"}',
        '{"source": []}',
        '{"source": [{"prefix": 5}]}',
        '{"source": [{"nope": "x"}]}',
        '{"x": [{"numeric": [">", "a"]}]}',
        '{"x": [{"numeric": ["~", 1]}]}',
        '{"x": [{"exists": "yes"}]}',
        '{"$or": [{"a": ["b"]}]}',
        "not json",
        "[1]",
    ],
)
def test_invalid_patterns_are_refused(bad):
    with pytest.raises(PatternError):
        patterns.loads(bad)


def test_valid_pattern_loads():
    assert patterns.loads('{"source": ["aws.s3"]}') == {"source": ["aws.s3"]}


def test_sns_attributes_types():
    attrs = {
        "store": {"Type": "String", "Value": "example_corp"},
        "price": {"Type": "Number", "Value": "210.75"},
        "colors": {"Type": "String.Array", "Value": '["red","blue"]'},
    }
    obj = patterns.sns_attributes(attrs)
    assert obj == {"store": "example_corp", "price": 210.75, "colors": ["red", "blue"]}
    assert matches({"price": [{"numeric": [">=", 200]}], "colors": ["blue"]}, obj)


def test_input_transformer_inside_and_outside_strings():
    out = patterns.transform(
        EVENT,
        {"instance": "$.detail.instance-id", "count": "$.detail.c-count", "tags": "$.detail.tags"},
        '{"text": "<instance> has <count>", "count": <count>, "tags": <tags>}',
    )
    assert json.loads(out) == {
        "text": "i-1234567890abcdef0 has 5",
        "count": 5,
        "tags": ["ml", "prod"],
    }


def test_input_transformer_plain_text_and_missing_path():
    out = patterns.transform(
        EVENT, {"state": "$.detail.state", "gone": "$.detail.gone"}, "state <state>, gone <gone>"
    )
    assert out == "state terminated, gone null"


def test_input_transformer_reserved_variables():
    out = patterns.transform(
        EVENT, {}, '{"rule": "<aws.events.rule-name>", "e": <aws.events.event>}', rule_name="r1"
    )
    assert json.loads(out) == {"rule": "r1", "e": EVENT}


def test_input_transformer_escapes_quotes_inside_strings():
    event = {"detail": {"msg": 'say "hi"'}}
    out = patterns.transform(event, {"m": "$.detail.msg"}, '{"m": "<m>"}')
    assert json.loads(out) == {"m": 'say "hi"'}
