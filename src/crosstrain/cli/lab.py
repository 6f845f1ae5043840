"""``crosstrain lab ...``: do the labs (:mod:`crosstrain.labs`)."""

from __future__ import annotations

import sys

import click

from crosstrain.cli.common import WORKSPACE_OPTION, Suggesting, console, emit_json


@click.group(cls=Suggesting)
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
        from crosstrain.cli.results import show_report

        show_report(report, console())
    if not report.passed:
        sys.exit(1)


@lab.command("skip")
@click.argument("name", metavar="LAB")
@click.argument("step", required=False)
@WORKSPACE_OPTION
@click.option("--yes", is_flag=True, help="Replace files you changed without asking (backed up).")
def lab_skip(name: str, step: str | None, root: str | None, yes: bool) -> None:
    """Run the reference solves of LAB up to and including STEP (without STEP: list the steps)."""
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.solves import skip_lab

    if step is None:
        entry = get_lab(name)
        click.echo(f"{entry.slug} has these steps; skip to one: `crosstrain lab skip {name} STEP`")
        for each in entry.manifest.steps:
            click.echo(f"  {each.id:<24} {each.title}")
        sys.exit(2)

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


COMMANDS = [lab]
