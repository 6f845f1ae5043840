"""The modelling view: one row per customer, features known at the snapshot date, and the label."""

from __future__ import annotations

import pandas as pd

from .clean import clean_reference
from .data import ChurnData
from .schema import LABEL, LEAK_COLUMN, SNAPSHOT_DATE

CATEGORICAL_FEATURES = {
    "plan": "Current plan.",
    "contract_type": "Monthly, Annual or Two-year.",
    "payment_method": "Card, Direct debit or PayPal.",
    "region": "Sales region.",
}
NUMERIC_FEATURES = {
    "tenure_months": "Months from signup to the snapshot date.",
    "age": "Age in years.",
    "monthly_fee": "What the customer pays per month (USD).",
    "list_price": "The plan's list price per month (USD).",
    "fee_vs_list": "`monthly_fee / list_price`: above 1 means paying more than today's list price.",
    "failed_payments_12m": "Failed payment attempts in the last 12 months.",
    "months_of_usage": "Months with a usage row (at most 12).",
    "active_days_3m": "Mean active days per month over the last 3 months (Apr-Jun 2024).",
    "sessions_3m": "Mean sessions per month over the last 3 months.",
    "data_gb_3m": "Mean GB per month over the last 3 months.",
    "usage_change": "Change in active days, last 3 months against the 3 before, relative: "
    "`(last - before) / (before + 1)`.",
    "tickets_12m": "Support tickets opened in the last 12 months.",
    "open_tickets": "Tickets still open on the snapshot date.",
    "satisfaction_mean": "Mean rating of the customer's rated tickets.",
}
FEATURES = {**CATEGORICAL_FEATURES, **NUMERIC_FEATURES}


def training_frame(data: ChurnData, include_leak: bool = False) -> pd.DataFrame:
    """``customer_id``, the features and ``churned``; one row per customer, sorted by id.

    Built from the clean reference (raw ``data`` is cleaned first). Missing values stay missing
    for the model's pipeline to impute. ``include_leak=True`` adds ``cancellation_reason``, for
    labs that show what a leak does; it is never a legitimate feature.
    """
    d = clean_reference(data)
    c = d.customers.set_index("customer_id")
    f = pd.DataFrame(index=c.index)
    f["tenure_months"] = ((pd.Timestamp(SNAPSHOT_DATE) - c["signup_date"]).dt.days / 30.44).round(1)
    for name in CATEGORICAL_FEATURES:
        f[name] = c[name]
    f["age"] = c["age"].astype("float64")
    f["monthly_fee"] = c["monthly_fee"]
    prices = d.plans.set_index("plan")["list_price"]
    f["list_price"] = c["plan"].map(prices).astype("float64")
    f["fee_vs_list"] = (f["monthly_fee"] / f["list_price"]).round(3)
    f["failed_payments_12m"] = c["failed_payments_12m"].astype("float64")
    f = f.join(_usage_features(d.usage)).join(_ticket_features(d.tickets))
    counts = ["months_of_usage", "tickets_12m", "open_tickets"]
    f[counts] = f[counts].fillna(0)
    if include_leak:
        f[LEAK_COLUMN] = c[LEAK_COLUMN]
    f[LABEL] = d.churn.set_index("customer_id")[LABEL]
    return f[[*FEATURES, *([LEAK_COLUMN] if include_leak else []), LABEL]].reset_index()


def _usage_features(usage: pd.DataFrame) -> pd.DataFrame:
    u = usage.assign(**{c: usage[c].astype("float64") for c in ("active_days", "sessions")})
    last = u[u["month"] >= "2024-04-01"].groupby("customer_id")
    before = u[u["month"].between("2024-01-01", "2024-03-01")].groupby("customer_id")
    out = pd.DataFrame(
        {
            "months_of_usage": u.groupby("customer_id").size(),
            "active_days_3m": last["active_days"].mean(),
            "sessions_3m": last["sessions"].mean(),
            "data_gb_3m": last["data_gb"].mean(),
        }
    )
    previous = before["active_days"].mean().reindex(out.index)
    out["usage_change"] = ((out["active_days_3m"] - previous) / (previous + 1)).round(3)
    return out.astype("float64")


def _ticket_features(tickets: pd.DataFrame) -> pd.DataFrame:
    t = tickets.groupby("customer_id")
    return pd.DataFrame(
        {
            "tickets_12m": t.size(),
            "open_tickets": (tickets["status"] == "Open").groupby(tickets["customer_id"]).sum(),
            "satisfaction_mean": t["satisfaction"].mean(),
        }
    ).astype("float64")
