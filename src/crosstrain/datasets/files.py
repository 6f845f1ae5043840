"""Raw CSV files: what the labs upload, and reading them back."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .data import ChurnData
from .schema import TABLES


def write_raw(data: ChurnData, directory: str | os.PathLike) -> list[Path]:
    """Write the raw tables as CSVs in ``directory`` (created if needed); return the paths.

    Same data, same bytes: UTF-8, ``\\n`` line endings, no index, every value as generated.
    """
    if data.clean:
        raise ValueError("write_raw needs the raw data from generate(), not cleaned data")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in TABLES:
        path = directory / t.file
        getattr(data, t.name).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        paths.append(path)
    return paths


def read_raw(directory: str | os.PathLike, seed: int | None = None) -> ChurnData:
    """Read the CSVs ``write_raw`` wrote, every value as text; ``seed`` only labels the result."""
    directory = Path(directory)
    tables = {
        t.name: pd.read_csv(directory / t.file, dtype=str, keep_default_na=False) for t in TABLES
    }
    return ChurnData(seed=seed, **tables)
