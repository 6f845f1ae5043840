"""Benchmark: grading at scale — the pre-imported sandboxes against the current path, and the
Dask executor with 1 and 2 workers against local grading, on one generated class, in one run.

    .venv/bin/python benchmarks/grade_scale.py                   # 60 submissions, every run
    .venv/bin/python benchmarks/grade_scale.py --count 12 --skip-nbgrader

Submissions of lab 00, a quarter each: correct (10/10), partial (the starter's Lambda handler:
8/10), zero (the untouched starter) and crashing (the solution with a cell that raises first:
the notebook stops at once). Runs, in this order, on the same submissions:

- ``current``: ``--jobs 2``, each sandbox a new Python process (the path before the zygote);
- ``pooled``: ``--jobs 2``, each sandbox forked from the batch's pre-imported zygote;
- ``dask-1`` / ``dask-2``: a ``LocalCluster`` of 1 / 2 single-threaded worker processes;
- ``nbgrader``: nbgrader autograding the equivalent notebooks (``grade_class.py``'s baseline).

Prints wall times, throughput, the ratios, Dask's scaling efficiency (t1 / (2 × t2)), each Dask
worker's resident memory, and whether every run gave every student the same points.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from grade_class import LAB, NOTEBOOK, time_nbgrader  # noqa: E402

SECRET = "benchmark-secret"
KINDS = ("correct", "partial", "zero", "crashing")


def make_class(folder: Path, count: int) -> dict[str, str]:
    """``count`` submissions, a quarter of each kind; student → kind."""
    import nbformat
    from nbformat.v4 import new_code_cell

    from crosstrain.labs.catalog import get_lab

    lab = get_lab(LAB)
    kinds = {}
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        student = f"s{i:03d}-{kind}"
        target = folder / student
        (target / "function").mkdir(parents=True)
        source = lab.lab_dir if kind == "zero" else lab.solution_dir
        handler = lab.solution_dir if kind in ("correct", "crashing") else lab.lab_dir
        shutil.copy2(handler / "function/handler.py", target / "function/handler.py")
        nb = nbformat.read(source / NOTEBOOK, as_version=4)
        if kind == "crashing":
            nb.cells.insert(1, new_code_cell("raise RuntimeError('crashed on purpose')"))
        nbformat.write(nb, target / NOTEBOOK)
        kinds[student] = kind
    return kinds


def points(out: Path) -> dict[str, str]:
    with open(out / "gradebook.csv") as fh:
        return {r["student"]: r["total"] for r in csv.DictReader(fh)}


def timed(name: str, subs: Path, work: Path, **kw) -> dict:
    from crosstrain.grading.batch import grade

    out = work / f"out-{name}"
    started = time.monotonic()
    summary = grade(subs, LAB, out, secret=SECRET, progress=True, **kw)
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 1),
        "per_submission": round(seconds / summary.total, 2),
        "per_minute": round(summary.total / seconds * 60, 1),
        "mean_points": summary.mean_points,
        "statuses": summary.statuses,
        "points": points(out),
    }


def dask_run(name: str, workers: int, subs: Path, work: Path) -> dict:
    import psutil
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        figures = timed(name, subs, work, executor="dask", scheduler=cluster.scheduler_address)
        with Client(cluster.scheduler_address, set_as_default=False) as client:
            rss = client.run(lambda: psutil.Process().memory_info().rss)
        figures["worker_rss_mb"] = sorted(round(v / 2**20) for v in rss.values())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--keep", help="keep the outputs in this folder")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="crosstrain-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    subs = work / "submissions"
    kinds = make_class(subs, args.count)
    report: dict = {
        "submissions": args.count,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    runs: dict[str, dict] = {}
    runs["current"] = timed("current", subs, work, jobs=2, pool=False)
    runs["pooled"] = timed("pooled", subs, work, jobs=2, pool=True)
    if not args.skip_dask:
        runs["dask-1"] = dask_run("dask-1", 1, subs, work)
        runs["dask-2"] = dask_run("dask-2", 2, subs, work)
    if not args.skip_nbgrader:
        nb_kinds = {s: {"zero": "broken", "crashing": "broken"}.get(k, k) for s, k in kinds.items()}
        seconds, extra = time_nbgrader(work, nb_kinds, SECRET)
        runs["nbgrader"] = {"seconds": round(seconds, 1), **extra}
    reference = runs["current"]["points"]
    report["identical_points"] = {
        name: run["points"] == reference for name, run in runs.items() if "points" in run
    }
    t = {name: run["seconds"] for name, run in runs.items()}
    ratios = {"pooled_speedup_vs_current": round(t["current"] / t["pooled"], 2)}
    if "dask-2" in t:
        ratios["dask2_vs_local_pooled"] = round(t["dask-2"] / t["pooled"], 2)
        ratios["dask_scaling_efficiency"] = round(t["dask-1"] / (2 * t["dask-2"]), 2)
    if "nbgrader" in t:
        ratios["pooled_speedup_vs_nbgrader"] = round(t["nbgrader"] / t["pooled"], 2)
    report["projected_60_pooled_seconds"] = round(t["pooled"] / args.count * 60, 1)
    for run in runs.values():
        run.pop("points", None)
    report |= {"runs": runs, "ratios": ratios}
    report["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
