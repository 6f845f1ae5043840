"""The learners' JupyterLab: wired to the sandbox, closed to other sites, no way to real AWS.

One JupyterLab is started the way ``crosstrain up`` starts it, from a parent environment that
holds real-looking credentials, a profile and a region (as a learner's shell might).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from crosstrain.web.jupyter import start_jupyter

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
KIT = "00-sandbox-orientation"
REAL = {
    "AWS_ACCESS_KEY_ID": "AKIAREALREALREALREAL",
    "AWS_SECRET_ACCESS_KEY": "real-secret-key",
    "AWS_SESSION_TOKEN": "real-session-token",
    "AWS_PROFILE": "prod",
    "AWS_DEFAULT_REGION": "eu-west-1",
}
# Records every connection and name lookup the kernel makes, from before the kit's cell runs.
AUDIT = """
import sys
_crosstrain_net = []
def _crosstrain_audit(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        _crosstrain_net.append(("connect", str(args[1][0])))
    elif event == "socket.getaddrinfo":
        _crosstrain_net.append(("lookup", str(args[0])))
sys.addaudithook(_crosstrain_audit)
"""


@pytest.fixture(scope="module")
def lab(shared_sandbox, tmp_path_factory):
    """JupyterLab over a workspace holding lab 00's kit, started from a 'real AWS' shell."""
    workspace = tmp_path_factory.mktemp("workspace")
    shutil.copytree(REPO / "labs" / KIT, workspace / KIT)
    home = tmp_path_factory.mktemp("home")
    (home / ".bashrc").write_text("export AWS_PROFILE=prod\nexport AWS_ACCESS_KEY_ID=AKIAFROMRC\n")
    saved = dict(os.environ)
    os.environ.update(REAL, HOME=str(home), CROSSTRAIN_HOME=str(home / ".crosstrain"))
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[key]
    try:
        jupyter = start_jupyter(workspace, shared_sandbox)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield jupyter
    jupyter.stop()


def kernel_run(jupyter, kernel_id: str, code: str, timeout: float = 120) -> tuple[str, dict | None]:
    """Run ``code`` in a kernel over JupyterLab's websocket; its stdout and its error, if any."""
    import websocket

    ws_url = jupyter.base.replace("http://", "ws://")
    ws = websocket.create_connection(
        f"{ws_url}api/kernels/{kernel_id}/channels?token={jupyter.token}", timeout=timeout
    )
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex}
    header |= {"msg_type": "execute_request", "version": "5.3", "date": ""}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
    content |= {"allow_stdin": False, "stop_on_error": True}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
    ws.send(json.dumps({**message, "channel": "shell", "buffers": []}))
    out, error = "", None
    try:
        while True:
            reply = json.loads(ws.recv())
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply["msg_type"]
            if kind == "stream":
                out += reply["content"]["text"]
            elif kind == "error":
                error = reply["content"]
            elif kind == "status" and reply["content"]["execution_state"] == "idle":
                return out, error
    finally:
        ws.close()


def first_code_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def test_a_kit_notebook_in_a_workbench_kernel_never_leaves_127_0_0_1(lab, shared_sandbox):
    notebook = f"{KIT}/orientation.ipynb"
    session = httpx.post(
        f"{lab.base}api/sessions",
        params={"token": lab.token},
        json={"path": notebook, "type": "notebook", "kernel": {"name": "python3"}},
    ).json()
    kernel = session["kernel"]["id"]
    kernel_run(lab, kernel, AUDIT)
    out, error = kernel_run(lab, kernel, first_code_cell(REPO / "labs" / notebook))
    assert error is None, error
    assert f"talking to {shared_sandbox.endpoint_url}" in out
    probe = (
        "s3.create_bucket(Bucket='leak-probe')\n"
        "print(boto3.client('sts').get_caller_identity()['Arn'])\n"
        "import json; print(json.dumps(_crosstrain_net))\n"
    )
    out, error = kernel_run(lab, kernel, probe)
    assert error is None, error
    arn, seen = out.strip().splitlines()[-2:]
    assert arn.startswith("arn:aws:")  # answered (by the sandbox: no other host was reached)
    hosts = {host for _, host in json.loads(seen)}
    assert hosts and hosts <= {"127.0.0.1", "localhost"}, hosts
    names = [b["Name"] for b in shared_sandbox.client("s3").list_buckets()["Buckets"]]
    assert "leak-probe" in names


KITS = sorted(
    str(path.relative_to(REPO))
    for folder in ("labs", "solutions")
    for path in (REPO / folder).glob("*/*.ipynb")
)


@pytest.mark.parametrize("notebook", KITS)
def test_every_kit_stops_in_its_first_cell_when_boto3_would_reach_aws(notebook, tmp_path):
    """Opened from a plain shell with a region set, the first cell stops before any request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    keys = {k: v for k, v in REAL.items() if k != "AWS_PROFILE"}  # real keys in the environment
    env |= keys | {"HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    code = AUDIT + first_code_cell(REPO / notebook)
    code += "\n"
    wrapped = (
        f"try:\n    exec(compile({code!r}, 'cell', 'exec'))\n"
        "except SystemExit as stop:\n"
        "    import json; print(json.dumps([str(stop), _crosstrain_net]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapped],
        env=env,
        cwd=REPO / Path(notebook).parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    message, net = json.loads(done.stdout.strip().splitlines()[-1])
    assert message.startswith("boto3 would talk to https://s3.eu-west-1.amazonaws.com")
    assert "make up" in message
    assert [event for event in net if event[0] == "connect"] == []


def test_jupyterlab_refuses_a_foreign_host_header(lab):
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends Host: evil.example."""
    answer = httpx.get(
        f"{lab.base}api/contents",
        params={"token": lab.token},
        headers={"Host": "evil.example:8888"},
    )
    assert answer.status_code == 403


def test_jupyterlab_refuses_cross_origin_writes_and_requests_without_the_token(lab):
    with httpx.Client(base_url=lab.base) as browser:
        assert browser.get("lab", params={"token": lab.token}).status_code == 200  # logs in
        evil = browser.post(
            "api/contents", json={"type": "file"}, headers={"Origin": "http://evil.example"}
        )
        assert evil.status_code in (403, 404)
    anonymous = httpx.post(f"{lab.base}api/contents", json={"type": "file"})
    assert anonymous.status_code == 403


def test_learners_get_no_nbgrader_authoring_tools(lab):
    page = httpx.get(f"{lab.base}lab", params={"token": lab.token}).text
    config = json.loads(
        re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    assert "@jupyter/nbgrader" in config["disabledExtensions"]
    assert httpx.get(f"{lab.base}formgrader", params={"token": lab.token}).status_code == 404


def test_a_workbench_terminal_has_the_sandbox_env_even_after_the_learners_bashrc(lab):
    config = Path(lab.log).parent / "jupyter" / "jupyter_server_config.json"
    shell = json.loads(config.read_text())["ServerApp"]["terminado_settings"]["shell_command"]
    env = {"HOME": str(Path(lab.log).parents[2]), "PATH": "/usr/bin:/bin", **REAL}
    done = subprocess.run(
        [*shell, "-c", "env; command -v crosstrain aws awslocal"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    seen = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and line[0].isupper()
    )
    assert seen["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert "AWS_PROFILE" not in seen and "AWS_SESSION_TOKEN" not in seen
    assert seen["AWS_ACCESS_KEY_ID"] not in (REAL["AWS_ACCESS_KEY_ID"], "AKIAFROMRC")
    assert (Path(seen["CROSSTRAIN_WORKSPACE"]) / KIT).is_dir()  # `crosstrain lab ...` finds it
    assert seen["CROSSTRAIN_SANDBOX_PORT"] == seen["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
    tools = [line for line in done.stdout.splitlines() if line.startswith("/")]
    assert [Path(t).name for t in tools] == ["crosstrain", "aws", "awslocal"], done.stderr
