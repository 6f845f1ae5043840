"""Pages the build generates from the code: the labs index and the reference pages."""

from __future__ import annotations


def labs_index(config) -> str:
    """The Labs landing page: one card per lab (filled in by :func:`lab_cards`)."""
    return "\n".join(
        [
            "# Labs",
            "",
            "Each lab is a page of steps with a **Check** button per step. Start with `00` if "
            "the sandbox is new to you; each card says what the lab needs first.",
            "",
            "<!-- lab-cards -->",
            "",
        ]
    )


def ledger_reference(config) -> str:
    """The sandbox services ledger as a table, generated from ``crosstrain.sandbox.core.ledger``."""
    from crosstrain.sandbox.core.ledger import ledger

    lines = [
        "# Sandbox services",
        "",
        "What the local sandbox does for each AWS service (generated from "
        "`crosstrain.sandbox.core.ledger`; `crosstrain sandbox services` prints the same table).",
        "",
        "- **real**: crosstrain runs it for real: code executes, queries compute answers.",
        "- **moto**: moto emulates the control plane: resources are stored and described.",
        "- **stub**: calls succeed but nothing happens behind them; do not rely on the result.",
        "",
        "| service | mode | note |",
        "|---|---|---|",
    ]
    for row in ledger():
        note = row["note"].replace("|", "\\|")
        lines.append(f"| `{row['service']}` | {row['mode']} | {note} |")
    return "\n".join(lines) + "\n"


def cli_reference(config) -> str:
    """Every `crosstrain` command's ``--help``, generated from the click command tree."""
    import click

    from crosstrain.cli import main

    lines = [
        "# Command line",
        "",
        "Every command of `crosstrain`, as its `--help` prints it (generated from the code).",
        "",
    ]

    def visit(command, name: str, parent) -> None:
        ctx = click.Context(command, info_name=name, parent=parent, terminal_width=100)
        lines.extend([f"## `{ctx.command_path}`", "", "```text", command.get_help(ctx), "```", ""])
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                visit(command.get_command(ctx, sub), sub, ctx)

    visit(main, "crosstrain", None)
    return "\n".join(lines)


def settings_reference(config) -> str:
    """Every ``CROSSTRAIN_*`` setting, generated from :class:`crosstrain.settings.Settings`."""
    from crosstrain.settings import reference

    return reference()
