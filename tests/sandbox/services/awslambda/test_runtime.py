"""Lambda Invoke in the sandbox really runs the handler, shaped as AWS shapes it."""

from __future__ import annotations

import base64
import io
import json
import textwrap
import threading
import time
import zipfile

import psutil
import pytest
from botocore.exceptions import ClientError
from support import lambda_role

ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def deploy(sandbox):
    """deploy(name, source, **config) creates a python3.12 function from ``app.py`` source."""
    lambda_role(sandbox, "lambda-role")
    lam = sandbox.client("lambda")

    def deploy(name: str, source: str, extra: dict | None = None, **config):
        files = {"app.py": textwrap.dedent(source), **(extra or {})}
        lam.create_function(
            FunctionName=name,
            Runtime=config.pop("Runtime", "python3.12"),
            Role=ROLE,
            Handler=config.pop("Handler", "app.handler"),
            Code={"ZipFile": make_zip(files)},
            **config,
        )
        return lam

    return deploy


def invoke(lam, name: str, event=None, **kwargs) -> tuple[dict, object]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def await_true(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


ECHO = """
import os
def handler(event, context):
    return {"event": event, "pid": os.getpid()}
"""


# -- running code -------------------------------------------------------------------------------
def test_handler_reads_an_object_from_sandbox_s3(sandbox, deploy):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="numbers")
    s3.put_object(Bucket="numbers", Key="values.txt", Body=b"1\n2\n3\n4\n")
    lam = deploy(
        "summer",
        """
        import boto3
        s3 = boto3.client("s3")
        def handler(event, context):
            body = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
            return {"total": sum(int(line) for line in body.split())}
        """,
    )
    _, payload = invoke(lam, "summer", {"bucket": "numbers", "key": "values.txt"})
    assert payload == {"total": 10}


def test_scikit_learn_model_is_served(sandbox, deploy):
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    lam = deploy(
        "iris",
        """
        import joblib
        model = joblib.load("model.joblib")
        def handler(event, context):
            return {"predictions": model.predict(event["rows"]).tolist()}
        """,
        extra={"model.joblib": buffer.getvalue()},
        MemorySize=512,
        Timeout=30,
    )
    _, payload = invoke(lam, "iris", {"rows": features[:5].tolist()})
    assert payload == {"predictions": model.predict(features[:5]).tolist()}


def test_code_from_an_s3_object_runs(sandbox, deploy):
    deploy("placeholder", ECHO)  # creates the role
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="artifacts")
    source = "def handler(event, context):\n    return 'from s3'\n"
    s3.put_object(Bucket="artifacts", Key="fn.zip", Body=make_zip({"app.py": source}))
    lam = sandbox.client("lambda")
    lam.create_function(
        FunctionName="from-s3",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "artifacts", "S3Key": "fn.zip"},
    )
    assert invoke(lam, "from-s3")[1] == "from s3"


def test_context_object_has_the_aws_attributes(deploy):
    lam = deploy(
        "ctx",
        """
        def handler(event, context):
            return {
                "name": context.function_name,
                "version": context.function_version,
                "memory": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn,
                "request_id": context.aws_request_id,
                "log_group": context.log_group_name,
                "remaining": context.get_remaining_time_in_millis(),
            }
        """,
        MemorySize=256,
        Timeout=5,
    )
    response, payload = invoke(lam, "ctx")
    assert payload["name"] == "ctx" and payload["version"] == "$LATEST"
    assert payload["memory"] == "256" and payload["arn"].endswith(":function:ctx")
    assert payload["request_id"] == response["ResponseMetadata"]["RequestId"]
    assert payload["log_group"] == "/aws/lambda/ctx"
    assert 0 < payload["remaining"] <= 5000


def test_environment_has_function_and_standard_variables(sandbox, deploy):
    lam = deploy(
        "env",
        """
        import os
        def handler(event, context):
            return {k: os.environ.get(k) for k in event["keys"]}
        """,
        Environment={"Variables": {"MODEL_NAME": "iris"}},
        MemorySize=192,
    )
    keys = [
        "MODEL_NAME",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_REGION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_ENDPOINT_URL",
    ]
    _, payload = invoke(lam, "env", {"keys": keys})
    assert payload == {
        "MODEL_NAME": "iris",
        "AWS_LAMBDA_FUNCTION_NAME": "env",
        "AWS_REGION": sandbox.region,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "192",
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
    }


def test_code_folder_is_first_on_sys_path(deploy):
    lam = deploy(
        "pathy",
        """
        import os, sys
        import state  # our own module, not the sandbox's state.py
        def handler(event, context):
            return {"first": sys.path[0], "root": os.environ["LAMBDA_TASK_ROOT"],
                    "value": state.VALUE}
        """,
        extra={"state.py": "VALUE = 42\n"},
    )
    _, payload = invoke(lam, "pathy")
    assert payload["first"] == payload["root"] and payload["value"] == 42


def test_warm_worker_is_reused(deploy):
    lam = deploy("warm", ECHO)
    _, first = invoke(lam, "warm")
    _, second = invoke(lam, "warm")
    assert first["pid"] == second["pid"]


def test_update_function_code_retires_the_worker(deploy):
    lam = deploy("updated", ECHO)
    _, before = invoke(lam, "updated")
    source = ECHO.replace('"event": event', '"event": "new code"')
    lam.update_function_code(FunctionName="updated", ZipFile=make_zip({"app.py": source}))
    _, after = invoke(lam, "updated")
    assert after["event"] == "new code" and after["pid"] != before["pid"]


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_update_function_code_stops_the_idle_worker_at_once(deploy):
    lam = deploy("stale", ECHO)
    _, before = invoke(lam, "stale")
    source = ECHO.replace('"event": event', '"event": "new code"')
    lam.update_function_code(FunctionName="stale", ZipFile=make_zip({"app.py": source}))
    await_true(lambda: _gone(before["pid"]))
    assert invoke(lam, "stale")[1]["event"] == "new code"


def test_delete_function_stops_its_workers(deploy):
    lam = deploy("doomed", ECHO)
    _, before = invoke(lam, "doomed")
    lam.delete_function(FunctionName="doomed")
    await_true(lambda: _gone(before["pid"]))


def test_update_function_configuration_retires_the_worker(deploy):
    source = "import os\ndef handler(e, c):\n    return [os.environ.get('STAGE'), os.getpid()]\n"
    lam = deploy("configured", source, Environment={"Variables": {"STAGE": "one"}})
    _, (stage, pid) = invoke(lam, "configured")
    lam.update_function_configuration(
        FunctionName="configured", Environment={"Variables": {"STAGE": "two"}}
    )
    _, (new_stage, new_pid) = invoke(lam, "configured")
    assert (stage, new_stage) == ("one", "two") and new_pid != pid


def test_update_lets_a_running_invocation_finish_on_the_old_code(sandbox, deploy):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="handshake")
    source = """
    import time, boto3
    s3 = boto3.client("s3")
    def handler(event, context):
        s3.put_object(Bucket="handshake", Key="started", Body=b"")
        while "release" not in [o["Key"] for o in s3.list_objects_v2(
                Bucket="handshake").get("Contents", [])]:
            time.sleep(0.05)
        return "old"
    """
    lam = deploy("inflight", source, Timeout=30)
    result = {}
    running = threading.Thread(target=lambda: result.update(old=invoke(lam, "inflight")[1]))
    running.start()
    await_true(lambda: s3.list_objects_v2(Bucket="handshake").get("KeyCount"))
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 'new'\n"})
    lam.update_function_code(FunctionName="inflight", ZipFile=new_code)
    s3.put_object(Bucket="handshake", Key="release", Body=b"")
    running.join()
    assert result["old"] == "old"
    assert invoke(lam, "inflight")[1] == "new"


def test_concurrent_invocations_run_in_parallel(sandbox, deploy):
    sandbox.client("s3").create_bucket(Bucket="signals")
    lam = deploy(
        "rendezvous",
        """
        import time, boto3
        s3 = boto3.client("s3")
        def handler(event, context):
            if event["role"] == "waiter":
                while not s3.list_objects_v2(Bucket="signals").get("KeyCount"):
                    time.sleep(0.05)
                return "released"
            s3.put_object(Bucket="signals", Key="go", Body=b"")
            return "signalled"
        """,
        Timeout=20,
    )
    results = {}
    waiter = threading.Thread(
        target=lambda: results.update(waiter=invoke(lam, "rendezvous", {"role": "waiter"})[1])
    )
    waiter.start()
    results["signaller"] = invoke(lam, "rendezvous", {"role": "signaller"})[1]
    waiter.join()
    assert results == {"waiter": "released", "signaller": "signalled"}


def test_published_version_and_alias_run_their_own_code(deploy):
    lam = deploy("versioned", "def handler(e, c):\n    return ['v1', c.function_version]\n")
    version = lam.publish_version(FunctionName="versioned")["Version"]
    lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion=version)
    new_code = make_zip({"app.py": "def handler(e, c):\n    return ['v2', c.function_version]\n"})
    lam.update_function_code(FunctionName="versioned", ZipFile=new_code)
    assert invoke(lam, "versioned")[1] == ["v2", "$LATEST"]
    assert invoke(lam, "versioned", Qualifier=version)[1] == ["v1", version]
    assert invoke(lam, "versioned", Qualifier="live")[1] == ["v1", version]


# -- invocation types ---------------------------------------------------------------------------
def test_event_invocation_returns_202_and_runs_in_the_background(sandbox, deploy):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="async-out")
    lam = deploy(
        "writer",
        """
        import boto3
        def handler(event, context):
            boto3.client("s3").put_object(Bucket="async-out", Key="done", Body=event["text"])
        """,
    )
    response = lam.invoke(FunctionName="writer", InvocationType="Event", Payload=b'{"text": "ok"}')
    assert response["StatusCode"] == 202
    await_true(lambda: s3.list_objects_v2(Bucket="async-out").get("KeyCount"))
    assert s3.get_object(Bucket="async-out", Key="done")["Body"].read() == b"ok"


def test_dry_run_returns_204_without_running(deploy):
    lam = deploy("dry", "def handler(e, c):\n    raise RuntimeError('must not run')\n")
    assert lam.invoke(FunctionName="dry", InvocationType="DryRun")["StatusCode"] == 204


def test_unknown_function_is_resource_not_found(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.client("lambda").invoke(FunctionName="nowhere", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_payload_that_is_not_json_is_rejected(deploy):
    lam = deploy("strict", ECHO)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="strict", Payload=b"{not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_non_python_runtime_is_refused_with_a_clear_message(deploy):
    lam = deploy("node", ECHO, Runtime="nodejs20.x")
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="node", Payload=b"{}")
    assert "Python" in caught.value.response["Error"]["Message"]


def test_reserved_concurrency_zero_throttles(sandbox, deploy):
    lam = deploy("blocked", ECHO)
    lam.put_function_concurrency(FunctionName="blocked", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="blocked", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"


# -- failure shapes -----------------------------------------------------------------------------
def test_exception_is_unhandled_function_error(deploy):
    lam = deploy("broken", "def handler(event, context):\n    return 1 / 0\n")
    response, payload = invoke(lam, "broken")
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ZeroDivisionError"
    assert payload["errorMessage"] == "division by zero"
    assert 'app.py", line 2, in handler' in payload["stackTrace"][0]


def test_import_error_is_runtime_import_module_error(deploy):
    lam = deploy("noimport", "import not_installed_anywhere\ndef handler(e, c):\n    pass\n")
    response, payload = invoke(lam, "noimport")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"].startswith("Unable to import module 'app'")


def test_missing_handler_is_runtime_handler_not_found(deploy):
    lam = deploy("nohandler", "def other(e, c):\n    pass\n")
    _, payload = invoke(lam, "nohandler")
    assert payload["errorType"] == "Runtime.HandlerNotFound"


def test_unserialisable_result_is_marshal_error(deploy):
    lam = deploy("marshal", "def handler(e, c):\n    return {1, 2}\n")
    response, payload = invoke(lam, "marshal")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.MarshalError"


def test_timeout_is_task_timed_out(deploy):
    lam = deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(60)\n", Timeout=1)
    response, payload = invoke(lam, "slow")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_infinite_loop_does_not_take_the_sandbox_down(sandbox, deploy):
    lam = deploy("spinner", "def handler(e, c):\n    while True:\n        pass\n", Timeout=1)
    deploy("bystander", ECHO)
    response, _ = invoke(lam, "spinner")
    assert response["FunctionError"] == "Unhandled"
    assert sandbox.alive()
    assert invoke(lam, "bystander", {"still": "here"})[1]["event"] == {"still": "here"}


def test_memory_hog_is_stopped_with_a_runtime_error(sandbox, deploy):
    lam = deploy(
        "hog",
        """
        def handler(event, context):
            hoard = []
            while True:
                hoard.append(b"x" * (16 << 20))
        """,
        MemorySize=128,
        Timeout=30,
    )
    deploy("bystander", ECHO)
    response, payload = invoke(lam, "hog")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"
    assert invoke(lam, "bystander")[1]["event"] == {}


def test_os_exit_is_runtime_exit_error(deploy):
    lam = deploy("quitter", "import os\ndef handler(e, c):\n    os._exit(3)\n")
    response, payload = invoke(lam, "quitter")
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Runtime exited with error: exit status 3")


def test_segfault_is_runtime_exit_error(deploy):
    lam = deploy("crasher", "import ctypes\ndef handler(e, c):\n    ctypes.string_at(0)\n")
    _, payload = invoke(lam, "crasher")
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("signal: segmentation fault")


def test_function_recovers_after_its_worker_died(deploy):
    source = """
    import os
    def handler(event, context):
        if event.get("die"):
            os._exit(1)
        return "ok"
    """
    lam = deploy("phoenix", source)
    assert invoke(lam, "phoenix", {"die": True})[1]["errorType"] == "Runtime.ExitError"
    assert invoke(lam, "phoenix")[1] == "ok"


# -- logs and metrics ---------------------------------------------------------------------------
def _log_messages(sandbox, name: str) -> list[str]:
    logs = sandbox.client("logs")
    group = f"/aws/lambda/{name}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    return [event["message"] for event in events]


def test_output_goes_to_cloudwatch_logs_with_start_end_report(sandbox, deploy):
    lam = deploy(
        "chatty",
        """
        import logging
        print("loading")
        def handler(event, context):
            print("hello from the handler")
            logging.getLogger().warning("careful")
            return "ok"
        """,
    )
    invoke(lam, "chatty")
    messages = _log_messages(sandbox, "chatty")
    assert "loading" in messages and "hello from the handler" in messages
    assert any(m.startswith("[WARNING]") and m.endswith("careful") for m in messages)
    assert any(m.startswith("START RequestId: ") for m in messages)
    assert any(m.startswith("END RequestId: ") for m in messages)
    report = next(m for m in messages if m.startswith("REPORT RequestId: "))
    for field in ("Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:"):
        assert field in report
    assert "Init Duration:" in report


def test_init_duration_is_reported_on_cold_starts_only(sandbox, deploy):
    lam = deploy("twice", ECHO)
    invoke(lam, "twice")
    invoke(lam, "twice")
    reports = [m for m in _log_messages(sandbox, "twice") if m.startswith("REPORT")]
    assert ["Init Duration" in r for r in reports] == [True, False]


def test_error_is_logged(sandbox, deploy):
    lam = deploy("loud", "def handler(e, c):\n    raise KeyError('missing')\n")
    invoke(lam, "loud")
    assert any(m.startswith("[ERROR] KeyError: ") for m in _log_messages(sandbox, "loud"))


def test_timeout_is_logged(sandbox, deploy):
    lam = deploy("late", "import time\ndef handler(e, c):\n    time.sleep(30)\n", Timeout=1)
    invoke(lam, "late")
    messages = _log_messages(sandbox, "late")
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in messages)


def test_log_type_tail_returns_the_log_in_the_response(deploy):
    lam = deploy("tail", "def handler(e, c):\n    print('tail me')\n")
    response, _ = invoke(lam, "tail", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "tail me" in log and log.startswith("START") and "REPORT RequestId" in log


def test_metrics_are_published_in_aws_lambda(sandbox, deploy):
    lam = deploy(
        "measured", "def handler(e, c):\n    if e.get('fail'):\n        raise ValueError()\n"
    )
    invoke(lam, "measured")
    invoke(lam, "measured", {"fail": True})
    cloudwatch = sandbox.client("cloudwatch")
    now = time.time()

    def total(metric: str, statistic: str = "Sum") -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": "measured"}],
            StartTime=now - 600,
            EndTime=now + 600,
            Period=3600,
            Statistics=[statistic],
        )["Datapoints"]
        return sum(point[statistic] for point in points)

    assert total("Invocations") == 2
    assert total("Errors") == 1
    assert total("Duration", "SampleCount") == 2


def test_throttles_metric_counts_throttled_invocations(sandbox, deploy):
    lam = deploy("throttled", ECHO)
    lam.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError):
        lam.invoke(FunctionName="throttled", Payload=b"{}")
    metrics = sandbox.client("cloudwatch").list_metrics(Namespace="AWS/Lambda")["Metrics"]
    assert {"MetricName": "Throttles", "FunctionName": "throttled"} in [
        {"MetricName": m["MetricName"], **{d["Name"]: d["Value"] for d in m["Dimensions"]}}
        for m in metrics
    ]


# -- lifetime -----------------------------------------------------------------------------------
def _worker_pids(sandbox_pid: int) -> list[int]:
    return [p.pid for p in psutil.Process(sandbox_pid).children(recursive=True)]


def test_no_worker_remains_after_the_sandbox_stops():
    from crosstrain import sandbox as sandbox_api

    sb = sandbox_api.start()
    try:
        sb.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        lam = sb.client("lambda")
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/r",
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )
        worker = invoke(lam, "f")[1]["pid"]
        children = [psutil.Process(pid) for pid in _worker_pids(sb.pid)]
        assert worker in [child.pid for child in children]
    finally:
        sb.stop()
    _, alive = psutil.wait_procs(children, timeout=10)  # workers and any spare process
    assert not alive


def test_no_worker_remains_after_the_sandbox_is_killed():
    import os
    import signal

    from crosstrain import sandbox as sandbox_api

    sb = sandbox_api.start()
    try:
        sb.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        lam = sb.client("lambda")
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/r",
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )
        worker = invoke(lam, "f")[1]["pid"]
        os.kill(sb.pid, signal.SIGKILL)
        sb.process.wait(timeout=10)
    finally:
        sb.stop()
    await_true(lambda: not psutil.pid_exists(worker) or psutil.Process(worker).status() == "zombie")


def test_a_function_still_runs_after_a_learner_sandbox_restarts(tmp_path):
    from crosstrain import sandbox as sandbox_api

    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        sb.client("lambda").create_function(
            FunctionName="kept",
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/r",
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )
        invoke(sb.client("lambda"), "kept", {"run": 1})
        sb.flush()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert invoke(sb.client("lambda"), "kept", {"run": 2})[1]["event"] == {"run": 2}
