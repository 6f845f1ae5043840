"""``crosstrain grade`` and ``crosstrain course ...``: grade a class (:mod:`crosstrain.grading`)."""

from __future__ import annotations

import click

from crosstrain.cli.common import Suggesting, emit_json
from crosstrain.settings import default, settings


@click.command("grade")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False), required=False)
@click.option("--lab", help="The lab the submissions are for, e.g. 00 (--ci: recognised).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Output folder (--ci: default crosstrain-results).",
)
@click.option("--jobs", type=click.IntRange(min=1), help="Submissions graded at once (cores).")
@click.option("--timeout", type=click.FloatRange(min=1), help="Seconds per notebook or script.")
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(min=64),
    help=f"Memory limit per submission in MB (default {default('grade_memory_mb')}).",
)
@click.option(
    "--secret", help="Course secret for hidden cases (default $CROSSTRAIN_GRADING_SECRET)."
)
@click.option("--regrade", is_flag=True, help="Grade again students already graded.")
@click.option(
    "--student",
    "students",
    multiple=True,
    help="Regrade just this student (repeatable); the others' rows stay as they are.",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False),
    help="Canvas's gradebook export: fills the id columns of lms/canvas.csv.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Grade here (local) or on a Dask cluster (dask, with --scheduler).",
)
@click.option("--scheduler", help="--executor dask: the scheduler's address, tcp://HOST:PORT.")
@click.option(
    "--ci",
    is_flag=True,
    help="Grade one repository (SUBMISSIONS, default .); exit 0/1 by --threshold.",
)
@click.option(
    "--threshold",
    default="100%",
    show_default=True,
    help="--ci: points (7) or share (70%) of the lab's points needed to pass.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def grade_command(
    submissions,
    lab,
    out_dir,
    jobs,
    timeout,
    memory_mb,
    secret,
    regrade,
    students,
    roster,
    executor,
    scheduler,
    ci,
    threshold,
    as_json,
):
    """Grade a folder of submissions (per-student folders or zips) for LAB into --out; with
    --ci, grade the repository checked out here and pass or fail by --threshold."""
    from crosstrain.grading.batch import grade

    config = settings()
    if secret is None and config.grading_secret is not None:
        secret = config.grading_secret.get_secret_value()
    if ci:
        run_ci(submissions or ".", lab, out_dir, threshold, secret, timeout, memory_mb, as_json)
        return
    if not submissions or not lab or not out_dir:
        missing = [
            n
            for n, v in (("SUBMISSIONS", submissions), ("--lab", lab), ("--out", out_dir))
            if not v
        ]
        raise click.UsageError(
            f"missing {', '.join(missing)} (or pass --ci to grade this repository)"
        )
    summary = grade(
        submissions,
        lab,
        out_dir,
        jobs=jobs,
        timeout=timeout,
        memory_mb=memory_mb or config.grade_memory_mb,
        secret=secret,
        regrade=regrade,
        progress=not as_json,
        students=list(students) or None,
        roster=roster,
        executor=executor,
        scheduler=scheduler,
    )
    if as_json:
        emit_json(summary.as_dict())
        return
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary.statuses.items()))
    click.echo(
        f"{summary.lab}: graded {summary.graded}, skipped {summary.skipped} already graded, "
        f"in {summary.seconds:.1f} s; {summary.total} in the gradebook ({statuses}); "
        f"mean {summary.mean_points} / {summary.max_points}"
    )
    click.echo(f"gradebook: {summary.out_dir}/gradebook.csv; feedback: {summary.out_dir}/feedback/")
    click.echo(f"LMS imports (Canvas, Moodle, GitHub Classroom): {summary.out_dir}/lms/")
    if summary.graded:
        click.echo(f"learner code ran {summary.isolation}")


def run_ci(repo, lab, out_dir, threshold, secret, timeout, memory_mb, as_json) -> None:
    """``crosstrain grade --ci``: one repository, exit 0 when it passes, 1 when not."""
    from crosstrain.grading.ci import grade_repo

    outcome = grade_repo(
        repo,
        lab=lab,
        out_dir=out_dir or "crosstrain-results",
        threshold=threshold,
        secret=secret,
        timeout=timeout,
        memory_mb=memory_mb or settings().grade_memory_mb,
    )
    if as_json:
        emit_json(outcome.as_dict())
    else:
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}", err=True)
        verdict = "PASS" if outcome.passed else "FAIL"
        click.echo(
            f"{verdict} {outcome.lab}: {outcome.points} / {outcome.max_points} points "
            f"(pass at {outcome.threshold:g}; {outcome.status}): {outcome.message}"
        )
        click.echo(
            f"feedback: {outcome.out_dir}/{outcome.files[-1]}; junit: "
            f"{outcome.out_dir}/junit.xml; gradescope: {outcome.out_dir}/gradescope.json"
        )
    raise SystemExit(0 if outcome.passed else 1)


@click.group(cls=Suggesting)
def course() -> None:
    """Course-level exports for instructors."""


@course.command("export-nbgrader")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--lab", "labs", multiple=True, help="Export only this lab (repeatable).")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def course_export_nbgrader(directory, labs, force, as_json) -> None:
    """Write an nbgrader course (source notebooks with autograder check cells) to DIRECTORY."""
    from crosstrain.grading.nbgrader_export import export_nbgrader

    written = export_nbgrader(directory, list(labs) or None, force=force)
    if as_json:
        emit_json(written)
        return
    for slug in written["assignments"]:
        click.echo(f"assignment {slug}: {directory}/source/{slug}/")
    click.echo(f"next: cd {directory} && nbgrader generate_assignment <assignment>")


@course.command("export-gradescope")
@click.argument("lab")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="The zip (default: here).")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False), help="Ship this wheel.")
@click.option("--with-secret", is_flag=True, help="Ship $CROSSTRAIN_GRADING_SECRET (hidden cases).")
@click.option("--force", is_flag=True, help="Overwrite an existing zip.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def course_export_gradescope(lab, out, wheel, with_secret, force, as_json) -> None:
    """Write the Gradescope autograder zip for LAB (setup.sh, run_autograder, its graders)."""
    from crosstrain.errors import CrosstrainError
    from crosstrain.grading.gradescope import export_gradescope

    secret = None
    if with_secret:
        configured = settings().grading_secret
        if configured is None:
            raise CrosstrainError("--with-secret needs CROSSTRAIN_GRADING_SECRET set")
        secret = configured.get_secret_value()
    bundle = export_gradescope(lab, out, secret=secret, wheel=wheel, force=force)
    if as_json:
        emit_json(bundle.as_dict())
        return
    click.echo(f"{bundle.lab}: {bundle.path} ({len(bundle.files)} files)")
    click.echo("next: Gradescope → Configure Autograder → Zip file upload → this zip")


COMMANDS = [grade_command, course]
