"""The `crosstrain` command: a thin layer over the Python API.

Every command that reports takes ``--json``. Errors a user can cause are raised as
:class:`~crosstrain.errors.CrosstrainError` and printed as one line with a non-zero exit.
"""

from __future__ import annotations

import json
import os
import sys

import click

from crosstrain import __version__
from crosstrain.errors import CrosstrainError


def emit_json(data) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


def console():
    from rich.console import Console

    return Console()


class Group(click.Group):
    """A click group that turns user errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CrosstrainError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crosstrain")
def main() -> None:
    """crosstrain: hands-on ML + cloud labs against a local, offline AWS."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check that this machine can run crosstrain; print a fix for each problem."""
    from crosstrain.doctor import healthy, run_doctor

    findings = run_doctor()
    if as_json:
        emit_json({"healthy": healthy(findings), "findings": [f.as_dict() for f in findings]})
    else:
        from rich.table import Table

        table = Table(title="crosstrain doctor")
        for col in ("check", "status", "detail", "fix"):
            table.add_column(col)
        for f in findings:
            bad = "[red]FAIL[/]" if f.required else "[yellow]warn[/]"
            status = "[green]ok[/]" if f.ok else bad
            table.add_row(f.check, status, f.detail, f.fix)
        console().print(table)
        for f in findings:
            if not f.ok and f.required:
                click.echo(f"fix: {f.check}: {f.fix}", err=True)
    if not healthy(findings):
        sys.exit(1)


# --- sandbox commands (owner: sandbox) ---
def _announce(sb) -> None:
    """Say where the sandbox runs, where its state lives, and any notice it gave."""
    health = sb.health()
    for notice in health["notices"]:
        click.echo(f"notice: {notice}", err=True)
    where = health["state"].get("dir") or "nowhere (ephemeral)"
    click.echo(f"sandbox running at {sb.endpoint_url} (pid {sb.pid}); state kept in {where}")
    click.echo('point your shell at it:  eval "$(crosstrain sandbox env)"')


def _serve_foreground(sb) -> None:
    """Announce a sandbox we started, wait until Ctrl-C or until it exits, then clean up.

    Everything after the start happens inside the ``try``, so a Ctrl-C at any moment stops the
    sandbox and removes its run record.
    """
    from crosstrain.sandbox import lifecycle

    try:
        _announce(sb)
        click.echo("press Ctrl-C to stop")
        code = sb.process.wait()
        click.echo(f"the sandbox stopped (exit code {code})", err=True)
    except KeyboardInterrupt:
        click.echo("stopping the sandbox ...", err=True)
        sb.stop()
    finally:
        lifecycle.clear_record(sb.port)


@main.group()
def sandbox() -> None:
    """The local AWS: start, stop, inspect and reset it."""


@sandbox.command("up")
@click.option("--port", type=int, default=None, help="Port to listen on (default 4566).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Where state is kept.")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
@click.option("--enforce-iam", is_flag=True, help="Check IAM policies for non-admin keys.")
@click.option("--detach", is_flag=True, help="Run in the background; stop with `sandbox down`.")
@click.option(
    "--backend",
    type=click.Choice(["embedded", "endpoint", "aws"]),
    default="embedded",
    show_default=True,
    help="embedded: our own sandbox; endpoint: an emulator you run; aws: a real account.",
)
@click.option("--endpoint-url", help="With --backend endpoint: the emulator's URL.")
@click.option("--profile", help="With --backend aws: the named AWS profile to use.")
@click.option(
    "--i-understand-this-uses-real-aws", "aws_opt_in", is_flag=True, help="Opt in to real AWS."
)
def sandbox_up(
    port,
    host,
    state_dir,
    ephemeral,
    enforce_iam,
    detach,
    backend,
    endpoint_url,
    profile,
    aws_opt_in,
) -> None:
    """Start the local AWS sandbox (or point crosstrain at another backend)."""
    from crosstrain.sandbox import lifecycle

    if state_dir and ephemeral:
        raise CrosstrainError("--state-dir and --ephemeral exclude each other; pick one")
    if backend == "endpoint":
        if not endpoint_url:
            raise CrosstrainError("--backend endpoint needs --endpoint-url URL")
        target = lifecycle.use_endpoint(endpoint_url)
        click.echo(f"crosstrain now uses the emulator at {target.endpoint_url}")
        return
    if backend == "aws":
        lifecycle.use_aws(profile, aws_opt_in)
        click.echo(f"crosstrain now uses REAL AWS with profile {profile!r}; charges may apply")
        return
    sb = lifecycle.up(
        port=port,
        host=host,
        state_dir=state_dir,
        ephemeral=ephemeral,
        enforce_iam=enforce_iam,
        detach=detach,
    )
    if not detach:
        _serve_foreground(sb)
        return
    _announce(sb)
    click.echo("running in the background; stop it with `crosstrain sandbox down`")


@sandbox.command("down")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_down(port) -> None:
    """Stop the sandbox (its state is kept unless it was ephemeral)."""
    from crosstrain.sandbox import lifecycle

    click.echo(lifecycle.down(port))


@sandbox.command("status")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def sandbox_status(port, as_json) -> None:
    """Is a sandbox running, where, and what does it hold?"""
    from crosstrain.sandbox import lifecycle

    info = lifecycle.status(port)
    if as_json:
        emit_json(info)
    elif not info["running"]:
        click.echo(f"no sandbox is running on port {info['port']}; start one with `make up`")
    else:
        for key, value in info.items():
            click.echo(f"{key:>15}: {value}")
    if not info["running"]:
        sys.exit(1)


@sandbox.command("reset")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_reset(port) -> None:
    """Delete every resource in the sandbox (milliseconds)."""
    from crosstrain.sandbox import lifecycle

    result = lifecycle.connect(port).reset()
    click.echo(f"sandbox reset in {result['seconds'] * 1000:.1f} ms")


@sandbox.command("env")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_env(port) -> None:
    """Print `export` lines that point boto3, the aws CLI and awslocal at the sandbox."""
    from crosstrain.sandbox import Sandbox, SandboxError, lifecycle

    try:
        target = lifecycle.connect(port)
    except SandboxError as err:
        click.echo(f"warning: {err}", err=True)
        target = Sandbox(f"http://127.0.0.1:{port or lifecycle.default_port()}")
    for line in lifecycle.env_lines(target):
        click.echo(line)


@sandbox.command("services")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--cloudformation-types",
    "cfn_types",
    is_flag=True,
    help="List the CloudFormation resource types the sandbox creates and those it does not.",
)
def sandbox_services(as_json, cfn_types) -> None:
    """The ledger: per service, emulated by moto, run for real, or a stub."""
    from crosstrain.sandbox.core.ledger import ledger

    if cfn_types:
        from crosstrain.sandbox.services.cloudformation.support import (
            supported_types,
            unsupported_types,
        )

        types = {"supported": list(supported_types()), "unsupported": unsupported_types()}
        if as_json:
            emit_json(types)
        else:
            for kind, names in types.items():
                click.echo(f"{kind} ({len(names)}):")
                click.echo("\n".join(f"  {name}" for name in names))
        return
    rows = ledger()
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table(title="crosstrain sandbox services")
    for col in ("service", "mode", "note"):
        table.add_column(col)
    colour = {"real": "green", "moto": "cyan", "stub": "yellow"}
    for row in rows:
        table.add_row(row["service"], f"[{colour[row['mode']]}]{row['mode']}[/]", row["note"])
    console().print(table)


@main.command()
@click.option("--port", type=int, default=8000, show_default=True, help="Port of the site.")
@click.option("--sandbox-port", type=int, default=None, help="Sandbox port (default 4566).")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option("--jupyter", is_flag=True, help="Also start JupyterLab on the workspace.")
def up(port, sandbox_port, ephemeral, no_browser, jupyter) -> None:
    """The main job: the sandbox, the site and its API on 127.0.0.1, until Ctrl-C."""
    from crosstrain.web.server import serve

    serve(
        port,
        sandbox_port=sandbox_port,
        ephemeral=ephemeral,
        open_browser=not no_browser,
        jupyter=jupyter,
    )


# --- data commands (owner: datasets) ---
@main.group()
def data() -> None:
    """The course dataset: a messy, realistic subscription business."""


@data.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=None, help="Seed (default: the learners' seed).")
@click.option("--secret", default=None, help="Derive the hidden grading seed from a secret.")
@click.option("--customers", type=click.IntRange(10, 1_000_000), default=5000, show_default=True)
def data_generate(out_dir, seed, secret, customers) -> None:
    """Write the raw CSVs (customers, plans, usage, tickets, labels) to --out."""
    from crosstrain import datasets

    if seed is not None and secret is not None:
        raise CrosstrainError("--seed and --secret exclude each other; pick one")
    if secret is not None:
        seed = datasets.hidden_seed(secret)
    elif seed is None:
        seed = datasets.LEARNER_SEED
    paths = datasets.write_raw(datasets.generate(seed, customers), out_dir)
    for path in paths:
        click.echo(str(path))


# --- lab and author commands (owner: labs) ---


WORKSPACE_OPTION = click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace root; each lab goes in DIR/NN-slug (default: $CROSSTRAIN_WORKSPACE or "
    "./workspace).",
)


@main.group()
def lab() -> None:
    """Do the labs: list, start, check, skip, reset, status."""


@lab.command("list")
@click.option("--track", type=click.Choice(["ml-for-cloud-engineers", "cloud-for-data-scientists"]))
@WORKSPACE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the labs as JSON.")
def lab_list(track: str | None, root: str | None, as_json: bool) -> None:
    """The labs: id, title, tracks, minutes and your progress."""
    from crosstrain.labs.catalog import list_labs
    from crosstrain.labs.progress import lab_progress
    from crosstrain.labs.workspace import workspace_root

    rows = []
    for entry in list_labs(track):
        m = entry.manifest
        done = lab_progress(workspace_root(root), m.id, {s.id: s.points for s in m.steps})
        rows.append(
            {
                "id": m.id,
                "title": m.title,
                "tracks": m.tracks,
                "minutes": m.minutes,
                "points": done["points"],
                "max_points": done["max_points"],
            }
        )
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table(title="crosstrain labs")
    for col in ("id", "title", "tracks", "minutes", "progress"):
        table.add_column(col)
    for r in rows:
        progress = f"{r['points']}/{r['max_points']}"
        table.add_row(r["id"], r["title"], ", ".join(r["tracks"]), str(r["minutes"]), progress)
    console().print(table)


@lab.command("start")
@click.argument("name", metavar="LAB")
@WORKSPACE_OPTION
def lab_start(name: str, root: str | None) -> None:
    """Copy LAB's starter into the workspace (never overwriting your files); print the next step."""
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.runner import connect_sandbox, next_step
    from crosstrain.labs.workspace import start_workspace

    entry = get_lab(name)
    result = start_workspace(entry, root)
    click.echo(f"{entry.slug}: {entry.manifest.title} -> {result.workspace}")
    click.echo(f"  copied {len(result.copied)} files; kept {len(result.kept)} of yours unchanged")
    sb = connect_sandbox()
    click.echo(f"  sandbox: {sb.endpoint_url or 'real AWS'}")
    click.echo('  point your shell (and Jupyter) at it: eval "$(crosstrain sandbox env)"')
    step = next_step(entry, root)
    if step is None:
        click.echo("All steps are done. `crosstrain lab reset` starts over.")
    else:
        click.echo(
            f"Next: {step.title} ({step.id}); then `crosstrain lab check {entry.slug} {step.id}`"
        )


def _results_table(report) -> None:
    from rich.table import Table

    colours = {"passed": "green", "failed": "red", "error": "yellow"}
    table = Table(title=f"{report.lab.slug}: {report.points}/{report.max_points} points")
    for col in ("step", "check", "points", "result", "message", "hint"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        result = f"[{colours[r.status]}]{r.status}[/]"
        table.add_row(r.step, r.check, f"{r.points}/{r.max_points}", result, r.message, r.hint)
    console().print(table)


@lab.command("check")
@click.argument("name", metavar="LAB")
@click.argument("step", required=False)
@WORKSPACE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML here.")
def lab_check(name: str, step: str | None, root: str | None, as_json: bool, junit: str | None):
    """Check LAB (or one STEP of it); exit 1 unless every check passed."""
    from pathlib import Path

    from crosstrain.labs.runner import check_lab, junit_xml

    report = check_lab(name, step, root)
    if junit:
        Path(junit).write_text(junit_xml(report))
    if as_json:
        emit_json(report.as_dict())
    else:
        _results_table(report)
    if not report.passed:
        sys.exit(1)


@lab.command("skip")
@click.argument("name", metavar="LAB")
@click.argument("step")
@WORKSPACE_OPTION
@click.option("--yes", is_flag=True, help="Replace files you changed without asking (backed up).")
def lab_skip(name: str, step: str, root: str | None, yes: bool) -> None:
    """Run the reference solves of LAB up to and including STEP."""
    from crosstrain.labs.solves import skip_lab

    def confirm(files: list[str]) -> bool:
        if yes:
            return True
        click.echo(f"Skipping replaces files you changed: {', '.join(files)} (backed up first).")
        return click.confirm("Go ahead?", default=False)

    result = skip_lab(name, step, root, confirm)
    click.echo(f"ran the solves of: {', '.join(result.steps)}")
    if result.backup:
        click.echo(f"your previous files are in {result.backup}")


@lab.command("reset")
@click.argument("name", metavar="LAB")
@WORKSPACE_OPTION
def lab_reset(name: str, root: str | None) -> None:
    """Delete LAB's sandbox resources and restore its starter (your files are backed up first)."""
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.solves import reset_lab

    slug = get_lab(name).slug
    saved = reset_lab(slug, root)
    click.echo(f"{slug}: resources removed, starter restored, progress back to 0")
    if saved:
        click.echo(f"your previous files are in {saved}")


@lab.command("status")
@WORKSPACE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the progress as JSON.")
def lab_status(root: str | None, as_json: bool) -> None:
    """Your progress across the labs you started."""
    from crosstrain.labs.catalog import list_labs
    from crosstrain.labs.progress import status
    from crosstrain.labs.workspace import workspace_root

    rows = status(workspace_root(root), list_labs())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No lab started yet: `crosstrain lab list`, then `crosstrain lab start LAB`.")
        return
    from rich.table import Table

    table = Table(title="crosstrain progress")
    for col in ("lab", "title", "steps done", "points", "last check"):
        table.add_column(col)
    for r in rows:
        steps = f"{len(r['steps_done'])}/{r['steps']}"
        points = f"{r['points']}/{r['max_points']}"
        table.add_row(r["lab"], r["title"], steps, points, r["last_run"] or "never")
    console().print(table)


@main.group()
def author() -> None:
    """Write labs: scaffold, release starters, prove them with the self-test."""


@author.command("new")
@click.argument("slug", metavar="NN-slug")
def author_new(slug: str) -> None:
    """Create a lab in labs/, solutions/, graders/ and docs/labs/ with one working step."""
    from crosstrain.labs.scaffold import new_lab

    for path in new_lab(slug):
        click.echo(f"created {path}")
    click.echo(f"Prove it: crosstrain author test {slug}")


def _chosen_labs(name: str | None) -> list:
    from crosstrain.labs.catalog import get_lab, list_labs

    return [get_lab(name)] if name else list_labs()


@author.command("release")
@click.argument("name", metavar="[LAB]", required=False)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a starter is stale.")
def author_release(name: str | None, check: bool) -> None:
    """Regenerate starter files from the solutions (nbgrader clears the solution regions)."""
    from crosstrain.labs.release import release, stale_starters

    stale_any = False
    for entry in _chosen_labs(name):
        changed = stale_starters(entry) if check else release(entry)
        stale_any = stale_any or bool(changed)
        verb = "stale" if check else "regenerated"
        for rel in changed:
            click.echo(f"{entry.slug}: {verb} {rel}")
        if not changed:
            click.echo(f"{entry.slug}: starter up to date")
    if check and stale_any:
        sys.exit(1)


@author.command("test")
@click.argument("name", metavar="[LAB]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def author_test(name: str | None, as_json: bool) -> None:
    """Prove LAB (or every lab) both ways, in fresh sandboxes; exit 1 on any failure."""
    from crosstrain.labs.selftest import self_test

    def show(finding) -> None:
        mark = click.style("ok  ", fg="green") if finding.ok else click.style("FAIL", fg="red")
        detail = f" — {finding.detail}" if finding.detail else ""
        click.echo(f"  {mark} {finding.name}{detail}")

    reports = []
    for entry in _chosen_labs(name):
        if not as_json:
            click.echo(f"{entry.slug}")
        report = self_test(entry, report=None if as_json else show)
        reports.append(report)
        if not as_json and report.unreached_hints:
            click.echo(f"  hints no case reaches: {', '.join(report.unreached_hints)}")
    if as_json:
        emit_json([r.as_dict() for r in reports])
    if not all(r.ok for r in reports):
        sys.exit(1)


# --- grading commands (owner: grading) ---
@main.command("grade")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False))
@click.option("--lab", required=True, help="The lab the submissions are for, e.g. 00.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output.")
@click.option("--jobs", type=click.IntRange(min=1), help="Submissions graded at once (cores).")
@click.option("--timeout", type=click.FloatRange(min=1), help="Seconds per notebook or script.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), default=1024, show_default=True)
@click.option("--secret", envvar="CROSSTRAIN_GRADING_SECRET", help="Course secret (hidden cases).")
@click.option("--regrade", is_flag=True, help="Grade again students already graded.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def grade_command(submissions, lab, out_dir, jobs, timeout, memory_mb, secret, regrade, as_json):
    """Grade a folder of submissions (per-student folders or zips) for LAB into --out."""
    from crosstrain.grading.batch import grade

    try:
        summary = grade(
            submissions,
            lab,
            out_dir,
            jobs=jobs,
            timeout=timeout,
            memory_mb=memory_mb,
            secret=secret,
            regrade=regrade,
            progress=not as_json,
        )
    except CrosstrainError as err:
        if err.exit_code != 130:
            raise
        # Interrupted: every finished grade is saved. A submission still stopping must not hold
        # the exit (its sandbox and processes die with this process).
        click.echo(f"error: {err}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
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
    if summary.graded:
        click.echo(f"learner code ran {summary.isolation}")


@main.group()
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


if __name__ == "__main__":  # pragma: no cover
    main()
