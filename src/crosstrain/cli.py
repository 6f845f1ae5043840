"""The `crosstrain` command: a thin layer over the Python API.

Every command that reports takes ``--json``. Errors a user can cause are raised as
:class:`~crosstrain.errors.CrosstrainError` and printed as one line with a non-zero exit.
"""

from __future__ import annotations

import json
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


@main.command()
def up() -> None:
    """Start the main job: the local AWS sandbox (and, later, the lab site)."""
    click.echo(
        "crosstrain up will start the local AWS sandbox on http://127.0.0.1:4566 and the lab "
        "site on http://127.0.0.1:8000; neither is built yet, so there is nothing to start."
    )


# --- sandbox commands (owner: sandbox) ---


# --- lab and author commands (owner: labs) ---


if __name__ == "__main__":  # pragma: no cover
    main()
