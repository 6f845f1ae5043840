"""Benchmark: grade a generated class of lab 00 with --jobs 1 and --jobs 2, and against nbgrader.

    .venv/bin/python benchmarks/grade_class.py            # 60 submissions, all three runs
    .venv/bin/python benchmarks/grade_class.py --count 12 --skip-nbgrader
    .venv/bin/python benchmarks/grade_class.py --count 12 --baseline-src /tmp/main/src

Submissions are a third each: correct (the solution), partial (the solution notebook with the
starter's Lambda handler: 8/10) and broken (the untouched starter: 0/10). The baseline is nbgrader
autograding the equivalent notebooks of the exported course (``course export-nbgrader``), one
after the other through its Python API, in the same run. Prints wall times and ratios; the
target is 60 submissions in at most 180 s with --jobs 2 on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

LAB = "00-sandbox-orientation"
NOTEBOOK = "orientation.ipynb"
TARGET_SECONDS = 180


def make_class(folder: Path, count: int) -> dict[str, str]:
    """Write ``count`` submissions; return student → kind."""
    from crosstrain.labs.catalog import get_lab

    lab = get_lab(LAB)
    kinds = {}
    for i in range(count):
        kind = ("correct", "partial", "broken")[i % 3]
        student = f"s{i:03d}-{kind}"
        target = folder / student
        (target / "function").mkdir(parents=True)
        notebook = lab.lab_dir / NOTEBOOK if kind == "broken" else lab.solution_dir / NOTEBOOK
        handler = lab.solution_dir if kind == "correct" else lab.lab_dir
        shutil.copy2(notebook, target / NOTEBOOK)
        shutil.copy2(handler / "function" / "handler.py", target / "function" / "handler.py")
        kinds[student] = kind
    return kinds


def cpu_seconds() -> float:
    """CPU time of this process and of every child it waited for (sandboxes, supervisors...)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_crosstrain(subs: Path, out: Path, jobs: int, secret: str) -> tuple[float, dict]:
    from crosstrain.grading.batch import grade

    started, cpu = time.monotonic(), cpu_seconds()
    summary = grade(subs, LAB, out, jobs=jobs, secret=secret, progress=True)
    time.sleep(3)  # let the last sandboxes, stopped in the background, be reaped and counted
    data = summary.as_dict() | {"cpu_seconds": cpu_seconds() - cpu}
    return time.monotonic() - started - 3, data


GRADE_IN_SUBPROCESS = """
import json, resource, sys, time
from crosstrain.grading.batch import grade
subs, out, jobs, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
started = time.monotonic()
summary = grade(subs, "00-sandbox-orientation", out, jobs=jobs, secret=secret, progress=False)
wall = time.monotonic() - started
time.sleep(3)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "mean": summary.mean_points,
                  "statuses": summary.statuses}))
"""


def time_code(
    src: str, subs: Path, out: Path, jobs: int, secret: str, python: str = sys.executable
) -> dict:
    """Grade with the crosstrain in ``src`` (another checkout's ``src/``), in a subprocess."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": src}
    argv = [python, "-c", GRADE_IN_SUBPROCESS, str(subs), str(out), str(jobs), secret]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(
    baseline_src: str, work: Path, count: int, secret: str, rounds: int, python: str
) -> dict:
    """This crosstrain against ``baseline_src``, alternating, ``rounds`` times each, --jobs 2:
    seconds and CPU seconds per submission, and the ratios (new / baseline)."""
    import crosstrain

    ours = str(Path(crosstrain.__file__).resolve().parents[1])
    runs: dict[str, list[dict]] = {"baseline": [], "new": []}
    sides = (("baseline", baseline_src, python), ("new", ours, sys.executable))
    for i in range(rounds):
        for name, src, exe in sides:
            out = work / f"out-{name}-{i}"
            runs[name].append(time_code(src, work / "submissions", out, 2, secret, exe))
    figures = {}
    for name, found in runs.items():
        figures[f"{name}_wall_per_submission"] = round(
            sum(r["wall"] for r in found) / rounds / count, 2
        )
        figures[f"{name}_cpu_per_submission"] = round(
            sum(r["cpu"] for r in found) / rounds / count, 2
        )
        figures[f"{name}_mean_points"] = found[-1]["mean"]
        figures[f"{name}_statuses"] = found[-1]["statuses"]
    for what in ("wall", "cpu"):
        base = figures[f"baseline_{what}_per_submission"]
        figures[f"{what}_ratio_new_vs_baseline"] = round(
            figures[f"new_{what}_per_submission"] / base, 3
        )
    return figures


def time_nbgrader(work: Path, kinds: dict[str, str], secret: str) -> tuple[float, dict]:
    """nbgrader autograding the equivalent notebooks, one student after the other."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from crosstrain.grading.nbgrader_export import export_nbgrader
    from crosstrain.labs.catalog import get_lab

    lab = get_lab(LAB)
    course = work / "course"
    export_nbgrader(course, [LAB])
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ["CROSSTRAIN_GRADING_SECRET"] = secret
    os.chdir(course)
    config = Config()
    code = (course / "nbgrader_config.py").read_text()
    exec(compile(code, "nbgrader_config.py", "exec"), {"get_config": lambda: config})  # noqa: S102
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    generated = api.generate_assignment(LAB)
    if not generated["success"]:
        raise SystemExit(generated["log"])
    release = course / "release" / LAB
    for student, kind in kinds.items():
        target = course / "submitted" / student / LAB
        shutil.copytree(release, target)
        if kind != "broken":
            shutil.copy2(course / "source" / LAB / NOTEBOOK, target / NOTEBOOK)
        if kind == "correct":
            shutil.copy2(lab.solution_dir / "function/handler.py", target / "function")
    started = time.monotonic()
    for student in kinds:
        api.autograde(LAB, student)
    seconds = time.monotonic() - started
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        scores = {s: gb.find_submission(LAB, s).score for s in kinds}
    return seconds, {"mean_points": round(sum(scores.values()) / max(1, len(scores)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--skip-jobs1", action="store_true")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--keep", help="keep the outputs in this folder")
    parser.add_argument(
        "--baseline-src",
        help="compare with the crosstrain in this src/ folder (e.g. `git archive main` "
        "unpacked): alternating runs, --jobs 2, per-submission seconds and ratios only",
    )
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, with --baseline-src")
    parser.add_argument(
        "--baseline-python",
        default=sys.executable,
        help="the Python the baseline runs with (a venv whose crosstrain is the baseline's, "
        "so its `python -I` children import it too)",
    )
    args = parser.parse_args()
    secret = "benchmark-secret"
    work = Path(args.keep or tempfile.mkdtemp(prefix="crosstrain-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    kinds = make_class(work / "submissions", args.count)
    figures: dict = {"submissions": args.count, "cores": os.cpu_count()}
    if args.baseline_src:
        figures |= compare(
            args.baseline_src, work, args.count, secret, args.rounds, args.baseline_python
        )
        figures["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
        print(json.dumps(figures, indent=2))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return

    t2, s2 = time_crosstrain(work / "submissions", work / "out-jobs2", 2, secret)
    figures["jobs2_seconds"] = round(t2, 1)
    figures["mean_points"] = s2["mean_points"]
    figures["cpu_seconds_per_submission"] = round(s2["cpu_seconds"] / args.count, 2)
    # A floor, not a measurement: the CPU work of 60 submissions spread over 2 idle cores.
    figures["cpu_floor_60_on_2_cores_seconds"] = round(s2["cpu_seconds"] / args.count * 30, 1)
    figures["statuses"] = s2["statuses"]
    if not args.skip_jobs1:
        t1, _ = time_crosstrain(work / "submissions", work / "out-jobs1", 1, secret)
        figures["jobs1_seconds"] = round(t1, 1)
        figures["speedup_jobs2_vs_jobs1"] = round(t1 / t2, 2)
    if not args.skip_nbgrader:
        tn, sn = time_nbgrader(work, kinds, secret)
        figures["nbgrader_seconds"] = round(tn, 1)
        figures["nbgrader_mean_points"] = sn["mean_points"]
        figures["jobs2_vs_nbgrader"] = round(tn / t2, 2)
        if "jobs1_seconds" in figures:
            figures["jobs1_vs_nbgrader"] = round(tn / figures["jobs1_seconds"], 2)
    projected = t2 / args.count * 60
    figures["projected_60_seconds_jobs2"] = round(projected, 1)
    figures["target_met"] = projected <= TARGET_SECONDS
    figures["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    figures["outputs"] = str(work)
    print(json.dumps(figures, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
