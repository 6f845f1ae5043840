"""SageMaker endpoints and training jobs in the sandbox, against baselines measured in this run.

Prints (a) an endpoint's warm latency, p50 / p95 of ``invoke_endpoint`` through boto3 with one
CSV row, for a scikit-learn model, against ``model.predict`` on the same row in-process (ratio);
(b) the endpoint's throughput with several client threads (boto3, and plain HTTP to show the
sandbox's own capacity); (c) a training job's wall time, ``CreateTrainingJob`` to ``Completed``,
against running the same script directly in a subprocess (ratio). Targets: warm p50 <= 10 ms,
>= 300 requests/s on 2 cores.

    .venv/bin/python benchmarks/serving.py [--requests 1000] [--processes 2] [--threads 2]
                                           [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import io
import multiprocessing
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from crosstrain import sandbox

ROLE = "arn:aws:iam::123456789012:role/bench"
BUCKET = "bench"
X = np.random.default_rng(0).normal(size=(2000, 20))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
TRAIN = """
import os
import joblib, numpy as np
from sklearn.linear_model import LogisticRegression

data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
model = LogisticRegression(max_iter=200).fit(data[:, 1:], data[:, 0])
print(f"accuracy={model.score(data[:, 1:], data[:, 0]):.4f}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


def tgz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def wait_until(fetch, done, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while not done(value := fetch()):
        if time.monotonic() > deadline:
            raise TimeoutError(value)
        time.sleep(0.02)
    return value


def deploy(sb, model) -> str:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    sb.client("s3").put_object(
        Bucket=BUCKET, Key="model.tar.gz", Body=tgz({"model.joblib": buffer.getvalue()})
    )
    sm = sb.client("sagemaker")
    sm.create_model(ModelName="bench", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "sklearn",
                                      "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"})  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName="bench",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "bench",
                             "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
    status = wait_until(
        lambda: sm.describe_endpoint(EndpointName="bench")["EndpointStatus"],
        lambda s: s != "Creating",
    )
    if status != "InService":
        raise SystemExit(f"endpoint is {status}")
    return "bench"


def latency(sb, name: str, row: str, requests: int) -> list[float]:
    client = sb.client("sagemaker-runtime")
    for _ in range(50):  # warm both workers, the client and the connection path
        client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)["Body"].read()
        samples.append(time.perf_counter() - began)
    return samples


def throughput(call, threads: int, requests: int) -> float:
    """Requests per second with ``threads`` threads sharing ``requests`` calls of ``call()``."""
    per_thread = requests // threads
    barrier = threading.Barrier(threads + 1)

    def work():
        invoke = call()
        barrier.wait()
        for _ in range(per_thread):
            invoke()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - began)


def _boto3_clients(endpoint_url, name, row, count, threads, barrier, results) -> None:
    """One client process: ``threads`` boto3 clients share ``count`` calls after the barrier."""
    from crosstrain.sandbox.core.clients import make_client

    clients = [make_client("sagemaker-runtime", endpoint_url) for _ in range(threads)]
    for client in clients:
        client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)

    def work(client):
        for _ in range(count // threads):
            client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)

    workers = [threading.Thread(target=work, args=(client,)) for client in clients]
    barrier.wait()
    began = time.time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((began, time.time(), count // threads * threads))


def boto3_throughput(sb, name: str, row: str, processes: int, threads: int, requests: int):
    """Requests per second from ``processes`` client processes (boto3 is CPU-bound per call)."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    clients = [
        context.Process(
            target=_boto3_clients,
            args=(sb.endpoint_url, name, row, requests // processes, threads, barrier, results),
        )
        for _ in range(processes)
    ]
    for client in clients:
        client.start()
    outcomes = [results.get(timeout=600) for _ in clients]
    for client in clients:
        client.join()
    began, ended = min(o[0] for o in outcomes), max(o[1] for o in outcomes)
    return sum(o[2] for o in outcomes) / (ended - began)


def http_caller(sb, name: str, row: str):
    def invoke():
        connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=30)
        connection.request("POST", f"/endpoints/{name}/invocations", body=row,
                           headers={"Content-Type": "text/csv"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")

    return lambda: invoke


def in_process(model, row: np.ndarray, requests: int) -> list[float]:
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        model.predict(row)
        samples.append(time.perf_counter() - began)
    return samples


def train_directly(folder: Path) -> float:
    """Run the training script as a plain subprocess with the same SM_* folders."""
    data, model_dir = folder / "train", folder / "model"
    model_dir.mkdir(exist_ok=True)
    env = {**os.environ, "SM_CHANNEL_TRAIN": str(data), "SM_MODEL_DIR": str(model_dir)}
    began = time.perf_counter()
    subprocess.run([sys.executable, str(folder / "train.py")], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - began


def train_as_job(sb, index: int) -> float:
    sm = sb.client("sagemaker")
    name = f"bench-{index}"
    began = time.perf_counter()
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "sklearn", "TrainingInputMode": "File"},
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://{BUCKET}/code/sourcedir.tar.gz"',
        },
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/train"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip
    status = wait_until(
        lambda: sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"],
        lambda s: s not in ("InProgress", "Stopping"),
    )
    if status != "Completed":
        raise SystemExit(f"training job {name} is {status}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2, help="boto3 client processes")
    parser.add_argument("--threads", type=int, default=2, help="client threads per process")
    parser.add_argument("--runs", type=int, default=3, help="training runs of each kind")
    args = parser.parse_args()
    model = LogisticRegression(max_iter=200).fit(X, Y)
    row = X[:1]
    csv_row = ",".join(str(v) for v in row[0])
    rows = "\n".join(",".join(str(v) for v in [y, *x]) for y, x in zip(Y, X, strict=True))

    with sandbox.start() as sb, tempfile.TemporaryDirectory() as tmp:
        s3 = sb.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        name = deploy(sb, model)

        served = latency(sb, name, csv_row, args.requests)
        local = in_process(model, row, args.requests)
        p50, p95 = percentile(served, 50) * 1000, percentile(served, 95) * 1000
        base50 = percentile(local, 50) * 1000
        print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
        print("endpoint warm latency (boto3 invoke_endpoint, 1 CSV row, scikit-learn)")
        print(f"  p50 {p50:.2f} ms   p95 {p95:.2f} ms   (target p50 <= 10 ms)")
        print(f"  model.predict in-process p50 {base50:.3f} ms   ratio {p50 / base50:.0f}x")

        clients = args.processes * args.threads
        boto_rps = boto3_throughput(sb, name, csv_row, args.processes, args.threads, args.requests)
        http_rps = throughput(http_caller(sb, name, csv_row), clients, args.requests)
        local_rps = args.requests / sum(local)
        print(f"endpoint throughput, {clients} concurrent clients, 2 model workers")
        print(f"  boto3, {args.processes} processes x {args.threads} threads   "
              f"{boto_rps:.0f} req/s   (target >= 300 req/s)")  # fmt: skip
        print(f"  plain HTTP, {clients} threads            {http_rps:.0f} req/s")
        print(f"  model.predict in-process {local_rps:.0f} calls/s   "
              f"ratio {local_rps / http_rps:.0f}x")  # fmt: skip

        folder = Path(tmp)
        (folder / "train").mkdir()
        (folder / "train" / "train.csv").write_text(rows)
        (folder / "train.py").write_text(TRAIN)
        s3.put_object(Bucket=BUCKET, Key="data/train/train.csv", Body=rows.encode())
        s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz",
                      Body=tgz({"train.py": TRAIN.encode()}))  # fmt: skip
        direct = statistics.median(train_directly(folder) for _ in range(args.runs))
        job = statistics.median(train_as_job(sb, i) for i in range(args.runs))
        print(f"training (median of {args.runs}; LogisticRegression on 2000x20)")
        print(f"  script run directly {direct:.2f} s   as a training job {job:.2f} s")
        print(f"  ratio {job / direct:.2f}x   overhead {job - direct:.2f} s")


if __name__ == "__main__":
    main()
