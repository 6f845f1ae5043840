"""The sandbox's HTTP front, A/B in one run: werkzeug closing every connection (as before) vs
HTTP/1.1 keep-alive (the ``http_keep_alive`` setting).

For each front, a sandbox serves a scikit-learn SageMaker endpoint (2 model workers); measured:
throughput with 2 boto3 client processes x 2 threads, and one client's latency p50 / p95. The
fronts alternate (A, B, A, B, ...) so both see the same machine load. Goal: >= 600 req/s and
p95 <= 5 ms; adopt keep-alive only if it wins.

    .venv/bin/python benchmarks/front.py [--requests 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics

from serving import X, Y, boto3_throughput, deploy, latency, percentile
from sklearn.linear_model import LogisticRegression

from crosstrain import sandbox


def measure(keep_alive: bool, model, row: str, requests: int) -> tuple[float, float, float]:
    os.environ["CROSSTRAIN_HTTP_KEEP_ALIVE"] = "true" if keep_alive else "false"
    try:
        with sandbox.start() as sb:
            sb.client("s3").create_bucket(Bucket="bench")
            name = deploy(sb, model)
            rps = boto3_throughput(sb, name, row, 2, 2, requests)
            samples = latency(sb, name, row, max(200, requests // 4))
    finally:
        os.environ.pop("CROSSTRAIN_HTTP_KEEP_ALIVE", None)
    return rps, percentile(samples, 50) * 1000, percentile(samples, 95) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    model = LogisticRegression(max_iter=200).fit(X, Y)
    row = ",".join(f"{v:.4f}" for v in X[0])
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    results: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for keep_alive in (False, True):
            results[keep_alive].append(measure(keep_alive, model, row, args.requests))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    print(f"{'front':36} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}   (median of {args.rounds})")
    summary = {}
    for keep_alive, label in ((False, "werkzeug, Connection: close"), (True, "keep-alive")):
        rps, p50, p95 = (statistics.median(x) for x in zip(*results[keep_alive], strict=True))
        summary[keep_alive] = rps
        print(f"{label:36} {rps:8.0f} {p50:8.2f} {p95:8.2f}")
    print(
        f"\nthroughput keep-alive / close: {summary[True] / summary[False]:.2f} (goal >= 600 req/s)"
    )


if __name__ == "__main__":
    main()
