"""``crosstrain up``: the sandbox, the site and its API (:func:`crosstrain.web.server.serve`)."""

from __future__ import annotations

import click


@click.command()
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


COMMANDS = [up]
