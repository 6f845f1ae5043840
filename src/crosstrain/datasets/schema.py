"""The dataset's schema as data: tables, columns, clean types, valid ranges, spellings and mess.

Everything else (generation, mess, cleaning, the data card) reads these definitions, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SNAPSHOT_DATE = "2024-06-30"  # features describe the business as of this day
LABEL_WINDOW = ("2024-07-01", "2024-09-30")  # churned = cancelled within this window
HISTORY_START = "2023-07-01"  # first month of usage and tickets (12 months of history)

MISSING_TOKENS = ("", "NA", "N/A", "null")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d %b %Y")  # ISO, US month-first, day-month-name
DATE_EXAMPLES = ("2024-03-01", "03/01/2024", "1 Mar 2024")

MESS_KINDS = {
    "exact duplicates": "the same row appears more than once, byte for byte",
    "near duplicates": "the same customer exported twice with different formatting "
    "(date format, category spelling, whitespace); identical once cleaned",
    "missing": "a value left out: an empty field or "
    + ", ".join(f"`{t}`" for t in MISSING_TOKENS if t),
    "dates": "dates written as "
    + ", ".join(f"`{d}`" for d in DATE_EXAMPLES)
    + " (slashed dates are always month/day/year)",
    "spelling": "categories written with other case, stray whitespace or abbreviations "
    "(see the spelling table)",
    "outliers": "impossible values (negative or absurdly large) outside the valid range",
    "leak": "known only after the snapshot date: it gives the label away",
}


def _variants(canonical: str, *extra: str) -> tuple[str, ...]:
    return (canonical.lower(), canonical.upper(), f"{canonical.lower()} ", f" {canonical}", *extra)


PLANS = {
    "Basic": _variants("Basic", "Bas", "basic plan"),
    "Standard": _variants("Standard", "Std", "std."),
    "Premium": _variants("Premium", "Prem", "PREM"),
    "Family": _variants("Family", "Fam", "Family plan"),
}
CONTRACTS = {
    "Monthly": _variants("Monthly", "month-to-month", "M2M"),
    "Annual": _variants("Annual", "yearly", "12 months"),
    "Two-year": _variants("Two-year", "two year", "2yr", "24 months"),
}
PAYMENT_METHODS = {
    "Card": _variants("Card", "credit card", "CC"),
    "Direct debit": _variants("Direct debit", "direct_debit", "DD"),
    "PayPal": _variants("PayPal", "Pay Pal", "pp"),
}
REGIONS = {name: _variants(name) for name in ("North", "South", "East", "West")}
TICKET_CATEGORIES = {
    "Billing": _variants("Billing", "bill", "billing issue"),
    "Technical": _variants("Technical", "tech", "technical problem"),
    "Account": _variants("Account", "acct", "account change"),
    "Other": _variants("Other", "misc"),
}
TICKET_STATUSES = {
    "Open": _variants("Open", "in progress"),
    "Resolved": _variants("Resolved", "closed", "done"),
}
CANCELLATION_REASONS = {
    name: ()
    for name in (
        "Price",
        "Competitor",
        "Not using it",
        "Service problems",
        "Payment problems",
        "Moving",
        "Other",
    )
}

# Kinds of column and the pandas type each has once cleaned.
CLEAN_TYPES = {
    "id": "str",
    "date": "datetime64[ns]",
    "category": "category",
    "int": "Int64",
    "float": "float64",
    "label": "int64",
}


@dataclass(frozen=True)
class Column:
    """One column: its kind, meaning, valid range, canonical categories and injected mess."""

    name: str
    kind: str  # a key of CLEAN_TYPES
    description: str
    mess: tuple[str, ...] = ()
    valid: tuple[float, float] | None = None  # inclusive; values outside are outliers
    categories: dict[str, tuple[str, ...]] | None = None  # canonical -> raw variants

    def dtype(self):
        """The pandas dtype of this column in the clean reference."""
        if self.kind == "category":
            return pd.CategoricalDtype(list(self.categories))
        return CLEAN_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One table: its CSV file, primary key, columns and table-level mess."""

    name: str
    file: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    mess: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _customer_id(what: str) -> Column:
    return Column("customer_id", "id", what)


CUSTOMERS = Table(
    "customers",
    "customers.csv",
    f"One row per customer with an active subscription on the snapshot date ({SNAPSHOT_DATE}), "
    "as exported from the CRM.",
    ("customer_id",),
    (
        _customer_id("Customer identifier: `C` and six digits."),
        Column("signup_date", "date", "Day the subscription started.", ("dates", "missing")),
        Column(
            "plan",
            "category",
            "Current plan; joins `plans.plan`.",
            ("spelling",),
            categories=PLANS,
        ),
        Column(
            "contract_type",
            "category",
            "Billing commitment: monthly, annual or two-year.",
            ("spelling", "missing"),
            categories=CONTRACTS,
        ),
        Column(
            "payment_method",
            "category",
            "How the customer pays.",
            ("spelling", "missing"),
            categories=PAYMENT_METHODS,
        ),
        Column(
            "region",
            "category",
            "Sales region of the billing address.",
            ("spelling", "missing"),
            categories=REGIONS,
        ),
        Column("age", "int", "Age in years.", ("missing", "outliers"), valid=(18, 100)),
        Column(
            "monthly_fee",
            "float",
            "What the customer pays per month in USD, after promotions and price rises; "
            "compare with `plans.list_price`.",
            ("missing", "outliers"),
            valid=(0, 200),
        ),
        Column(
            "failed_payments_12m",
            "int",
            "Failed payment attempts in the 12 months before the snapshot.",
            ("missing",),
            valid=(0, 24),
        ),
        Column(
            "cancellation_reason",
            "category",
            "Reason recorded when the customer asked to cancel, empty otherwise. Filled in after "
            "the snapshot date, so it is unknown at prediction time: drop it before modelling.",
            ("leak",),
            categories=CANCELLATION_REASONS,
        ),
    ),
    ("exact duplicates", "near duplicates"),
)

PLANS_TABLE = Table(
    "plans",
    "plans.csv",
    "The price list: one row per plan. Clean (the reference table).",
    ("plan",),
    (
        Column("plan", "category", "Plan name.", categories=PLANS),
        Column("list_price", "float", "Current list price per month in USD.", valid=(0, 200)),
        Column(
            "max_devices", "int", "Devices that may use the subscription at once.", valid=(1, 10)
        ),
    ),
)

USAGE = Table(
    "usage",
    "usage_monthly.csv",
    "One row per customer and calendar month since signup, for the 12 months up to the snapshot.",
    ("customer_id", "month"),
    (
        _customer_id("Customer; joins `customers.customer_id`."),
        Column("month", "date", "First day of the month the row describes.", ("dates",)),
        Column(
            "active_days",
            "int",
            "Days in the month with at least one session.",
            ("missing", "outliers"),
            valid=(0, 31),
        ),
        Column(
            "sessions", "int", "Sessions in the month.", ("missing", "outliers"), valid=(0, 2000)
        ),
        Column(
            "data_gb",
            "float",
            "Data transferred in the month, in GB.",
            ("missing", "outliers"),
            valid=(0, 1000),
        ),
    ),
    ("exact duplicates",),
)

TICKETS = Table(
    "tickets",
    "support_tickets.csv",
    "One row per support ticket opened in the 12 months up to the snapshot.",
    ("ticket_id",),
    (
        Column("ticket_id", "id", "Ticket identifier: `T` and seven digits."),
        _customer_id("Customer who opened the ticket; joins `customers.customer_id`."),
        Column("opened_date", "date", "Day the ticket was opened.", ("dates",)),
        Column(
            "category",
            "category",
            "What the ticket is about.",
            ("spelling", "missing"),
            categories=TICKET_CATEGORIES,
        ),
        Column(
            "status",
            "category",
            "State on the snapshot date; `closed` and `done` mean resolved.",
            ("spelling",),
            categories=TICKET_STATUSES,
        ),
        Column(
            "satisfaction",
            "int",
            "Rating from 1 to 5 after resolution; often not given, never for open tickets.",
            valid=(1, 5),
        ),
    ),
    ("exact duplicates",),
)

CHURN = Table(
    "churn",
    "churn_labels.csv",
    "The label: one row per customer.",
    ("customer_id",),
    (
        _customer_id("Customer; joins `customers.customer_id`."),
        Column(
            "churned",
            "label",
            f"1 if the customer cancelled between {LABEL_WINDOW[0]} and {LABEL_WINDOW[1]}, else 0.",
        ),
    ),
)

TABLES = (CUSTOMERS, PLANS_TABLE, USAGE, TICKETS, CHURN)
LEAK_COLUMN = "cancellation_reason"
LABEL = "churned"


def schema() -> tuple[Table, ...]:
    """All tables, in the order they are written and documented."""
    return TABLES
