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
    ### BEGIN SOLUTION
    column = column.astype("string").str.strip()
    return column.mask(column.str.lower().isin(MISSING))
    ### END SOLUTION


def parse_dates(column: pd.Series) -> pd.Series:
    """Try each format the export uses; a value keeps the first format that reads it."""
    ### BEGIN SOLUTION
    column = text(column)
    dates = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        dates = dates.fillna(pd.to_datetime(column, format=fmt, errors="coerce"))
    return dates
    ### END SOLUTION


def canonical(column: pd.Series, spellings: dict[str, list[str]]) -> pd.Series:
    """Map every spelling (any case, any surrounding spaces) to its canonical value."""
    ### BEGIN SOLUTION
    lookup = {}
    for value, others in spellings.items():
        for spelling in [value, *others]:
            lookup[spelling.lower()] = value
    return text(column).str.lower().map(lookup).astype(pd.CategoricalDtype(list(spellings)))
    ### END SOLUTION


def number(column: pd.Series, low: float, high: float) -> pd.Series:
    """Numbers; impossible values (outliers) become missing, the row stays."""
    ### BEGIN SOLUTION
    values = pd.to_numeric(text(column), errors="coerce")
    return values.where(values.between(low, high))
    ### END SOLUTION


def clean_customers(customers: pd.DataFrame, churn: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: the customers export cleaned, typed and de-duplicated, with
    ``churned`` (an integer, 0 or 1) joined from the churn labels. Dates as datetime64, age and
    failed_payments_12m as Int64, monthly_fee as float, categories in their canonical spelling,
    sorted by customer_id."""
    ### BEGIN SOLUTION
    out = pd.DataFrame({"customer_id": text(customers["customer_id"])})
    out["signup_date"] = parse_dates(customers["signup_date"])
    for name in ("plan", "contract_type", "payment_method", "region"):
        out[name] = canonical(customers[name], SPELLINGS[name])
    for name, (low, high) in VALID.items():
        out[name] = number(customers[name], low, high)
    out[INTEGERS] = out[INTEGERS].astype("Int64")
    out["cancellation_reason"] = canonical(
        customers["cancellation_reason"], SPELLINGS["cancellation_reason"]
    )
    # Clean first, then de-duplicate: a customer exported twice with other spellings or date
    # formats is only recognisable as a duplicate once both copies are clean.
    out = out.drop_duplicates()
    labels = pd.DataFrame(
        {
            "customer_id": text(churn["customer_id"]),
            "churned": pd.to_numeric(churn["churned"]).astype("int64"),
        }
    )
    out = out.merge(labels.drop_duplicates(), on="customer_id", how="left", validate="m:1")
    return out.sort_values("customer_id").reset_index(drop=True)
    ### END SOLUTION
