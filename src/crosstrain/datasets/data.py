"""``ChurnData`` (the five tables) and ``generate``, the entry point."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .mess import DEFAULT_MESS, Mess, make_raw
from .schema import TABLES
from .simulate import simulate


@dataclass(frozen=True, eq=False)
class ChurnData:
    """The five tables. Raw tables hold strings as in the CSVs; clean ones are typed."""

    seed: int | None  # None when read back from files
    customers: pd.DataFrame
    plans: pd.DataFrame
    usage: pd.DataFrame
    tickets: pd.DataFrame
    churn: pd.DataFrame
    clean: bool = False

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={len(df)} rows" for name, df in self.tables().items())
        return f"ChurnData(seed={self.seed}, clean={self.clean}, {rows})"

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in schema order."""
        return {t.name: getattr(self, t.name) for t in TABLES}


def generate(seed: int, n_customers: int = 5000, mess: Mess = DEFAULT_MESS) -> ChurnData:
    """The raw, messy dataset for ``seed``: same seed and arguments, same data, byte for byte.

    ``mess`` changes only the mess, never the underlying business: ``clean_reference`` of any two
    datasets with the same seed and size agrees wherever both have a value.
    """
    raw = make_raw(simulate(seed, n_customers), mess, seed)
    return ChurnData(seed=seed, **raw)
