"""``crosstrain data ...``: the course dataset (:mod:`crosstrain.datasets`)."""

from __future__ import annotations

import click

from crosstrain.cli.common import Suggesting
from crosstrain.errors import CrosstrainError


@click.group(cls=Suggesting)
def data() -> None:
    """The course dataset: a messy, realistic subscription business."""


@data.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=None, help="Seed (default: the learners' seed).")
@click.option("--secret", default=None, help="Derive the hidden grading seed from a secret.")
@click.option("--customers", type=click.IntRange(10, 1_000_000), default=5000, show_default=True)
def data_generate(out_dir, seed, secret, customers) -> None:
    """Write the raw CSVs (customers, plans, usage, tickets, labels) to --out."""
    from crosstrain import datasets

    if seed is not None and secret is not None:
        raise CrosstrainError("--seed and --secret exclude each other; pick one")
    if secret is not None:
        seed = datasets.hidden_seed(secret)
    elif seed is None:
        seed = datasets.LEARNER_SEED
    paths = datasets.write_raw(datasets.generate(seed, customers), out_dir)
    for path in paths:
        click.echo(str(path))


COMMANDS = [data]
