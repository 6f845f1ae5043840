"""checkkit: the helpers graders share find what they claim to find."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs import checkkit


def test_error_code_reads_a_client_error_and_is_empty_otherwise():
    exc = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "x"}}, "GetObject")
    assert checkkit.error_code(exc) == "NoSuchBucket"
    assert checkkit.error_code(ValueError("plain")) == ""


def test_a_private_bucket_has_no_public_access(sandbox):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="quiet")
    assert checkkit.public_access(s3, "quiet") == []


def test_public_acl_and_everyone_policy_are_both_found(sandbox):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="loud")
    s3.put_bucket_acl(Bucket="loud", ACL="public-read")
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    statement["Resource"] = "arn:aws:s3:::loud/*"
    s3.put_bucket_policy(Bucket="loud", Policy=json.dumps({"Statement": [statement]}))
    found = checkkit.public_access(s3, "loud")
    assert "the ACL grants READ to AllUsers" in found
    assert "the bucket policy allows Principal '*'" in found


def test_wildcard_actions_and_not_action_are_reported_denies_are_not():
    documents = [
        ("inline policy a", {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
        ("inline policy b", {"Statement": [{"Effect": "Allow", "NotAction": "iam:*"}]}),
        ("inline policy c", {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
        ("inline policy d", {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}]}),
    ]
    assert checkkit.wildcard_grants(documents) == [
        "the role's inline policy a allows s3:*",
        "the role's inline policy b allows NotAction",
    ]


def test_allows_matches_exact_and_trailing_star_resources():
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:b/m/*"}]}
    assert checkkit.allows([("p", doc)], "s3:GetObject", "arn:b/m/model.joblib")
    assert not checkkit.allows([("p", doc)], "s3:GetObject", "arn:b/other")
    assert not checkkit.allows([("p", doc)], "s3:PutObject", "arn:b/m/x")


def test_features_are_the_data_cards_list():
    assert list(datasets.FEATURES) == checkkit.FEATURES
    assert checkkit.FEATURES == checkkit.CATEGORICAL + checkkit.NUMERIC
