"""What moto cannot answer comes back at once as an error the client's protocol parses: no HTML,
no 5xx that SDKs retry, and a pointer to the ledger."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from crosstrain.sandbox.core import errors


def test_an_unimplemented_action_is_not_implemented_in_json(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.client("ssm").get_ops_summary()
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert "crosstrain sandbox services" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_an_unimplemented_action_is_not_implemented_in_query_xml(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.client("iam").generate_service_last_accessed_details(
            Arn="arn:aws:iam::000000000000:role/r"
        )
    assert caught.value.response["Error"]["Code"] == "NotImplemented"


def test_a_service_the_sandbox_does_not_emulate_is_named(sandbox):
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Nope.DoThing",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/nosuchservice/"
        "aws4_request, SignedHeaders=host, Signature=x",
    }
    answer = requests.post(sandbox.endpoint_url + "/", headers=headers, data="{}", timeout=30)
    assert answer.status_code == 400
    assert answer.json()["__type"] == "UnsupportedService"
    assert "nosuchservice" in answer.json()["message"]


@pytest.mark.parametrize(
    ("service", "marker"), [("sqs", b"__type"), ("sns", b"<ErrorResponse>"), ("s3", b"<Error>")]
)
def test_errors_take_the_shape_of_the_protocol(service, marker):
    assert marker in errors.aws_error(service, "X", "y").get_data()


def test_html_is_recognised():
    assert errors.is_html([("Content-Type", "text/html; charset=utf-8")], b"<p>Not Found</p>")
    assert not errors.is_html([("Content-Type", "text/html; charset=utf-8")], b"")
    assert errors.is_html([], b"<!doctype html><html>")
    assert not errors.is_html([("Content-Type", "application/json")], b"{}")


def test_a_head_on_a_missing_bucket_stays_a_404(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.client("s3").head_bucket(Bucket="not-made-yet")
    assert caught.value.response["Error"] == {"Code": "404", "Message": "Not Found"}
