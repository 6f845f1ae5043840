"""safe_env: whatever the parent holds, AWS clients started from it go to the sandbox"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crosstrain.sandbox import Sandbox
from crosstrain.web.safe_env import safe_env, shell_exports

SANDBOX = Sandbox("http://127.0.0.1:4599")
REAL = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/someone",
    "AWS_PROFILE": "prod",
    "AWS_DEFAULT_PROFILE": "prod",
    "AWS_ACCESS_KEY_ID": "AKIAREALREALREALREAL",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_CONFIG_FILE": "/home/someone/.aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/home/someone/.aws/credentials",
    "AWS_ENDPOINT_URL_S3": "https://s3.eu-west-1.amazonaws.com",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/prod",
}

PROBE = """
import json, boto3
session = boto3.session.Session()
creds = session.get_credentials()
print(json.dumps({
    "s3": session.client("s3").meta.endpoint_url,
    "sts": session.client("sts").meta.endpoint_url,
    "key": creds.access_key,
    "token": creds.token,
    "region": session.region_name,
}))
"""


def probe(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def env(tmp_path):
    return safe_env(SANDBOX, tmp_path / "aws", base=REAL)


def test_every_real_credential_and_override_is_gone(env):
    dropped = set(REAL) - {"PATH", "HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}
    assert {k for k in dropped if k in env and env[k] == REAL[k]} == set()
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_CONFIG_FILE"] != REAL["AWS_CONFIG_FILE"]


def test_boto3_started_from_it_talks_to_the_sandbox_with_dummy_keys(env):
    seen = probe({**env, "PYTHONPATH": ":".join(sys.path)})
    assert seen["s3"] == seen["sts"] == SANDBOX.endpoint_url
    assert seen["key"] != REAL["AWS_ACCESS_KEY_ID"] and seen["token"] is None
    assert seen["region"] == SANDBOX.region


def test_the_private_config_pins_the_endpoint_without_the_variables(env):
    """A client that ignores AWS_ENDPOINT_URL* still gets the sandbox from the config file."""
    bare = {k: v for k, v in env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    bare = {
        k: v for k, v in bare.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    seen = probe({**bare, "PYTHONPATH": ":".join(sys.path)})
    assert seen["s3"] == SANDBOX.endpoint_url
    assert seen["key"] == SANDBOX.env()["AWS_ACCESS_KEY_ID"]


def test_this_pythons_tools_come_first_on_path(env):
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"


def test_shell_exports_unset_what_the_shell_had(env):
    lines = shell_exports(env, base=REAL)
    assert lines[0].startswith("unset ") and "AWS_PROFILE" in lines[0]
    assert "AWS_SESSION_TOKEN" in lines[0]
    assert f"export AWS_ENDPOINT_URL={SANDBOX.endpoint_url}" in lines
