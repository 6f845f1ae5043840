"""SageMaker real-time endpoints: the model in model.tar.gz really answers InvokeEndpoint."""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LogisticRegression
from support import tgz, wait_for

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "models"
X = np.random.default_rng(7).normal(size=(40, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)

# code/inference.py that answers with a fixed label, the worker's pid and what it was given.
LABELLED = """
import json, os
def model_fn(model_dir):
    return open(os.path.join(model_dir, "label.txt")).read()
def transform_fn(model, data, content_type, accept):
    print("served", model, flush=True)
    return json.dumps({"label": model, "pid": os.getpid()}), "application/json"
"""

FRAGILE = """
import json, os
def model_fn(model_dir):
    return "ok"
def input_fn(body, content_type):
    return json.loads(body)
def predict_fn(data, model):
    if data == "raise":
        raise ValueError("cannot predict on 'raise'")
    if data == "exit":
        os._exit(3)
    return {"echo": data}
def output_fn(prediction, accept):
    return json.dumps(prediction)
"""

# Only output_fn: model_fn, input_fn and predict_fn stay the scikit-learn defaults.
LABELLED_OUTPUT = """
import json
def output_fn(prediction, accept):
    return json.dumps({"served_by": "serve.py", "predictions": prediction.tolist()})
"""

UNENCODED = """
def model_fn(model_dir):
    return None
def transform_fn(model, data, content_type, accept):
    return [1, 2]
"""
NUMBER_OUT = """
def model_fn(model_dir):
    return None
def input_fn(data, content_type):
    return data
def predict_fn(data, model):
    return 1
def output_fn(prediction, accept):
    return prediction
"""
OPAQUE_OUT = """
def model_fn(model_dir):
    return None
def transform_fn(model, data, content_type, accept):
    return object()
"""

BROKEN_MODEL_FN = """
def model_fn(model_dir):
    raise RuntimeError("weights are corrupt")
"""


def joblib_bytes(model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


@pytest.fixture
def sm(sandbox):
    sandbox.client("s3").create_bucket(Bucket=BUCKET)
    return sandbox.client("sagemaker")


@pytest.fixture
def runtime(sandbox):
    return sandbox.client("sagemaker-runtime")


@pytest.fixture(scope="module")
def classifier():
    return LogisticRegression().fit(X, Y)


def upload_model(sandbox, key: str, files: dict) -> str:
    sandbox.client("s3").put_object(Bucket=BUCKET, Key=key, Body=tgz(files))
    return f"s3://{BUCKET}/{key}"


def create_config(sm, config: str, variants: dict[str, tuple[str, float]]) -> None:
    """``variants``: variant name -> (model name, weight)."""
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, (model, weight) in variants.items()
        ],
    )


def deploy(sm, name: str, url: str, *, wait: bool = True) -> dict:
    """Model + config + endpoint named ``name`` serving ``url``; waits until it settles."""
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "sklearn", "ModelDataUrl": url})  # fmt: skip
    create_config(sm, name, {"AllTraffic": (name, 1.0)})
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return settled(sm, name) if wait else {}


def settled(sm, name: str) -> dict:
    return wait_for(
        lambda: sm.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating"),
    )


def csv(rows) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in rows)


def test_sklearn_model_answers_csv_like_the_model_itself(sandbox, sm, runtime, classifier):
    url = upload_model(sandbox, "clf/model.tar.gz", {"model.joblib": joblib_bytes(classifier)})
    assert deploy(sm, "clf", url)["EndpointStatus"] == "InService"

    answer = runtime.invoke_endpoint(EndpointName="clf", ContentType="text/csv", Body=csv(X))

    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(answer["Body"].read()) == classifier.predict(X).tolist()


def test_endpoint_reads_creating_before_in_service(sandbox, sm, classifier):
    url = upload_model(sandbox, "c/model.tar.gz", {"model.joblib": joblib_bytes(classifier)})
    deploy(sm, "slowstart", url, wait=False)
    assert sm.describe_endpoint(EndpointName="slowstart")["EndpointStatus"] == "Creating"
    assert settled(sm, "slowstart")["EndpointStatus"] == "InService"


def test_json_and_npy_in_and_out(sandbox, sm, runtime, classifier):
    url = upload_model(sandbox, "fmt/model.tar.gz", {"model.pkl": joblib_bytes(classifier)})
    deploy(sm, "fmt", url)
    expected = classifier.predict(X[:5]).tolist()

    as_json = runtime.invoke_endpoint(
        EndpointName="fmt", ContentType="application/json", Accept="application/x-npy",
        Body=json.dumps(X[:5].tolist()),
    )  # fmt: skip
    buffer = io.BytesIO()
    np.save(buffer, X[:5])
    as_npy = runtime.invoke_endpoint(
        EndpointName="fmt", ContentType="application/x-npy", Accept="text/csv",
        Body=buffer.getvalue(),
    )  # fmt: skip

    assert as_json["ContentType"] == "application/x-npy"
    assert np.load(io.BytesIO(as_json["Body"].read())).tolist() == expected
    assert as_npy["ContentType"] == "text/csv"
    assert [int(line) for line in as_npy["Body"].read().decode().split()] == expected


def test_code_from_sagemaker_submit_directory_and_program(sandbox, sm, runtime, classifier):
    url = upload_model(sandbox, "sdk/model.tar.gz", {"model.joblib": joblib_bytes(classifier)})
    code = upload_model(sandbox, "sdk/sourcedir.tar.gz", {"serve.py": LABELLED_OUTPUT})
    sm.create_model(
        ModelName="sdk",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": "sklearn",
            "ModelDataUrl": url,
            "Environment": {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": code},
        },
    )
    create_config(sm, "sdk", {"AllTraffic": ("sdk", 1.0)})
    sm.create_endpoint(EndpointName="sdk", EndpointConfigName="sdk")
    assert settled(sm, "sdk")["EndpointStatus"] == "InService"

    answer = runtime.invoke_endpoint(EndpointName="sdk", ContentType="text/csv", Body=csv(X[:4]))

    assert json.loads(answer["Body"].read()) == {
        "served_by": "serve.py",
        "predictions": classifier.predict(X[:4]).tolist(),
    }


def test_unsupported_content_type_is_a_415_model_error(sandbox, sm, runtime, classifier):
    url = upload_model(sandbox, "x/model.tar.gz", {"model.joblib": joblib_bytes(classifier)})
    deploy(sm, "xml", url)
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="xml", ContentType="application/xml", Body="<a/>")
    assert caught.value.response["Error"]["Code"] == "ModelError"
    assert caught.value.response["OriginalStatusCode"] == 415


def test_failing_model_fn_fails_the_endpoint_with_the_reason(sandbox, sm):
    url = upload_model(sandbox, "bad/model.tar.gz", {"code/inference.py": BROKEN_MODEL_FN})
    described = deploy(sm, "broken", url)
    assert described["EndpointStatus"] == "Failed"
    assert "RuntimeError: weights are corrupt" in described["FailureReason"]
    logs = sandbox.client("logs").filter_log_events(logGroupName="/aws/sagemaker/Endpoints/broken")
    assert any("weights are corrupt" in event["message"] for event in logs["events"])


def test_missing_artifact_fails_the_endpoint(sandbox, sm):
    described = deploy(sm, "nomodel", f"s3://{BUCKET}/missing/model.tar.gz")
    assert described["EndpointStatus"] == "Failed"
    assert f"s3://{BUCKET}/missing/model.tar.gz" in described["FailureReason"]


def test_predict_fn_error_is_a_model_error_and_the_next_request_is_served(sandbox, sm, runtime):
    deploy(sm, "fragile", upload_model(sandbox, "f/model.tar.gz", {"code/inference.py": FRAGILE}))

    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="fragile", ContentType="application/json",
                                Body='"raise"')  # fmt: skip
    answer = runtime.invoke_endpoint(
        EndpointName="fragile", ContentType="application/json", Body='"fine"'
    )

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 500
    assert "cannot predict on 'raise'" in error["OriginalMessage"]
    assert error["LogStreamArn"].endswith(":log-group:/aws/sagemaker/Endpoints/fragile")
    assert json.loads(answer["Body"].read()) == {"echo": "fine"}


def test_a_crashed_model_server_is_replaced(sandbox, sm, runtime):
    deploy(sm, "crashy", upload_model(sandbox, "cr/model.tar.gz", {"code/inference.py": FRAGILE}))

    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="crashy", ContentType="application/json",
                                Body='"exit"')  # fmt: skip
    answer = runtime.invoke_endpoint(
        EndpointName="crashy", ContentType="application/json", Body='"again"'
    )

    assert caught.value.response["Error"]["Code"] == "ModelError"
    assert json.loads(answer["Body"].read()) == {"echo": "again"}


@pytest.mark.parametrize(("code", "expected"), [(UNENCODED, [1, 2]), (NUMBER_OUT, 1)])
def test_results_that_are_not_bytes_are_json_encoded_as_the_serving_stacks_do(
    sandbox, sm, runtime, code, expected
):
    deploy(sm, "plain", upload_model(sandbox, "u/model.tar.gz", {"code/inference.py": code}))
    answer = runtime.invoke_endpoint(EndpointName="plain", ContentType="text/csv", Body="1")
    assert answer["ContentType"] == "application/json"
    assert json.loads(answer["Body"].read()) == expected


def test_a_result_json_cannot_encode_is_a_model_error_with_a_hint(sandbox, sm, runtime):
    deploy(sm, "opaque", upload_model(sandbox, "o/model.tar.gz", {"code/inference.py": OPAQUE_OUT}))
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="opaque", ContentType="text/csv", Body="1")
    message = caught.value.response["OriginalMessage"]
    assert "must be str, bytes or JSON-encodable, not object" in message


def test_unknown_endpoint_is_a_validation_error(sandbox, runtime):
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="ghost", ContentType="text/csv", Body="1,2,3")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["Error"]["Message"] == (
        "Endpoint ghost of account 000000000000 not found."
    )


def labelled_models(sandbox, sm, *labels: str) -> None:
    for label in labels:
        url = upload_model(
            sandbox, f"{label}/model.tar.gz", {"label.txt": label, "code/inference.py": LABELLED}
        )
        sm.create_model(ModelName=label, ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": "custom", "ModelDataUrl": url})  # fmt: skip


def invoke_label(runtime, name: str, **extra) -> tuple[str, dict]:
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1", **extra)
    return answer["InvokedProductionVariant"], json.loads(answer["Body"].read())


def test_two_variants_split_traffic_and_target_variant_is_honoured(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue", "green")
    create_config(sm, "split", {"Blue": ("blue", 1.0), "Green": ("green", 1.0)})
    sm.create_endpoint(EndpointName="split", EndpointConfigName="split")
    assert settled(sm, "split")["EndpointStatus"] == "InService"

    seen = [invoke_label(runtime, "split") for _ in range(40)]
    targeted = [invoke_label(runtime, "split", TargetVariant="Green") for _ in range(5)]

    assert {variant for variant, _ in seen} == {"Blue", "Green"}
    assert all(body["label"] == variant.lower() for variant, body in seen)
    assert {body["label"] for _, body in targeted} == {"green"}


def test_update_weights_moves_all_traffic(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue", "green")
    create_config(sm, "w", {"Blue": ("blue", 1.0), "Green": ("green", 1.0)})
    sm.create_endpoint(EndpointName="w", EndpointConfigName="w")
    settled(sm, "w")

    sm.update_endpoint_weights_and_capacities(
        EndpointName="w",
        DesiredWeightsAndCapacities=[{"VariantName": "Blue", "DesiredWeight": 0.0}],
    )

    assert {invoke_label(runtime, "w")[0] for _ in range(20)} == {"Green"}


def test_a_weights_only_change_keeps_the_instance_counts(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue", "green")
    create_config(sm, "c", {"Blue": ("blue", 1.0), "Green": ("green", 1.0)})
    sm.create_endpoint(EndpointName="c", EndpointConfigName="c")
    settled(sm, "c")

    sm.update_endpoint_weights_and_capacities(
        EndpointName="c",
        DesiredWeightsAndCapacities=[{"VariantName": "Blue", "DesiredWeight": 0.0}],
    )

    variants = sm.describe_endpoint(EndpointName="c")["ProductionVariants"]
    assert {v["VariantName"]: v["CurrentInstanceCount"] for v in variants} == {
        "Blue": 1,
        "Green": 1,
    }


def test_update_endpoint_is_blue_green_without_failed_requests(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue", "green")
    create_config(sm, "v1", {"AllTraffic": ("blue", 1.0)})
    create_config(sm, "v2", {"AllTraffic": ("green", 1.0)})
    sm.create_endpoint(EndpointName="bg", EndpointConfigName="v1")
    settled(sm, "bg")
    labels, errors, stop = [], [], threading.Event()

    def hammer():
        client = sandbox.client("sagemaker-runtime")
        while not stop.is_set():
            try:
                labels.append(invoke_label(client, "bg")[1]["label"])
            except ClientError as exc:  # pragma: no cover - what the test guards against
                errors.append(exc)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        wait_for(lambda: len(labels), lambda n: n >= 3)
        sm.update_endpoint(EndpointName="bg", EndpointConfigName="v2")
        assert sm.describe_endpoint(EndpointName="bg")["EndpointStatus"] == "Updating"
        described = settled(sm, "bg")
        wait_for(lambda: labels[-1], lambda label: label == "green")
    finally:
        stop.set()
        thread.join()

    assert errors == []
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "v2"
    assert labels[0] == "blue" and labels[-1] == "green"


def test_failed_update_rolls_back_and_keeps_serving(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue")
    url = upload_model(sandbox, "bad/model.tar.gz", {"code/inference.py": BROKEN_MODEL_FN})
    sm.create_model(ModelName="broken", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "custom", "ModelDataUrl": url})  # fmt: skip
    create_config(sm, "good", {"AllTraffic": ("blue", 1.0)})
    create_config(sm, "bad", {"AllTraffic": ("broken", 1.0)})
    sm.create_endpoint(EndpointName="rb", EndpointConfigName="good")
    settled(sm, "rb")

    sm.update_endpoint(EndpointName="rb", EndpointConfigName="bad")
    described = settled(sm, "rb")

    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "good"
    assert "weights are corrupt" in described["FailureReason"]
    assert invoke_label(runtime, "rb")[1]["label"] == "blue"


def test_model_in_a_folder_inside_the_archive_fails_with_a_hint(sandbox, sm, classifier):
    files = {"model/model.joblib": joblib_bytes(classifier)}
    described = deploy(sm, "nested", upload_model(sandbox, "n/model.tar.gz", files))
    assert described["EndpointStatus"] == "Failed"
    assert "pack the files inside model/" in described["FailureReason"]


def test_delete_endpoint_stops_its_workers(sandbox, sm, runtime):
    labelled_models(sandbox, sm, "blue")
    create_config(sm, "d", {"AllTraffic": ("blue", 1.0)})
    sm.create_endpoint(EndpointName="d", EndpointConfigName="d")
    settled(sm, "d")
    pid = invoke_label(runtime, "d")[1]["pid"]

    sm.delete_endpoint(EndpointName="d")

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ClientError) as caught:
        invoke_label(runtime, "d")
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_logs_and_metrics_are_written(sandbox, sm, runtime):
    files = {"code/inference.py": FRAGILE, "code/requirements.txt": "xgboost==9.9\n"}
    deploy(sm, "watched", upload_model(sandbox, "w/model.tar.gz", files))
    for body in ('"a"', '"b"', '"raise"'):
        with contextlib.suppress(ClientError):
            runtime.invoke_endpoint(
                EndpointName="watched", ContentType="application/json", Body=body
            )

    group = "/aws/sagemaker/Endpoints/watched"
    logs = sandbox.client("logs")
    streams = [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
    ]
    text = "\n".join(e["message"] for e in logs.filter_log_events(logGroupName=group)["events"])
    cloudwatch = sandbox.client("cloudwatch")

    def total(metric: str) -> float:
        stats = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, Statistics=["Sum"], Period=3600,
            Dimensions=[{"Name": "EndpointName", "Value": "watched"},
                        {"Name": "VariantName", "Value": "AllTraffic"}],
            StartTime=time.time() - 3600, EndTime=time.time() + 60,
        )  # fmt: skip
        return sum(point["Sum"] for point in stats["Datapoints"])

    assert streams and all(name.startswith("AllTraffic/i-") for name in streams)
    assert "requirements.txt is not installed" in text
    assert "ValueError: cannot predict on 'raise'" in text
    assert total("Invocations") == 3
    assert total("Invocation5XXErrors") == 1
    assert total("ModelLatency") > 0


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_model_uses_the_pytorch_default_handler(sandbox, sm, runtime, tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    scripted = torch.jit.script(net)
    scripted.save(str(tmp_path / "model.pt"))
    url = upload_model(
        sandbox, "torch/model.tar.gz", {"model.pt": (tmp_path / "model.pt").read_bytes()}
    )
    assert deploy(sm, "torch", url)["EndpointStatus"] == "InService"

    answer = runtime.invoke_endpoint(
        EndpointName="torch", ContentType="application/json", Body=json.dumps(X[:4].tolist())
    )

    with torch.no_grad():
        expected = net(torch.tensor(X[:4], dtype=torch.float32)).numpy()
    assert np.allclose(json.loads(answer["Body"].read()), expected, atol=1e-6)


def test_endpoint_answers_again_after_a_restart(tmp_path, classifier):
    from crosstrain import sandbox as sandboxes

    state = tmp_path / "state"
    with sandboxes.start(state_dir=state) as first:
        first.client("s3").create_bucket(Bucket=BUCKET)
        url = upload_model(first, "keep/model.tar.gz", {"model.joblib": joblib_bytes(classifier)})
        deploy(first.client("sagemaker"), "kept", url)
        first.flush()

    with sandboxes.start(state_dir=state) as second:
        answer = second.client("sagemaker-runtime").invoke_endpoint(
            EndpointName="kept", ContentType="text/csv", Body=csv(X[:3])
        )
        status = second.client("sagemaker").describe_endpoint(EndpointName="kept")

    assert json.loads(answer["Body"].read()) == classifier.predict(X[:3]).tolist()
    assert status["EndpointStatus"] == "InService"


def test_a_model_builder_pickled_model_fails_naming_the_fix(sandbox, sm):
    """``ModelBuilder(model=<object>)`` ships ``code/serve.pkl`` for the SDK's own model server
    (the SDK inside the container); the sandbox says so instead of failing on an import."""
    files = {"code/serve.pkl": b"\x80\x05N.", "code/inference.py": "import sagemaker.serve\n"}
    described = deploy(sm, "builder", upload_model(sandbox, "b/model.tar.gz", files))
    assert described["EndpointStatus"] == "Failed"
    assert "ModelBuilder(model=...)" in described["FailureReason"]
    assert "s3_model_data_url" in described["FailureReason"]


STATE_DICT_INFERENCE = """
import json, os
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.layer(x)


def model_fn(model_dir):
    net = Net()
    net.load_state_dict(torch.load(os.path.join(model_dir, "model.pth"), weights_only=True))
    return net.eval()


def input_fn(body, content_type):
    return torch.tensor(json.loads(body), dtype=torch.float32)


def predict_fn(data, model):
    with torch.no_grad():
        return model(data)


def output_fn(prediction, accept):
    return int(prediction.argmax(dim=1)[0])  # a plain int: the serving stack JSON-encodes it
"""


def test_a_pytorch_state_dict_model_whose_output_fn_returns_an_int(sandbox, sm, runtime):
    """A LocalStack-style PyTorch sample: state dict + model_fn, output_fn returning an int."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    buffer = io.BytesIO()
    torch.save({f"layer.{k}": v for k, v in layer.state_dict().items()}, buffer)
    files = {"model.pth": buffer.getvalue(), "code/inference.py": STATE_DICT_INFERENCE}
    assert (
        deploy(sm, "pth", upload_model(sandbox, "pth/model.tar.gz", files))["EndpointStatus"]
        == "InService"
    )

    answer = runtime.invoke_endpoint(
        EndpointName="pth", ContentType="application/json", Body=json.dumps(X[:1].tolist())
    )

    with torch.no_grad():
        expected = int(layer(torch.tensor(X[:1], dtype=torch.float32)).argmax(dim=1)[0])
    assert answer["ContentType"] == "application/json"
    assert json.loads(answer["Body"].read()) == expected


@pytest.mark.parametrize("name", ["xgboost-model", "model.json"])
def test_an_xgboost_model_uses_the_xgboost_default_handler(sandbox, sm, runtime, tmp_path, name):
    xgboost = pytest.importorskip("xgboost")
    labels = (X[:, 0] > X[:, 0].mean()).astype(float)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, label=labels), 5
    )
    saved = tmp_path / "model.json"
    booster.save_model(str(saved))
    url = upload_model(sandbox, f"xgb/{name}/model.tar.gz", {name: saved.read_bytes()})
    endpoint = name.replace(".", "-")
    assert deploy(sm, endpoint, url)["EndpointStatus"] == "InService"

    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv(X[:4]))

    expected = booster.predict(xgboost.DMatrix(X[:4]))
    assert np.allclose(json.loads(answer["Body"].read()), expected, atol=1e-6)
