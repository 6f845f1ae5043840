"""Sandbox start-up and memory, against a bare moto_server measured in the same run.

Prints, as medians over several starts: (a) crosstrain sandbox start -> first successful S3
call, (b) bare ``moto_server`` process start -> first successful S3 call, their ratio; and the
sandbox's RSS idle and after one call to each of 10 services. Targets: (a) <= 0.5 s,
(a)/(b) <= 1.2, idle <= 80 MB, after 10 services <= 250 MB.

    .venv/bin/python benchmarks/sandbox_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import psutil
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from crosstrain import sandbox

CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(service: str, port: int):
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CONFIG,
    )


def time_crosstrain(port: int) -> float:
    s3 = client("s3", port)
    began = time.perf_counter()
    sb = sandbox.start(port)
    s3.list_buckets()
    elapsed = time.perf_counter() - began
    sb.stop()
    return elapsed


def time_moto_server(port: int) -> float:
    s3 = client("s3", port)
    exe = Path(sys.executable).parent / "moto_server"
    began = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:  # moto_server has no readiness signal: poll until S3 answers
            try:
                s3.list_buckets()
                break
            except EndpointConnectionError:
                time.sleep(0.005)
        return time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait()


SERVICES = {
    "s3": lambda c: c.list_buckets(),
    "dynamodb": lambda c: c.list_tables(),
    "iam": lambda c: c.list_roles(),
    "sqs": lambda c: c.list_queues(),
    "lambda": lambda c: c.list_functions(),
    "logs": lambda c: c.describe_log_groups(),
    "cloudwatch": lambda c: c.list_metrics(),
    "sagemaker": lambda c: c.list_endpoints(),
    "glue": lambda c: c.get_databases(),
    "sts": lambda c: c.get_caller_identity(),
}


def memory() -> tuple[float, float]:
    port = free_port()
    sb = sandbox.start(port)
    try:
        proc = psutil.Process(sb.pid)
        time.sleep(0.5)  # let the pre-warm import finish: this is the idle footprint
        idle = proc.memory_info().rss / 2**20
        for name, call in SERVICES.items():
            call(client(name, port))
        busy = proc.memory_info().rss / 2**20
    finally:
        sb.stop()
    return idle, busy


def reset_time(tmp: Path) -> tuple[float, float]:
    """Median seconds of ``reset`` on a learner-mode sandbox holding some state (server-side,
    and as the client sees it), against the target of 50 ms."""
    sb = sandbox.start(free_port(), state_dir=tmp)
    try:
        server, client_side = [], []
        for _ in range(5):
            s3 = sb.client("s3")
            s3.create_bucket(Bucket="bench")
            for i in range(50):
                s3.put_object(Bucket="bench", Key=f"k{i}", Body=b"x" * 1024)
            sb.client("sqs").create_queue(QueueName="bench")
            began = time.perf_counter()
            server.append(sb.reset()["seconds"])
            client_side.append(time.perf_counter() - began)
    finally:
        sb.stop()
    return statistics.median(server), statistics.median(client_side)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ours, bare = [], []
    for _ in range(args.runs):  # interleave so machine noise hits both alike
        ours.append(time_crosstrain(free_port()))
        bare.append(time_moto_server(free_port()))
    a, b = statistics.median(ours), statistics.median(bare)
    idle, busy = memory()
    with tempfile.TemporaryDirectory() as tmp:
        reset_server, reset_client = reset_time(Path(tmp))
    print(f"crosstrain start -> first S3 call  median {a * 1000:6.0f} ms  (target <= 500 ms)")
    print(f"moto_server start -> first S3 call median {b * 1000:6.0f} ms")
    print(f"ratio crosstrain / moto_server     {a / b:6.2f}     (target <= 1.20)")
    print(f"RSS idle                           {idle:6.0f} MB  (target <= 80 MB)")
    print(f"RSS after 10 services              {busy:6.0f} MB  (target <= 250 MB)")
    print(
        f"reset (learner mode, with state)   {reset_client * 1000:6.1f} ms  "
        f"(server {reset_server * 1000:.1f} ms; target <= 50 ms)"
    )


if __name__ == "__main__":
    main()
