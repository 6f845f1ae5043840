"""What every command module shares: the error-catching group, JSON and table output."""

from __future__ import annotations

import difflib
import json
import os
import sys

import click

from crosstrain.errors import CrosstrainError
from crosstrain.settings import default

INTERRUPTED = 130


class Suggesting(click.Group):
    """A click group that answers an unknown command with the closest ones it knows."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.5)
            if not close or name in self.list_commands(ctx):
                raise
            raise click.UsageError(
                f"no command {name!r}; did you mean: {', '.join(close)}?", ctx
            ) from None


class Group(Suggesting):
    """A click group that turns user errors into one line and an exit code, never a traceback.

    An interrupted command (exit code 130) leaves at once: every result it finished is saved by
    then, and work still stopping (a grading thread, a sandbox shutting down) must not hold the
    exit — its processes die with this one.
    """

    def invoke(self, ctx):
        show_notices()
        try:
            return super().invoke(ctx)
        except CrosstrainError as err:
            click.echo(f"error: {err}", err=True)
            if err.exit_code == INTERRUPTED:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(INTERRUPTED)
            sys.exit(err.exit_code)


def show_notices() -> None:
    """Print what crosstrain's rooms log at WARNING (a store recovered ...) as ``notice:`` lines."""
    import logging

    class Notices(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            click.echo(f"notice: {record.getMessage()}", err=True)  # the stderr of the moment
            if record.exc_info:  # a bug (the site's API logs them): the details belong here
                click.echo(logging.Formatter().formatException(record.exc_info), err=True)

    logger = logging.getLogger("crosstrain")
    if not any(type(h).__name__ == "Notices" for h in logger.handlers):
        logger.addHandler(Notices(logging.WARNING))


def emit_json(data) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


def console():
    """A rich console on stdout (imported only by the commands that draw tables)."""
    from rich.console import Console

    return Console()


WORKSPACE_OPTION = click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace root; each lab goes in DIR/NN-slug (default: $CROSSTRAIN_WORKSPACE or "
    "./workspace).",
)


def sandbox_port_option(flag: str = "--port", what: str = "Port of the sandbox"):
    """The sandbox's port option; unset means the settings' port (``CROSSTRAIN_SANDBOX_PORT``)."""
    return click.option(
        flag,
        "port" if flag == "--port" else "sandbox_port",
        type=click.IntRange(1, 65535),
        default=None,
        help=f"{what} (default {default('sandbox_port')}, or $CROSSTRAIN_SANDBOX_PORT).",
    )
