"""SageMaker Describe*/List* replies leave out the optional structures the caller never set, as
AWS does (the SageMaker Python SDK v3 rejects an empty structure with required members)."""

from __future__ import annotations

import json

from crosstrain.sandbox.services.sagemaker.replies import tidy

ROLE = "arn:aws:iam::000000000000:role/sagemaker"


def raw(sm, operation: str, **params) -> dict:
    """The reply's JSON as sent (botocore's parsed reply would hide an empty structure)."""
    captured = {}

    def keep(http_response, **_):
        captured["body"] = http_response.content

    sm.meta.events.register(f"after-call.sagemaker.{operation}", keep)
    sm._make_api_call(operation, params)
    return json.loads(captured["body"])


def empty_structures(value, path="") -> list[str]:
    if isinstance(value, dict):
        found = [path] if value == {} else []
        for key, item in value.items():
            found += empty_structures(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in empty_structures(item, f"{path}[{i}]")]
    return []


def test_describe_replies_carry_no_empty_structures_or_nulls(sandbox):
    sm = sandbox.client("sagemaker")
    sm.create_model(
        ModelName="m",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "sklearn", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": "m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )

    replies = {
        "DescribeModel": raw(sm, "DescribeModel", ModelName="m"),
        "DescribeEndpointConfig": raw(sm, "DescribeEndpointConfig", EndpointConfigName="c"),
        "ListModels": raw(sm, "ListModels"),
    }

    for name, reply in replies.items():
        assert empty_structures(reply) == [], name
        assert "null" not in json.dumps(reply), name
    assert "VpcConfig" not in replies["DescribeModel"]
    assert "DataCaptureConfig" not in replies["DescribeEndpointConfig"]
    assert replies["DescribeModel"]["PrimaryContainer"]["Image"] == "sklearn"


def test_tidy_keeps_values_and_empty_lists():
    reply = {"A": {}, "B": None, "C": {"D": {}, "E": 0, "F": False}, "G": [], "H": [{"I": None}]}

    assert tidy(reply) == {"C": {"E": 0, "F": False}, "G": [], "H": [{}]}
