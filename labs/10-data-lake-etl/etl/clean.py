"""Clean the CRM's customers export: typed, canonical, de-duplicated, one row per customer.

``clean_customers(customers, churn)`` takes the raw CSVs as read with
``pd.read_csv(path, dtype=str, keep_default_na=False)`` (every value is text, nothing is
guessed) and returns one row per customer with the churn label joined on.
"""

import pandas as pd

MISSING = {"", "na", "n/a", "null"}
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d %b %Y"]  # ISO, US (month first), "1 Mar 2024"
# Canonical value -> the other spellings found in the export (compared lower-cased, stripped).
SPELLINGS = {
    "plan": {
        "Basic": ["bas", "basic plan"],
        "Standard": ["std", "std."],
        "Premium": ["prem"],
        "Family": ["fam", "family plan"],
    },
    "contract_type": {
        "Monthly": ["month-to-month", "m2m"],
        "Annual": ["yearly", "12 months"],
        "Two-year": ["two year", "2yr", "24 months"],
    },
    "payment_method": {
        "Card": ["credit card", "cc"],
        "Direct debit": ["direct_debit", "dd"],
        "PayPal": ["pay pal", "pp"],
    },
    "region": {"North": [], "South": [], "East": [], "West": []},
    "cancellation_reason": {
        reason: []
        for reason in (
            "Price",
            "Competitor",
            "Not using it",
            "Service problems",
            "Payment problems",
            "Moving",
            "Other",
        )
    },
}
VALID = {"age": (18, 100), "monthly_fee": (0, 200), "failed_payments_12m": (0, 24)}
INTEGERS = ["age", "failed_payments_12m"]


def text(column: pd.Series) -> pd.Series:
    """Trimmed text, with the export's missing-value tokens turned into real missing values."""
    # YOUR CODE HERE
    raise NotImplementedError()


def parse_dates(column: pd.Series) -> pd.Series:
    """Try each format the export uses; a value keeps the first format that reads it."""
    # YOUR CODE HERE
    raise NotImplementedError()


def canonical(column: pd.Series, spellings: dict[str, list[str]]) -> pd.Series:
    """Map every spelling (any case, any surrounding spaces) to its canonical value."""
    # YOUR CODE HERE
    raise NotImplementedError()


def number(column: pd.Series, low: float, high: float) -> pd.Series:
    """Numbers; impossible values (outliers) become missing, the row stays."""
    # YOUR CODE HERE
    raise NotImplementedError()


def clean_customers(customers: pd.DataFrame, churn: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: the customers export cleaned, typed and de-duplicated, with
    ``churned`` (an integer, 0 or 1) joined from the churn labels. Dates as datetime64, age and
    failed_payments_12m as Int64, monthly_fee as float, categories in their canonical spelling,
    sorted by customer_id."""
    # YOUR CODE HERE
    raise NotImplementedError()
