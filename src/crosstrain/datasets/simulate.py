"""The true, clean business: customers, plans, usage, tickets and who churns (no mess yet).

Churn is drawn from a logistic model of plausible drivers: contract type, tenure, paying above
the plan's list price, usage fading over the last months, (unresolved) support tickets, failed
payments and overall engagement, plus noise no feature explains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import (
    CANCELLATION_REASONS,
    CONTRACTS,
    HISTORY_START,
    PAYMENT_METHODS,
    PLANS,
    REGIONS,
    SNAPSHOT_DATE,
    TABLES,
    Table,
)

PLAN_PRICES = {"Basic": 9.99, "Standard": 15.99, "Premium": 22.99, "Family": 29.99}
PLAN_DEVICES = {"Basic": 1, "Standard": 2, "Premium": 4, "Family": 6}
HISTORY_MONTHS = 12

# Churn model: log-odds contributions.
INTERCEPT = -2.0
CONTRACT_EFFECT = {"Monthly": 0.8, "Annual": -0.4, "Two-year": -1.2}
TENURE_EFFECT = -0.35  # per log(1 + tenure in months)
OVERPRICE_EFFECT = 4.0  # per unit of (fee / list price - 1)
FADING_EFFECT = 2.5  # usage fading over the last months
OPEN_TICKET_EFFECT = 0.8  # per unresolved ticket, up to 3
TICKET_EFFECT = 0.1  # per ticket, up to 6
FAILED_PAYMENT_EFFECT = 0.3  # per failed payment, up to 5
ENGAGEMENT_EFFECT = -0.3  # per standard deviation of baseline activity
NOISE_SD = 0.5


def simulate(seed: int, n_customers: int) -> dict[str, pd.DataFrame]:
    """The true tables for ``seed``, typed as the clean reference types them."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    rng = np.random.default_rng([seed, 0])
    snapshot = pd.Timestamp(SNAPSHOT_DATE)
    c = _customers(rng, n_customers, snapshot)
    months = pd.date_range(HISTORY_START, periods=HISTORY_MONTHS, freq="MS")
    usage = _usage(rng, c, months)
    tickets = _tickets(rng, c, snapshot)
    churned = _churn(rng, c, tickets)
    c["cancellation_reason"] = _cancellation_reasons(rng, c, tickets, churned)
    plans = pd.DataFrame(
        {
            "plan": list(PLAN_PRICES),
            "list_price": list(PLAN_PRICES.values()),
            "max_devices": list(PLAN_DEVICES.values()),
        }
    )
    churn = pd.DataFrame({"customer_id": c["customer_id"], "churned": churned.astype(int)})
    tables = {"customers": c, "plans": plans, "usage": usage, "tickets": tickets, "churn": churn}
    return {t.name: conform(tables[t.name], t) for t in TABLES}


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``df`` reduced to ``table``'s columns, in order, with their clean dtypes."""
    out = df[table.column_names].copy()
    for col in table.columns:
        out[col.name] = out[col.name].astype(col.dtype())
    return out.reset_index(drop=True)


def _pick(rng: np.random.Generator, options: dict, p: list[float], n: int) -> np.ndarray:
    return np.array(list(options), dtype=object)[rng.choice(len(options), n, p=p)]


def _customers(rng: np.random.Generator, n: int, snapshot: pd.Timestamp) -> pd.DataFrame:
    tenure_days = 20 + np.minimum(rng.exponential(800, n), 2300).astype(int)
    plan = _pick(rng, PLANS, [0.35, 0.35, 0.2, 0.1], n)
    list_price = np.array([PLAN_PRICES[p] for p in plan])
    # Most pay list price; some kept a promotion, some had a price rise the others did not.
    u = rng.random(n)
    factor = np.where(u < 0.15, 0.8, np.where(u < 0.7, 1.0, 1 + rng.uniform(0.05, 0.35, n)))
    stressed = rng.random(n) < 0.12  # customers whose payments tend to fail
    failed = np.minimum(rng.poisson(np.where(stressed, 2.0, 0.15)), 12)
    return pd.DataFrame(
        {
            "customer_id": [f"C{100001 + i}" for i in range(n)],
            "signup_date": snapshot - pd.to_timedelta(tenure_days, unit="D"),
            "plan": plan,
            "contract_type": _pick(rng, CONTRACTS, [0.55, 0.3, 0.15], n),
            "payment_method": _pick(rng, PAYMENT_METHODS, [0.5, 0.3, 0.2], n),
            "region": _pick(rng, REGIONS, [0.3, 0.25, 0.2, 0.25], n),
            "age": np.clip(np.round(rng.normal(41, 13, n)), 18, 85).astype(int),
            "monthly_fee": np.round(list_price * factor, 2),
            "failed_payments_12m": failed,
            # Latent traits, used below and dropped by conform():
            "tenure_months": tenure_days / 30.44,
            "overprice": factor - 1,
            "activity": np.clip(rng.normal(0.45, 0.15, n), 0.05, 0.95),
            "sessions_per_day": rng.lognormal(1.0, 0.4, n),
            "gb_per_session": rng.lognormal(np.log(0.15), 0.5, n),
            "fading": (rng.random(n) < 0.2).astype(int),
            "fade_start": rng.integers(6, HISTORY_MONTHS - 1, n),
            "fade_rate": rng.uniform(0.15, 0.35, n),
        }
    )


def _usage(rng: np.random.Generator, c: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    n, m = len(c), len(months)
    cust = np.repeat(np.arange(n), m)
    k = np.tile(np.arange(m), n)
    keep = months[k] > c["signup_date"].to_numpy()[cust]  # whole months after signup
    cust, k = cust[keep], k[keep]
    since_fade = np.maximum(k - c["fade_start"].to_numpy()[cust] + 1, 0)
    fade = (1 - c["fade_rate"].to_numpy()[cust]) ** (since_fade * c["fading"].to_numpy()[cust])
    p = np.clip(c["activity"].to_numpy()[cust] * fade * rng.normal(1, 0.1, len(k)), 0, 1)
    active_days = rng.binomial(months.days_in_month.to_numpy()[k], p)
    sessions = np.minimum(rng.poisson(active_days * c["sessions_per_day"].to_numpy()[cust]), 2000)
    data_gb = sessions * c["gb_per_session"].to_numpy()[cust] * rng.gamma(4, 0.25, len(k))
    return pd.DataFrame(
        {
            "customer_id": c["customer_id"].to_numpy()[cust],
            "month": months[k],
            "active_days": active_days,
            "sessions": sessions,
            "data_gb": np.round(np.minimum(data_gb, 1000), 2),
        }
    )


def _tickets(rng: np.random.Generator, c: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    start = np.maximum(c["signup_date"], pd.Timestamp(HISTORY_START))
    window_days = ((snapshot - start).dt.days + 1).to_numpy()
    failed = c["failed_payments_12m"].to_numpy()
    fading = c["fading"].to_numpy()
    rate = (0.5 + 1.2 * fading + 0.4 * np.minimum(failed, 3)) * window_days / 365
    counts = rng.poisson(rate)
    cust = np.repeat(np.arange(len(c)), counts)
    t = len(cust)
    opened = start.to_numpy()[cust] + pd.to_timedelta(
        (rng.random(t) * window_days[cust]).astype(int), unit="D"
    )
    billing_heavy = failed[cust] > 0
    u = rng.random(t)
    category = np.where(
        u < np.where(billing_heavy, 0.6, 0.3),
        "Billing",
        np.where(
            u < np.where(billing_heavy, 0.85, 0.7),
            "Technical",
            np.where(u < 0.93, "Account", "Other"),
        ),
    )
    recent = (snapshot - opened).days < 30
    is_open = rng.random(t) < 0.08 + 0.45 * recent + 0.15 * fading[cust]
    rated = ~is_open & (rng.random(t) < 0.55)
    rating = np.clip(np.round(rng.normal(3.9 - 1.2 * fading[cust], 1.0, t)), 1, 5)
    tickets = pd.DataFrame(
        {
            "customer_id": c["customer_id"].to_numpy()[cust],
            "opened_date": opened,
            "category": category,
            "status": np.where(is_open, "Open", "Resolved"),
            "satisfaction": pd.array(np.where(rated, rating, np.nan)).astype("Int64"),
        }
    )
    tickets = tickets.sort_values(["opened_date", "customer_id"], kind="mergesort")
    tickets.insert(0, "ticket_id", [f"T{1000001 + i}" for i in range(t)])
    return tickets.reset_index(drop=True)


def _ticket_counts(c: pd.DataFrame, tickets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ids = c["customer_id"]
    total = tickets.groupby("customer_id").size().reindex(ids, fill_value=0).to_numpy()
    open_ = (
        tickets[tickets["status"] == "Open"]
        .groupby("customer_id")
        .size()
        .reindex(ids, fill_value=0)
        .to_numpy()
    )
    return total, open_


def _churn(rng: np.random.Generator, c: pd.DataFrame, tickets: pd.DataFrame) -> np.ndarray:
    total, open_ = _ticket_counts(c, tickets)
    activity = c["activity"].to_numpy()
    logit = (
        INTERCEPT
        + c["contract_type"].map(CONTRACT_EFFECT).to_numpy()
        + TENURE_EFFECT * np.log1p(c["tenure_months"].to_numpy())
        + OVERPRICE_EFFECT * c["overprice"].to_numpy()
        + FADING_EFFECT * c["fading"].to_numpy()
        + OPEN_TICKET_EFFECT * np.minimum(open_, 3)
        + TICKET_EFFECT * np.minimum(total, 6)
        + FAILED_PAYMENT_EFFECT * np.minimum(c["failed_payments_12m"].to_numpy(), 5)
        + ENGAGEMENT_EFFECT * (activity - 0.45) / 0.15
        + rng.normal(0, NOISE_SD, len(c))
    )
    return rng.random(len(c)) < 1 / (1 + np.exp(-logit))


def _cancellation_reasons(
    rng: np.random.Generator, c: pd.DataFrame, tickets: pd.DataFrame, churned: np.ndarray
) -> np.ndarray:
    """Most churners give a reason that matches their driver; a few stayers asked and were saved."""
    n = len(c)
    total, open_ = _ticket_counts(c, tickets)
    reasons = list(CANCELLATION_REASONS)
    weights = np.ones((n, len(reasons)))
    weights[:, reasons.index("Price")] += 4 * (c["overprice"].to_numpy() > 0.04)
    weights[:, reasons.index("Not using it")] += 4 * c["fading"].to_numpy()
    weights[:, reasons.index("Service problems")] += 3 * (open_ > 0)
    weights[:, reasons.index("Payment problems")] += 3 * (c["failed_payments_12m"] > 1)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    chosen = np.minimum((rng.random((n, 1)) > cumulative).sum(axis=1), len(reasons) - 1)
    has_reason = np.where(churned, rng.random(n) < 0.9, rng.random(n) < 0.03)
    return np.where(has_reason, np.array(reasons, dtype=object)[chosen], None)
