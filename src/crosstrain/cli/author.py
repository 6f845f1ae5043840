"""``crosstrain author ...``: write and prove labs (:mod:`crosstrain.labs`)."""

from __future__ import annotations

import sys

import click

from crosstrain.cli.common import Suggesting, emit_json


@click.group(cls=Suggesting)
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


@author.command("mark")
@click.argument("name", metavar="[LAB]", required=False)
def author_mark(name: str | None) -> None:
    """Give solution-notebook cells holding ### BEGIN SOLUTION their nbgrader metadata."""
    from crosstrain.labs.release import mark_notebook

    for entry in _chosen_labs(name):
        notebooks = sorted(entry.solution_dir.rglob("*.ipynb"))
        for path in notebooks:
            if ".ipynb_checkpoints" in path.parts:
                continue
            marked = mark_notebook(path)
            rel = path.relative_to(entry.solution_dir)
            if marked:
                click.echo(f"{entry.slug}: {rel}: marked {', '.join(marked)}")
        click.echo(f"{entry.slug}: solution cells marked; release with crosstrain author release")


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


COMMANDS = [author]
