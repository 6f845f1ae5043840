"""The reference cleaning that graders compare learners' work against.

Per column: trim whitespace; read the missing tokens as missing; parse the three date formats
(slashed dates are month/day/year); map every spelling to its canonical category; parse numbers
and blank those outside the column's valid range (outliers). Per table: drop rows that are
duplicates once cleaned (exact and near duplicates alike), then sort by the primary key.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .data import ChurnData
from .schema import DATE_FORMATS, MISSING_TOKENS, TABLES, Column, Table
from .simulate import conform

_MISSING = {token.lower() for token in MISSING_TOKENS}


def clean_reference(data: ChurnData) -> ChurnData:
    """The reference cleaning of raw ``data`` (clean data is returned as it is)."""
    if data.clean:
        return data
    tables = {t.name: clean_table(getattr(data, t.name), t) for t in TABLES}
    return replace(data, clean=True, **tables)


def clean_table(raw: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``raw`` (strings, as read from the CSV) cleaned, de-duplicated, typed and sorted."""
    columns = {}
    for col in table.columns:
        text = raw[col.name].fillna("").astype(str).str.strip()
        columns[col.name] = _parse(text.where(~text.str.lower().isin(_MISSING)), col)
    df = pd.DataFrame(columns).drop_duplicates()
    clashes = df[df.duplicated(list(table.key), keep=False)]
    if len(clashes):
        raise ValueError(f"{table.name}: rows share a key but differ:\n{clashes.head()}")
    df = conform(df, table).sort_values(list(table.key), kind="stable")
    return df.reset_index(drop=True)


def _parse(text: pd.Series, col: Column) -> pd.Series:
    if col.kind == "date":
        return _parse_dates(text, col)
    if col.kind == "category":
        return _parse_categories(text, col)
    if col.kind in ("int", "float", "label"):
        values = pd.to_numeric(text)
        if col.valid is not None:
            values = values.where(values.between(*col.valid))
        return values
    return text


def _parse_dates(text: pd.Series, col: Column) -> pd.Series:
    parsed = [pd.to_datetime(text, format=fmt, errors="coerce") for fmt in DATE_FORMATS]
    dates = parsed[0]
    for more in parsed[1:]:
        dates = dates.fillna(more)
    _refuse(text[text.notna() & dates.isna()], col)
    return dates


def _parse_categories(text: pd.Series, col: Column) -> pd.Series:
    spellings = {
        spelling.strip().lower(): canonical
        for canonical, variants in col.categories.items()
        for spelling in (canonical, *variants)
    }
    values = text.str.lower().map(spellings)
    _refuse(text[text.notna() & values.isna()], col)
    return values


def _refuse(unreadable: pd.Series, col: Column) -> None:
    if len(unreadable):
        raise ValueError(f"{col.name}: cannot read {sorted(set(unreadable))[:5]}")
