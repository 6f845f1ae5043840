"""What the checks of 10-data-lake-etl compare with: the lab's names, the raw and reference
data of each check data set, how two tables are compared (the first difference, in words) and
how the lake is read."""

import functools
import io
import re
from pathlib import Path

import pandas as pd

from crosstrain import datasets
from crosstrain.datasets.schema import CUSTOMERS
from crosstrain.labs.checks import Fail

BUCKET, DATABASE, TABLE = "churn-lake", "churn_lake", "customers"
RAW = {
    "customers": "raw/customers/customers.csv",
    "plans": "raw/plans/plans.csv",
    "usage": "raw/usage/usage_monthly.csv",
    "tickets": "raw/tickets/support_tickets.csv",
    "churn": "raw/churn/churn_labels.csv",
}
CURATED = "curated/customers/"
LOCATION = f"s3://{BUCKET}/{CURATED}"
RESULTS = f"s3://{BUCKET}/athena-results/"
CLEAN_FILE = "etl/clean.py"
HIDDEN_CUSTOMERS = 2000  # hidden datasets are smaller: same business, faster checks
KINDS = {col.name: col.kind for col in CUSTOMERS.columns} | {"churned": "int"}
COLUMNS = list(KINDS)
PLANS = list(next(c for c in CUSTOMERS.columns if c.name == "plan").categories)
# Parquet physical type -> the Glue types Athena on AWS accepts for it.
GLUE_TYPES = {
    "int64": {"bigint"},
    "int32": {"int", "integer", "bigint"},
    "double": {"double"},
    "float": {"float", "double"},
    "date32[day]": {"date"},
    "string": {"string", "varchar"},
    "large_string": {"string", "varchar"},
    "bool": {"boolean"},
    "timestamp": {"timestamp"},
}

# Generating data, running learner code in a process and Athena take seconds, more on a busy
# machine: a generous limit keeps a slow run from turning into an error.
SLOW = 120


# ---------------------------------------------------------------- the truth


@functools.lru_cache(maxsize=4)
def raw_data(seed: int, n: int) -> datasets.ChurnData:
    return datasets.generate(seed, n_customers=n)


@functools.lru_cache(maxsize=4)
def reference(seed: int, n: int) -> pd.DataFrame:
    """The curated customers table: clean customers with the churn label, sorted by id."""
    clean = datasets.clean_reference(raw_data(seed, n))
    return clean.customers.merge(clean.churn, on="customer_id").sort_values("customer_id")


def datasets_to_check(ctx) -> list[tuple[str, int, int]]:
    """(name, seed, size): the learner's data, and hidden data when grading."""
    found = [("your data", datasets.LEARNER_SEED, 5000)]
    if ctx.hidden:
        found.append(
            ("hidden data", datasets.hidden_seed(ctx.hidden.secret.decode()), HIDDEN_CUSTOMERS)
        )
    return found


# ---------------------------------------------------------------- comparing tables


def as_text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def compare_rows(got: pd.DataFrame, want: pd.DataFrame, where: str) -> tuple[str, str] | None:
    """(hint, message) for the first problem with the rows of ``got``, or None."""
    missing = [c for c in COLUMNS if c not in got.columns]
    if missing:
        shown = ", ".join(map(str, got.columns[:12]))
        return "default", f"{where}: columns {', '.join(missing)} are missing (got: {shown})"
    ids = as_text(got["customer_id"])
    dupes = ids[ids.duplicated()]
    if len(dupes):
        copies = got[ids == dupes.iloc[0]]
        differ = [
            c
            for c in COLUMNS
            if c in copies and copies[c].astype("string").nunique(dropna=False) > 1
        ]
        return "duplicates", (
            f"{where}: {len(got)} rows for {ids.nunique()} customers; {dupes.iloc[0]} appears "
            f"{len(copies)} times"
            + (f", its copies differ in {', '.join(differ)}" if differ else ", identical")
            + f" (the clean table has {len(want)} rows, one per customer)"
        )
    lost = sorted(set(want["customer_id"]) - set(ids))
    extra = sorted(set(ids) - set(want["customer_id"]))
    if lost or extra:
        return "default", (
            f"{where}: {len(got)} rows; {len(lost)} customers missing (e.g. {lost[:3]}), "
            f"{len(extra)} unknown ids (e.g. {extra[:3]}); expected {len(want)} customers"
        )
    return None


def same(got: pd.Series, want: pd.Series, kind: str) -> pd.Series:
    """Element-wise: do the values agree (both missing counts as agreeing)?"""
    both_missing = got.isna().to_numpy() & want.isna().to_numpy()
    if kind == "date":
        dates = pd.to_datetime(got, errors="coerce").astype("datetime64[ns]")
        equal = dates.to_numpy() == want.astype("datetime64[ns]").to_numpy()
    elif kind in ("int", "float", "label"):
        a = pd.to_numeric(got, errors="coerce").astype("float64").to_numpy()
        b = want.astype("float64").to_numpy()
        equal = abs(a - b) < 0.006
    else:
        equal = (as_text(got).fillna("<NA>") == as_text(want).fillna("<NA>")).to_numpy()
    return pd.Series(both_missing | equal, index=want.index)


def type_problem(got: pd.Series, kind: str) -> str | None:
    dtype = got.dtype
    if kind == "date":
        ok = pd.api.types.is_datetime64_any_dtype(dtype) or (
            pd.api.types.is_object_dtype(dtype)
            and got.dropna().map(lambda v: hasattr(v, "year")).all()
        )
        return None if ok else f"is {dtype}, not dates"
    if kind in ("int", "label"):
        ok = pd.api.types.is_integer_dtype(dtype)
        return None if ok else f"is {dtype}, not an integer type (nullable Int64 keeps gaps)"
    if kind == "float":
        return None if pd.api.types.is_float_dtype(dtype) else f"is {dtype}, not a number"
    return None


def show(value) -> str:
    """A value as a learner would write it: dates as ISO dates, missing as 'missing'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return repr(value.item() if hasattr(value, "item") else value)


def compare_values(got, want, raw, where: str) -> tuple[str, str] | None:
    """(hint, message) for the first column whose values or type differ, or None."""
    got = got.assign(customer_id=as_text(got["customer_id"])).set_index("customer_id")
    got = got.loc[want["customer_id"]]
    want = want.set_index("customer_id")
    raw = raw.drop_duplicates("customer_id").set_index("customer_id")
    for name, kind in KINDS.items():
        if name == "customer_id":
            continue
        ok = same(got[name], want[name], kind)
        if not ok.all():
            bad = ok[~ok].index
            cid = bad[0]
            seen = got.at[cid, name]
            raw_value = raw.at[cid, name] if name in raw.columns else None
            hint = {"date": "dates", "category": "categories"}.get(kind, "default")
            return hint, (
                f"{where}: {name} differs for {len(bad)} of {len(want)} customers, e.g. {cid}: "
                f"you have {show(seen)}, the export says {raw_value!r}, clean is "
                f"{show(want.at[cid, name])}"
            )
    for name, kind in KINDS.items():
        problem = type_problem(got[name], kind) if name != "customer_id" else None
        if problem:
            return "default", f"{where}: the values are right but {name} {problem}"
    return None


def bucket_keys(ctx, prefix: str = "") -> list[str]:
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        raise Fail(f"there is no bucket {BUCKET}")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


PARTITION = re.compile(r"^plan=([^/]+)/[^/]+$")


def data_keys(ctx) -> list[str]:
    keys = bucket_keys(ctx, CURATED)
    return [k for k in keys if not Path(k).name.startswith(("_", "."))]


def read_curated(ctx) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every curated file with its plan from the folder name; and each column's parquet type."""
    import pyarrow.parquet as pq

    s3, frames, types = ctx.client("s3"), [], {}
    for key in data_keys(ctx):
        match = PARTITION.match(key[len(CURATED) :])
        if not match:
            continue
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        try:
            table = pq.read_table(io.BytesIO(body))
        except Exception as exc:  # noqa: BLE001 - a file that is not parquet is a finding
            raise Fail(f"{key} is not a parquet file ({exc})") from None
        types |= {f.name: str(f.type) for f in table.schema}
        frame = table.to_pandas()
        frames.append(frame.drop(columns="plan", errors="ignore").assign(plan=match.group(1)))
    if not frames:
        raise Fail(f"no parquet file in a plan=<Plan>/ folder under {CURATED}")
    return pd.concat(frames, ignore_index=True), types
