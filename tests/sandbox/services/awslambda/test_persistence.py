"""What a learner sets on Lambda survives ``sandbox down`` / ``up`` (learner mode, a state dir):
published versions, aliases (and their routing weights), function URLs (which still answer),
configuration (environment, timeout, memory), concurrency, async invoke settings and tags."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import requests

from crosstrain import sandbox as sandboxes

HANDLER = """
import os
def handler(event, context):
    return {"stage": os.environ.get("STAGE"), "version": context.function_version}
"""


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def invoke(lam, name: str, **extra) -> dict:
    answer = lam.invoke(FunctionName=name, Payload=b"{}", **extra)
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """A sandbox where a learner set everything, stopped, and a new one on the same state."""
    state = tmp_path_factory.mktemp("lambda-state")
    with sandboxes.start(state_dir=state) as first:
        lam = first.client("lambda")
        lam.create_function(
            FunctionName="fn",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/lambda",
            Handler="app.handler",
            Code={"ZipFile": code()},
            Environment={"Variables": {"STAGE": "one"}},
            Timeout=7,
            MemorySize=256,
            Tags={"team": "ml"},
        )
        version = lam.publish_version(FunctionName="fn")["Version"]
        lam.update_function_configuration(
            FunctionName="fn", Environment={"Variables": {"STAGE": "two"}}
        )
        lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
        lam.create_alias(
            FunctionName="fn",
            Name="live",
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
        url = lam.create_function_url_config(FunctionName="fn", AuthType="NONE")["FunctionUrl"]
        lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=3)
        lam.put_function_event_invoke_config(FunctionName="fn", MaximumRetryAttempts=1)
        before = requests.get(url, timeout=30).json()
        first.flush()
        port = int(first.endpoint_url.rsplit(":", 1)[1])
    # The same port, as a learner's sandbox always has (4566): a function URL names it.
    with sandboxes.start(port, state_dir=state) as second:
        yield second, url, before


def test_versions_and_aliases_survive(restarted):
    sb, _, _ = restarted
    lam = sb.client("lambda")

    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="fn")["Versions"]]
    alias = lam.get_alias(FunctionName="fn", Name="live")

    assert versions == ["$LATEST", "1"]
    assert alias["FunctionVersion"] == "1"
    assert invoke(lam, "fn", Qualifier="live") == {"stage": "one", "version": "1"}
    assert invoke(lam, "fn") == {"stage": "two", "version": "$LATEST"}


def test_configuration_concurrency_async_settings_and_tags_survive(restarted):
    sb, _, _ = restarted
    lam = sb.client("lambda")

    config = lam.get_function_configuration(FunctionName="fn")
    function = lam.get_function(FunctionName="fn")

    assert (config["Timeout"], config["MemorySize"]) == (7, 256)
    assert config["Environment"]["Variables"] == {"STAGE": "two"}
    assert function["Concurrency"]["ReservedConcurrentExecutions"] == 3
    assert function["Tags"] == {"team": "ml"}
    invoke_config = lam.get_function_event_invoke_config(FunctionName="fn")
    assert invoke_config["MaximumRetryAttempts"] == 1


def test_function_url_survives_and_still_answers(restarted):
    sb, url, before = restarted
    lam = sb.client("lambda")

    config = lam.get_function_url_config(FunctionName="fn")
    listed = lam.list_function_url_configs(FunctionName="fn")["FunctionUrlConfigs"]
    after = requests.get(url, timeout=30).json()

    assert config["FunctionUrl"] == url
    assert [c["FunctionUrl"] for c in listed] == [url]
    assert after == before == {"stage": "two", "version": "$LATEST"}
