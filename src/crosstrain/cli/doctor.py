"""``crosstrain doctor``: is this machine ready? (over :mod:`crosstrain.cli.checkup`)."""

from __future__ import annotations

import sys

import click

from crosstrain.cli.common import console, emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check that this machine can run crosstrain; print a fix for each problem."""
    from crosstrain.cli.checkup import healthy, run_doctor

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


COMMANDS = [doctor]
