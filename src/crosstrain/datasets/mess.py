"""Turn the true tables into the raw, messy text a business system exports.

Every raw table is a DataFrame of strings, exactly what ``write_raw`` puts in the CSV. The kinds
of mess and the columns they touch come from the schema; how much of each comes from ``Mess``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import DATE_FORMATS, MISSING_TOKENS, TABLES, Column, Table

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Mess:
    """How much of each kind of mess to inject (shares between 0 and 1)."""

    exact_duplicates: float = 0.02  # rows repeated verbatim, in tables that allow it
    near_duplicates: float = 0.03  # customers exported a second time with other formatting
    missing: float = 0.03  # cells blanked, in columns that allow it
    outliers: float = 0.005  # cells replaced by impossible values, in columns that allow it
    mixed_dates: float = 0.4  # dates not written in ISO format
    misspellings: float = 0.25  # category values not written in their canonical spelling

    def __post_init__(self):
        for name, value in vars(self).items():
            if not 0 <= value <= 1:
                raise ValueError(f"Mess.{name} must be between 0 and 1, got {value}")


DEFAULT_MESS = Mess()
NO_MESS = Mess(0, 0, 0, 0, 0, 0)


def make_raw(truth: dict[str, pd.DataFrame], mess: Mess, seed: int) -> dict[str, pd.DataFrame]:
    """The raw string tables for the true tables ``truth``."""
    return {
        t.name: _raw_table(truth[t.name], t, mess, np.random.default_rng([seed, 1, i]))
        for i, t in enumerate(TABLES)
    }


def _raw_table(
    df: pd.DataFrame, table: Table, mess: Mess, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(df)
    cells, damaged = {}, {}
    for col in table.columns:
        text = _render(df[col.name], col, mess, rng)
        damaged[col.name] = np.zeros(n, dtype=bool)
        if "outliers" in col.mess:
            hit = (rng.random(n) < mess.outliers) & df[col.name].notna().to_numpy()
            text[hit] = _render_number(_outliers(df[col.name].to_numpy()[hit], col, rng), col)
            damaged[col.name] |= hit
        if "missing" in col.mess:
            hit = rng.random(n) < mess.missing
            text[hit] = np.array(MISSING_TOKENS, dtype=object)[
                rng.integers(len(MISSING_TOKENS), size=hit.sum())
            ]
            damaged[col.name] |= hit
        cells[col.name] = text
    raw = pd.DataFrame(cells)
    extra = []
    if "exact duplicates" in table.mess:
        extra.append(raw.iloc[_sample(rng, n, mess.exact_duplicates)])
    if "near duplicates" in table.mess:
        rows = _sample(rng, n, mess.near_duplicates)
        extra.append(_near_duplicates(df.iloc[rows], raw.iloc[rows], damaged, rows, table, rng))
    if not extra:
        return raw
    # Put each copy at a random place in the export, keeping the originals in order.
    copies = pd.concat(extra)
    order = np.concatenate([np.arange(n) + 0.5, rng.uniform(0, n, len(copies))])
    out = pd.concat([raw, copies]).iloc[np.argsort(order, kind="stable")]
    return out.reset_index(drop=True)


def _sample(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return np.sort(rng.choice(n, round(share * n), replace=False))


def _near_duplicates(
    truth: pd.DataFrame,
    raw: pd.DataFrame,
    damaged: dict[str, np.ndarray],
    rows: np.ndarray,
    table: Table,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The same records written again with other date formats and spellings, same damage."""
    again = Mess(mixed_dates=0.8, misspellings=0.8)
    out = raw.copy()
    for col in table.columns:
        if col.kind in ("date", "category"):
            text = _render(truth[col.name], col, again, rng)
            keep = damaged[col.name][rows] | pd.isna(truth[col.name]).to_numpy()
            out[col.name] = np.where(keep, raw[col.name].to_numpy(), text)
    return out


def _render(values: pd.Series, col: Column, mess: Mess, rng: np.random.Generator) -> np.ndarray:
    """``values`` written as text; true missing values become empty fields."""
    if col.kind == "date":
        text = _render_dates(values, mess, rng)
    elif col.kind == "category":
        text = _render_categories(values, col, mess, rng)
    elif col.kind in ("int", "float", "label"):
        text = _render_number(values.to_numpy(dtype=float, na_value=np.nan), col)
    else:
        text = values.to_numpy(dtype=object).copy()
    text[pd.isna(values).to_numpy()] = ""
    return text


def _render_number(values: np.ndarray, col: Column) -> np.ndarray:
    if col.kind == "float":
        return np.array([f"{v:.2f}" for v in values], dtype=object)
    return np.array([f"{v:.0f}" for v in values], dtype=object)


def _render_dates(values: pd.Series, mess: Mess, rng: np.random.Generator) -> np.ndarray:
    n = len(values)
    fmt = np.where(
        rng.random(n) < mess.mixed_dates, 1 + rng.integers(len(DATE_FORMATS) - 1, size=n), 0
    )
    filled = values.fillna(pd.Timestamp("2000-01-01"))
    y, m, d = (filled.dt.year.to_numpy(), filled.dt.month.to_numpy(), filled.dt.day.to_numpy())
    writers = (  # DATE_FORMATS, in order; the day-month-name format has no leading zero
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        lambda y, m, d: f"{m:02d}/{d:02d}/{y:04d}",
        lambda y, m, d: f"{d} {MONTH_NAMES[m - 1]} {y:04d}",
    )
    return np.array([writers[f](*ymd) for f, *ymd in zip(fmt, y, m, d, strict=True)], dtype=object)


def _render_categories(
    values: pd.Series, col: Column, mess: Mess, rng: np.random.Generator
) -> np.ndarray:
    text = values.astype(object).to_numpy().copy()
    misspell = rng.random(len(text)) < mess.misspellings
    pick = rng.random(len(text))
    for canonical, variants in col.categories.items():
        hit = misspell & (text == canonical)
        if variants and hit.any():
            text[hit] = np.array(variants, dtype=object)[(pick[hit] * len(variants)).astype(int)]
    return text


def _outliers(values: np.ndarray, col: Column, rng: np.random.Generator) -> np.ndarray:
    """Impossible values: the true value made negative, or blown up far beyond the valid range."""
    values = values.astype(float)
    high = col.valid[1]
    negative = -np.abs(values) - 1 - col.valid[0]
    absurd = values * 100 + 10 * high
    return np.where(rng.random(len(values)) < 0.5, negative, absurd)
