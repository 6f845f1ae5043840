"""``crosstrain up``: the sandbox, the site and its API (:func:`crosstrain.web.server.serve`)."""

from __future__ import annotations

import click

from crosstrain.cli.common import sandbox_port_option
from crosstrain.settings import default


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help=f"Port of the site (default {default('site_port')}, or $CROSSTRAIN_SITE_PORT).",
)
@sandbox_port_option("--sandbox-port", "Port of the sandbox")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option(
    "--jupyter/--no-jupyter",
    default=True,
    show_default=True,
    help="Start JupyterLab on the workspace (--no-jupyter if you prefer your editor).",
)
def up(port, sandbox_port, ephemeral, no_browser, jupyter) -> None:
    """The workbench: the sandbox, the site, its API and JupyterLab on 127.0.0.1, until Ctrl-C."""
    from crosstrain.web.server import serve

    serve(
        port,
        sandbox_port=sandbox_port,
        ephemeral=ephemeral,
        open_browser=not no_browser,
        jupyter=jupyter,
    )


COMMANDS = [up]
