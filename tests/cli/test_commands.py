"""The command tree: the `check` alias, suggestions for a mistyped command, `lab skip LAB`."""

from __future__ import annotations

import click
from click.testing import CliRunner

from crosstrain.cli import lab, main


def test_check_is_lab_check():
    ctx = click.Context(main)
    assert main.get_command(ctx, "check") is lab.lab_check


def test_a_mistyped_command_suggests_the_close_ones():
    result = CliRunner().invoke(main, ["chek"])
    assert result.exit_code == 2
    assert "no command 'chek'; did you mean: check?" in result.output


def test_a_mistyped_subcommand_suggests_too():
    result = CliRunner().invoke(main, ["lab", "stat"])
    assert result.exit_code == 2
    assert "no command 'stat'; did you mean: start, status" in result.output


def test_skip_without_a_step_lists_the_steps():
    result = CliRunner().invoke(main, ["lab", "skip", "11"])
    assert result.exit_code == 2
    assert "model-artifact" in result.output and "threshold" in result.output
    assert "crosstrain lab skip 11 STEP" in result.output
