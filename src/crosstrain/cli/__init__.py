"""The `crosstrain` command: a thin layer over the Python API, one module per command group.

Every command that reports takes ``--json``. Errors a user can cause are raised as
:class:`~crosstrain.errors.CrosstrainError` and printed as one line with a non-zero exit.

===========  ===============================================  =============================
module       commands                                         calls into
===========  ===============================================  =============================
doctor       ``doctor``                                       :mod:`crosstrain.cli.checkup`
sandbox      ``sandbox up|down|status|reset|env|services``    :mod:`crosstrain.sandbox`
up           ``up``                                           :mod:`crosstrain.web.server`
shell        ``shell``                                        :mod:`crosstrain.web.safe_env`
data         ``data generate``                                :mod:`crosstrain.datasets`
lab          ``lab list|start|check|skip|reset|status``,      :mod:`crosstrain.labs`
             ``check`` (= ``lab check``)
author       ``author new|release|test``                      :mod:`crosstrain.labs`
grade        ``grade``, ``course export-nbgrader``            :mod:`crosstrain.grading`
===========  ===============================================  =============================
"""

from __future__ import annotations

import click

from crosstrain import __version__
from crosstrain.cli import author, data, doctor, grade, lab, sandbox, shell, up
from crosstrain.cli.common import Group

__all__ = ["main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crosstrain")
def main() -> None:
    """crosstrain: hands-on ML + cloud labs against a local, offline AWS."""


for _module in (doctor, sandbox, up, shell, data, lab, author, grade):
    for _command in _module.COMMANDS:
        main.add_command(_command)
# `crosstrain check LAB [STEP]`: the command learners type most, without the group.
main.add_command(lab.lab_check, "check")
