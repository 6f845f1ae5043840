"""Memory of a sandbox with 20 Lambda functions deployed and idle, before and after, one run.

Deploys 20 hello functions, invokes each once, and measures the sandbox's whole process tree
(the sandbox, zygotes, workers): PSS (proportional set size: pages forked workers share with a
zygote are split between them, not counted once per process as RSS counts them) and RSS. Two
sandboxes in the same run: today's defaults (zygote workers, at most ``idle_workers_max`` idle
workers in the whole sandbox) and the way it was (blank workers, no global cap:
``CROSSTRAIN_WORKER_ZYGOTES=false``, a cap above 20). Goal: <= 150 MB PSS.

    .venv/bin/python benchmarks/idle_memory.py [--functions 20]
"""

from __future__ import annotations

import argparse
import os
import time

import psutil
from lambda_invoke import HELLO, client, deploy, make_zip

from crosstrain import sandbox


def tree_memory(pid: int) -> tuple[float, float, int]:
    """(PSS MB, RSS MB, processes) of ``pid`` and its descendants."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    pss = rss = 0.0
    for proc in processes:
        try:
            full = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        pss += full.pss
        rss += full.rss
    return pss / 2**20, rss / 2**20, len(processes)


def measure(label: str, functions: int, env: dict[str, str]) -> tuple[str, float, float, int]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # read by crosstrain's settings here and inherited by the sandbox
    try:
        with sandbox.start() as sb:
            lam = client("lambda", sb.endpoint_url)
            code = make_zip({"app.py": HELLO})
            for i in range(functions):
                deploy(sb.endpoint_url, f"hello-{i}", code)
            for i in range(functions):
                lam.invoke(FunctionName=f"hello-{i}", Payload=b"{}")["Payload"].read()
            time.sleep(1.0)  # let evicted workers exit and the zygotes settle
            pss, rss, count = tree_memory(sb.pid)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return label, pss, rss, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=20)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    rows = [
        measure("now: zygotes, global idle cap (default)", args.functions, {}),
        measure(
            "before: blank workers, no global cap",
            args.functions,
            {"CROSSTRAIN_WORKER_ZYGOTES": "false", "CROSSTRAIN_IDLE_WORKERS_MAX": "1000"},
        ),
        measure(
            "zygotes, no global cap",
            args.functions,
            {"CROSSTRAIN_IDLE_WORKERS_MAX": "1000"},
        ),
    ]
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    print(f"{args.functions} functions invoked once, idle; the sandbox's process tree")
    print(f"{'configuration':44} {'PSS MB':>8} {'RSS MB':>8} {'procs':>6}")
    for label, pss, rss, count in rows:
        print(f"{label:44} {pss:8.1f} {rss:8.1f} {count:6d}")
    now, before = rows[0][1], rows[1][1]
    print(f"\nPSS now / before: {now / before:.2f}; now {now:.0f} MB (goal <= 150 MB)")


if __name__ == "__main__":
    main()
