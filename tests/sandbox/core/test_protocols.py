"""Every wire protocol a supported botocore speaks reaches the same handler (Athena: json and
rest-json), and the rest-json routes come from botocore's model."""

from __future__ import annotations

import json

import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from crosstrain.sandbox.core import protocols


def signed(sandbox, method: str, path: str, body: bytes, headers: dict) -> requests.Response:
    request = AWSRequest(method, sandbox.endpoint_url + path, data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), "athena", "us-east-1").add_auth(request)
    prepared = request.prepare()
    return requests.request(method, prepared.url, data=body, headers=dict(prepared.headers))


def json_call(sandbox, operation: str, params: dict) -> requests.Response:
    headers = {
        "X-Amz-Target": f"AmazonAthena.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
    }
    return signed(sandbox, "POST", "/", json.dumps(params).encode(), headers)


def test_athena_json_protocol_is_served(sandbox):
    answer = json_call(sandbox, "ListWorkGroups", {})
    assert answer.status_code == 200, answer.text
    assert [g["Name"] for g in answer.json()["WorkGroups"]] == ["primary"]


def test_athena_json_protocol_errors_are_json(sandbox):
    answer = json_call(sandbox, "GetQueryExecution", {"QueryExecutionId": "nope"})
    assert answer.status_code == 400
    assert answer.json()["__type"] == "InvalidRequestException"


def test_athena_rest_json_protocol_is_served(sandbox):
    answer = signed(sandbox, "GET", "/workgroups", b"", {"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert [g["Name"] for g in answer.json()["WorkGroups"]] == ["primary"]


def test_athena_rest_json_uri_and_query_members(sandbox):
    sandbox.client("s3").create_bucket(Bucket="out")
    start = signed(
        sandbox,
        "POST",
        "/query-executions",
        json.dumps(
            {"QueryString": "SELECT 1", "ResultConfiguration": {"OutputLocation": "s3://out/"}}
        ).encode(),
        {"Content-Type": "application/json"},
    )
    query = start.json()["QueryExecutionId"]
    got = signed(sandbox, "GET", f"/query-executions/{query}", b"", {})
    assert got.json()["QueryExecution"]["QueryExecutionId"] == query
    listed = signed(sandbox, "GET", "/query-executions?MaxResults=1&WorkGroup=primary", b"", {})
    assert listed.json()["QueryExecutionIds"] == [query]


def test_athena_rest_json_errors_name_their_type(sandbox):
    answer = signed(sandbox, "GET", "/query-executions/nope", b"", {})
    assert answer.status_code == 400
    assert answer.headers["x-amzn-ErrorType"] == "InvalidRequestException"


def test_rest_routes_come_from_botocore_model():
    model = botocore.session.get_session().get_service_model("athena")
    if "rest-json" not in (model.metadata.get("protocols") or [model.metadata["protocol"]]):
        pytest.skip("this botocore speaks json to Athena")
    names = {route.operation for route in protocols.rest_routes("athena")}
    assert names == set(model.operation_names)
    route, labels = protocols.find("athena", "GET", "/query-executions/abc/results")
    assert route.operation == "GetQueryResults"
    assert route.members["MaxResults"][:2] == ("querystring", "MaxResults")


def test_only_services_moto_serves_at_root_are_bridged():
    assert protocols.bridged("athena") == bool(protocols.rest_routes("athena"))
    assert not protocols.bridged("lambda")  # moto routes Lambda's rest-json itself
    assert not protocols.bridged("s3")
    assert not protocols.bridged(None)


def test_the_ledger_names_the_protocols_served():
    from crosstrain.sandbox.core.ledger import ledger

    entries = {entry["service"]: entry for entry in ledger()}
    assert {"json", "rest-json"} <= set(entries["athena"]["protocols"]) or not protocols.bridged(
        "athena"
    )
    assert entries["s3"]["protocols"] == ["rest-xml"]


def test_athena_operations_moto_serves_answer_through_boto3(sandbox):
    """Work groups, data catalogs, named queries and prepared statements in the protocol of the
    installed botocore (rest-json since 1.44.18)."""
    athena = sandbox.client("athena")
    athena.create_work_group(Name="team", Configuration={})
    assert athena.get_work_group(WorkGroup="team")["WorkGroup"]["Name"] == "team"
    athena.create_data_catalog(Name="lake", Type="GLUE", Parameters={"catalog-id": "000000000000"})
    assert athena.get_data_catalog(Name="lake")["DataCatalog"]["Type"] == "GLUE"
    names = [c["CatalogName"] for c in athena.list_data_catalogs()["DataCatalogsSummary"]]
    assert "lake" in names
    query = athena.create_named_query(Name="n", Database="default", QueryString="SELECT 1")
    named = athena.get_named_query(NamedQueryId=query["NamedQueryId"])["NamedQuery"]
    assert named["QueryString"] == "SELECT 1"
    athena.create_prepared_statement(
        StatementName="by_id", WorkGroup="team", QueryStatement="SELECT ?"
    )
    statement = athena.get_prepared_statement(StatementName="by_id", WorkGroup="team")
    assert statement["PreparedStatement"]["QueryStatement"] == "SELECT ?"
