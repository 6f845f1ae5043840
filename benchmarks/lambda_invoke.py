"""Lambda Invoke latency in the sandbox, against moto's echo and a direct call in the same run.

Measures, for a hello handler and for a handler that loads a scikit-learn model at init:
cold invoke (after UpdateFunctionConfiguration retired the worker) and warm invoke, median and
p95, as boto3 round trips. Baselines measured in the same run: moto's own Invoke with Docker off
(it echoes the payload; a separate ``moto_server`` process) and a direct in-process call of the
same handler. Then throughput with 1 and 2 concurrent clients. Targets: cold hello <= 250 ms;
warm overhead over the direct call <= 5 ms median.

    .venv/bin/python benchmarks/lambda_invoke.py [--cold 10] [--warm 200]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3
from botocore.config import Config

from crosstrain import sandbox

CONFIG = Config(retries={"max_attempts": 1}, read_timeout=120)
ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
HELLO = """
def handler(event, context):
    return {"hello": event.get("name", "world")}
"""
SKLEARN = """
import joblib
model = joblib.load("model.joblib")

def handler(event, context):
    return {"prediction": model.predict([event["row"]]).tolist()}
"""
ROW = [5.1, 3.5, 1.4, 0.2]


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CONFIG,
    )


def model_bytes() -> bytes:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    buffer = io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(features, labels), buffer)
    return buffer.getvalue()


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(
                name, textwrap.dedent(content) if isinstance(content, str) else content
            )
    return buffer.getvalue()


def deploy(endpoint: str, name: str, code: bytes, memory: int = 128) -> None:
    iam = client("iam", endpoint)
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="bench", AssumeRolePolicyDocument=ROLE_POLICY)
    client("lambda", endpoint).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/bench",
        Handler="app.handler",
        Code={"ZipFile": code},
        MemorySize=memory,
        Timeout=60,
    )


def stats(samples: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed_invokes(lam, name: str, payload: bytes, runs: int, cold: bool = False) -> list[float]:
    samples = []
    for i in range(runs):
        if cold:  # a configuration change retires the warm worker
            lam.update_function_configuration(
                FunctionName=name, Environment={"Variables": {"RUN": str(i)}}
            )
        began = time.perf_counter()
        response = lam.invoke(FunctionName=name, Payload=payload)
        response["Payload"].read()
        samples.append(time.perf_counter() - began)
        assert "FunctionError" not in response, response
    return samples


def warm_and_floor(lam, name: str, payload: bytes, runs: int) -> tuple[list[float], list[float]]:
    """Warm invokes interleaved with DryRun invokes (boto3 + HTTP + lookup, nothing runs), so
    both see the same machine load."""
    warm, floor = [], []
    for _ in range(runs):
        began = time.perf_counter()
        lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=payload)
        floor.append(time.perf_counter() - began)
        warm += timed_invokes(lam, name, payload, 1)
    return warm, floor


def throughput(endpoint: str, name: str, clients: int, seconds: float = 3.0) -> float:
    """Invocations per second with ``clients`` threads invoking back to back."""
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def run(slot: int) -> None:
        lam = client("lambda", endpoint)
        while time.monotonic() < stop:
            lam.invoke(FunctionName=name, Payload=b'{"name": "x"}')["Payload"].read()
            counts[slot] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def direct_calls(code: bytes, event: dict, runs: int) -> list[float]:
    """The handler imported in this process and called directly (the floor)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-direct-"))
    zipfile.ZipFile(io.BytesIO(code)).extractall(folder)
    sys.path.insert(0, str(folder))
    cwd = Path.cwd()
    try:
        import os

        os.chdir(folder)
        spec = importlib.util.spec_from_file_location(f"app_{id(code)}", folder / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            json.dumps(module.handler(json.loads(json.dumps(event)), None))
            samples.append(time.perf_counter() - began)
        return samples
    finally:
        os.chdir(cwd)
        sys.path.remove(str(folder))


def moto_echo(code: bytes, runs: int) -> list[float]:
    """moto's own Invoke with Docker off, in a separate moto_server process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        request = urllib.request.Request(
            f"{endpoint}/moto-api/config",
            data=json.dumps({"lambda": {"use_docker": False}}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).read()  # noqa: S310
        deploy(endpoint, "hello", code)
        lam = client("lambda", endpoint)
        timed_invokes(lam, "hello", b'{"name": "x"}', 5)  # warm-up
        return timed_invokes(lam, "hello", b'{"name": "x"}', runs)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args()

    hello_zip = make_zip({"app.py": HELLO})
    sklearn_zip = make_zip({"app.py": SKLEARN, "model.joblib": model_bytes()})
    rows: list[tuple[str, float, float]] = []

    with sandbox.start() as sb:
        deploy(sb.endpoint_url, "hello", hello_zip)
        deploy(sb.endpoint_url, "sklearn", sklearn_zip, memory=512)
        lam = client("lambda", sb.endpoint_url)
        hello_payload = b'{"name": "x"}'
        sk_payload = json.dumps({"row": ROW}).encode()
        timed_invokes(lam, "hello", hello_payload, 3)  # warm the sandbox's own code paths
        cold_hello = stats(timed_invokes(lam, "hello", hello_payload, args.cold, cold=True))
        timed_invokes(lam, "hello", hello_payload, 10)
        warm_samples, floor_samples = warm_and_floor(lam, "hello", hello_payload, args.warm)
        warm_hello, dry_run = stats(warm_samples), stats(floor_samples)
        cold_sk = stats(timed_invokes(lam, "sklearn", sk_payload, max(3, args.cold // 2), True))
        timed_invokes(lam, "sklearn", sk_payload, 10)
        warm_sk = stats(timed_invokes(lam, "sklearn", sk_payload, args.warm))
        one_client = throughput(sb.endpoint_url, "hello", 1)
        two_clients = throughput(sb.endpoint_url, "hello", 2)
    rows += [
        ("crosstrain cold, hello", *cold_hello),
        ("crosstrain warm, hello", *warm_hello),
        ("crosstrain cold, sklearn at init", *cold_sk),
        ("crosstrain warm, sklearn", *warm_sk),
    ]
    echo = stats(moto_echo(hello_zip, args.warm))
    direct_hello = stats(direct_calls(hello_zip, {"name": "x"}, args.warm))
    direct_sk = stats(direct_calls(sklearn_zip, {"row": ROW}, args.warm))
    rows += [
        ("floor: crosstrain DryRun invoke (runs nothing)", *dry_run),
        ("baseline: moto echo invoke (Docker off)", *echo),
        ("baseline: direct call, hello", *direct_hello),
        ("baseline: direct call, sklearn", *direct_sk),
    ]

    print(f"{'measure':48} {'median ms':>10} {'p95 ms':>10}")
    for label, median, p95 in rows:
        print(f"{label:48} {median:10.2f} {p95:10.2f}")
    print()
    print(f"cold hello median: {cold_hello[0]:.1f} ms (target <= 250 ms)")
    print(
        f"warm hello overhead over the direct call: {warm_hello[0] - direct_hello[0]:.2f} ms "
        "median (target <= 5 ms; includes the boto3 HTTP round trip)"
    )
    print(
        f"  of which boto3 + HTTP + lookup (DryRun): {dry_run[0]:.2f} ms; running the handler "
        f"in a worker adds {warm_hello[0] - dry_run[0] - direct_hello[0]:.2f} ms"
    )
    print(f"warm sklearn overhead over the direct call: {warm_sk[0] - direct_sk[0]:.2f} ms median")
    print(f"ratio warm hello / moto echo (median): {warm_hello[0] / echo[0]:.2f}")
    print(f"ratio cold hello / moto echo (median): {cold_hello[0] / echo[0]:.2f}")
    print(f"ratio cold sklearn / warm sklearn (median): {cold_sk[0] / warm_sk[0]:.1f}")
    print(
        f"throughput, hello: {one_client:.0f}/s with 1 client, {two_clients:.0f}/s with 2 "
        f"clients (ratio {two_clients / one_client:.2f})"
    )


if __name__ == "__main__":
    main()
