"""Checks for 10-data-lake-etl: the lake's files, catalogue and answers against the reference.

The truth is `crosstrain.datasets.clean_reference` of the learner's data and, when grading, of
hidden data drawn from the course secret: the learner's cleaning function runs on hidden raw
exports, and the learner's views run over a hidden copy of the lake.
"""

import base64
import contextlib
import functools
import io
import json
import re
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.datasets.schema import CUSTOMERS
from crosstrain.labs.checkkit import frame_from_plain
from crosstrain.labs.checks import Fail, check
from crosstrain.labs.learnercode import LearnerCodeError

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


# ---------------------------------------------------------------- step 1: land-raw


def bucket_keys(ctx, prefix: str = "") -> list[str]:
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        raise Fail(f"there is no bucket {BUCKET}")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


@functools.lru_cache(maxsize=2)
def raw_files(seed: int) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        datasets.write_raw(raw_data(seed, 5000), tmp)
        return {t: (Path(tmp) / Path(k).name).read_bytes() for t, k in RAW.items()}


@check(
    "land-raw",
    timeout=SLOW,
    points=2,
    hint=f"Create the bucket {BUCKET} and upload the five CSVs from data/raw/ to the raw/ keys "
    "of step 1 (raw/customers/customers.csv, ...) with s3.upload_file.",
    hints={
        "unchanged": "Land the files exactly as exported: upload them with s3.upload_file. "
        "Reading them with pandas and writing them back changes them (NA becomes empty, numbers "
        "are reformatted), and the raw zone is the record of what the source system sent.",
    },
)
def raw_landed(ctx):
    keys = bucket_keys(ctx, "raw/")
    missing = [k for k in RAW.values() if k not in keys]
    if missing:
        shown = ", ".join(keys[:5]) or "nothing"
        raise Fail(f"{BUCKET} has {len(keys)} objects under raw/ ({shown}); missing: {missing}")
    expected = raw_files(datasets.LEARNER_SEED)
    s3 = ctx.client("s3")
    for table, key in RAW.items():
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if body != expected[table]:
            lines, want = body.count(b"\n"), expected[table].count(b"\n")
            raise Fail(
                f"{key} has {len(body)} bytes and {lines} lines; the export has "
                f"{len(expected[table])} bytes and {want} lines",
                hint="unchanged",
            )
    return f"the five raw exports are in s3://{BUCKET}/raw/, byte for byte"


# ---------------------------------------------------------------- step 2: clean-customers

# Runs in the submission's confinement (the learner-code service), never in the checker.
RUNNER = """
import importlib.util, sys, traceback
import pandas as pd
from crosstrain.labs.checkkit import frame_to_plain


class NoCrosstrain:
    def find_spec(self, name, path=None, target=None):
        if name == "crosstrain" or name.startswith("crosstrain."):
            raise ImportError("clean.py must not import crosstrain: the ETL job runs without it")


sys.meta_path.insert(0, NoCrosstrain())
source, folders = sys.argv[1], sys.argv[2:]
spec = importlib.util.spec_from_file_location("learner_clean", source)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
read = dict(dtype=str, keep_default_na=False)
found = {}
for folder in folders:
    try:
        result = module.clean_customers(
            pd.read_csv(folder + "/customers.csv", **read),
            pd.read_csv(folder + "/churn_labels.csv", **read),
        )
        if not isinstance(result, pd.DataFrame):
            raise TypeError(f"clean_customers returned {type(result).__name__}, not a DataFrame")
        found[folder] = frame_to_plain(result.reset_index(drop=True))
    except Exception as exc:
        found[folder] = traceback.format_exception_only(exc)[-1].strip()
answer(found)
"""


@functools.lru_cache(maxsize=4)
def run_learner_clean(learner, source: str, runs: tuple[tuple[int, int], ...]) -> dict:
    """The learner's clean_customers on each (seed, size), in one run of the learner-code
    service. Returns {(seed, size): DataFrame or error text}."""
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (seed, n) in enumerate(runs):
            datasets.write_raw(raw_data(seed, n), Path(tmp) / str(i))
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(tmp))] = path.read_bytes()
    folders = [str(i) for i in range(len(runs))]
    try:
        found = learner.run(RUNNER, files=files, args=[source, *folders], timeout=90)
    except LearnerCodeError as exc:
        return dict.fromkeys(runs, str(exc))
    results = {}
    for folder, run in zip(folders, runs, strict=True):
        got = found.get(folder) if isinstance(found, dict) else None
        try:
            results[run] = frame_from_plain(got) if isinstance(got, dict) else str(got)
        except (KeyError, TypeError, ValueError, AttributeError):
            results[run] = "its answer is not a table"
    return results


def cleaned(ctx, seed: int, n: int) -> pd.DataFrame:
    path = ctx.workspace / CLEAN_FILE
    if not path.is_file():
        raise Fail(f"there is no {CLEAN_FILE} in your workspace")
    runs = tuple((s, size) for _, s, size in datasets_to_check(ctx))
    result = run_learner_clean(ctx.learner, str(path.resolve()), runs)[(seed, n)]
    if isinstance(result, str):
        raise Fail(f"clean_customers crashed: {result}")
    return result


@check(
    "clean-customers",
    timeout=SLOW,
    points=2,
    hint="Write clean_customers in etl/clean.py: one row per customer, the columns of the data "
    "card plus churned; run the notebook's step 2 cell to see what it returns.",
    hints={
        "duplicates": "Clean first, then drop duplicates: a customer exported twice with another "
        "date format or spelling only becomes an exact duplicate once both copies are clean. If "
        "the copies still differ after cleaning, that column's cleaning is wrong: see the other "
        "check of this step.",
    },
)
def clean_rows(ctx):
    seen = []
    for where, seed, n in datasets_to_check(ctx):
        got, want = cleaned(ctx, seed, n), reference(seed, n)
        problem = compare_rows(got, want, where)
        if problem:
            raise Fail(problem[1], hint=problem[0])
        seen.append(f"{where}: {len(got)} rows, one per customer")
    return "; ".join(seen)


@check(
    "clean-customers",
    timeout=SLOW,
    points=2,
    hint="Make every value match the reference cleaning of the data card: trim; read NA, N/A, "
    "null and empty as missing; blank numbers outside the valid range (age 18-100, monthly_fee "
    "0-200, failed_payments_12m 0-24); type age and failed_payments_12m as Int64 "
    "(.astype('Int64')), monthly_fee as float, signup_date as datetime64.",
    hints={
        "dates": "Slashed dates in this export are month/day/year (03/01/2024 is 1 March): parse "
        "each of the three formats with its own format string and keep the first that reads.",
        "categories": "Map every spelling to its canonical value: compare lower-cased, stripped "
        "text against a dictionary that includes the abbreviations (Std, M2M, CC, pp, ...); "
        "list them with raw[column].str.strip().str.lower().value_counts().",
    },
)
def clean_values(ctx):
    seen = []
    for where, seed, n in datasets_to_check(ctx):
        got, want = cleaned(ctx, seed, n), reference(seed, n)
        if "customer_id" in got:  # judge the values of each customer's first row
            got = got[~as_text(got["customer_id"]).duplicated()]
        problem = compare_rows(got, want, where)
        if problem:
            raise Fail(f"{where}: cannot compare values yet: {problem[1]}")
        problem = compare_values(got, want, raw_data(seed, n).customers, where)
        if problem:
            raise Fail(problem[1], hint=problem[0])
        seen.append(f"{where}: all {len(want)} customers match the reference cleaning")
    return "; ".join(seen)


# ---------------------------------------------------------------- step 3: curated-parquet

PARTITION = re.compile(r"^plan=([^/]+)/[^/]+$")


def data_keys(ctx) -> list[str]:
    keys = bucket_keys(ctx, CURATED)
    return [k for k in keys if not Path(k).name.startswith(("_", "."))]


@check(
    "curated-parquet",
    timeout=SLOW,
    points=1,
    hint=f"Write one parquet file per plan under s3://{BUCKET}/{CURATED}plan=<Plan>/ "
    "(Hive-style key=value folders), e.g. curated/customers/plan=Basic/part-0000.parquet.",
    hints={
        "layout": "Athena finds partitions by folder: put each plan's rows in its own folder "
        "named plan=<Plan> (plan=Basic, plan=Family, plan=Premium, plan=Standard), the files "
        "directly inside, ending in .parquet.",
    },
)
def curated_layout(ctx):
    keys = data_keys(ctx)
    if not keys:
        raise Fail(f"there is nothing under s3://{BUCKET}/{CURATED}")
    relative = [k[len(CURATED) :] for k in keys]
    stray = [k for k in relative if not PARTITION.match(k) or not k.endswith(".parquet")]
    folders = sorted({PARTITION.match(k).group(1) for k in relative if PARTITION.match(k)})
    if stray or folders != sorted(PLANS):
        raise Fail(
            f"{len(keys)} files under {CURATED}: partitions {folders or 'none'}"
            + (f"; not in a plan=<Plan>/ folder as parquet: {stray[:3]}" if stray else ""),
            hint="layout",
        )
    return f"{len(keys)} parquet files in the partitions {', '.join(folders)}"


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


@check(
    "curated-parquet",
    timeout=SLOW,
    points=2,
    hint="Write the DataFrame clean_customers returns (every row, every column but plan, which "
    "the folder name carries) as parquet, typed: parquet keeps each column's type, so convert "
    "signup_date to dates with .dt.date, never to text.",
)
def curated_content(ctx):
    got, types = read_curated(ctx)
    want = reference(datasets.LEARNER_SEED, 5000)
    wanted = {"signup_date": ("date", "timestamp"), "age": ("int",), "monthly_fee": ("double",)}
    wanted |= {"failed_payments_12m": ("int",), "churned": ("int",)}
    for name, prefixes in wanted.items():
        if name in types and not types[name].startswith(prefixes):
            raise Fail(f"in the parquet files {name} is {types[name]}, not {prefixes[0]}")
    problem = compare_rows(got, want, "the curated files") or compare_values(
        got, want, raw_data(datasets.LEARNER_SEED, 5000).customers, "the curated files"
    )
    if problem:
        raise Fail(problem[1])
    return f"the curated files hold the {len(want)} clean customers, typed"


# ---------------------------------------------------------------- step 4: catalog


def glue_table(ctx, name: str = TABLE) -> dict:
    glue = ctx.client("glue")
    try:
        glue.get_database(Name=DATABASE)
    except ClientError:
        names = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        raise Fail(f"there is no Glue database {DATABASE} (databases: {names})") from None
    try:
        return glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
    except ClientError:
        names = [t["Name"] for t in glue.get_tables(DatabaseName=DATABASE)["TableList"]]
        raise Fail(f"there is no table {DATABASE}.{name} (tables: {names})") from None


@check(
    "catalog",
    timeout=SLOW,
    points=2,
    hint=f"Create the database {DATABASE} and the external table {TABLE}: its columns, "
    f"PARTITIONED BY (plan string), STORED AS PARQUET, LOCATION '{LOCATION}'.",
    hints={
        "types": "Declare each column with the type its parquet files hold: pandas writes "
        "integers as int64, which Athena reads only as bigint (int fails with HIVE_BAD_DATA "
        "on AWS), dates as date, floats as double.",
    },
)
def catalog_table(ctx):
    table = glue_table(ctx)
    storage = table.get("StorageDescriptor", {})
    location = storage.get("Location", "").rstrip("/") + "/"
    if location != LOCATION:
        raise Fail(f"{TABLE}'s location is {storage.get('Location')!r}, not {LOCATION!r}")
    fmt = storage.get("InputFormat", "") + storage.get("SerdeInfo", {}).get(
        "SerializationLibrary", ""
    )
    if "parquet" not in fmt.lower():
        raise Fail(f"{TABLE} is not a parquet table (input format {fmt or 'none'})")
    keys = [k["Name"] for k in table.get("PartitionKeys", [])]
    if keys != ["plan"]:
        raise Fail(f"{TABLE} is partitioned by {keys or 'nothing'}, not by plan")
    declared = {c["Name"].lower(): c["Type"].lower() for c in storage.get("Columns", [])}
    missing = [c for c in COLUMNS if c != "plan" and c not in declared]
    if missing:
        raise Fail(f"{TABLE} lacks the columns {', '.join(missing)}")
    _, types = read_curated(ctx)
    for name, physical in types.items():
        physical = re.sub(r"^dictionary<values=(\w+),.*", r"\1", physical)
        physical = "timestamp" if physical.startswith("timestamp") else physical
        allowed = GLUE_TYPES.get(physical, {declared.get(name.lower())})
        if name.lower() in declared and declared[name.lower()] not in allowed:
            raise Fail(
                f"{name} is {physical} in the parquet files but declared "
                f"{declared[name.lower()]} in Glue; Athena on AWS would fail to read it",
                hint="types",
            )
    return f"{DATABASE}.{TABLE}: parquet at {LOCATION}, partitioned by plan, types match"


def run_query(ctx, sql: str, database: str = DATABASE) -> list[dict]:
    """Run ``sql`` in Athena; the rows as dicts of text (a failed query raises Fail)."""
    athena = ctx.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        ResultConfiguration={"OutputLocation": RESULTS},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", state)
        raise Fail(f"the query {sql.strip().splitlines()[0]!r} failed: {reason}")
    rows = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        rows += page["ResultSet"]["Rows"]
    header = [c.get("VarCharValue") for c in rows[0]["Data"]]
    return [
        dict(zip(header, [c.get("VarCharValue") for c in r["Data"]], strict=True)) for r in rows[1:]
    ]


@check(
    "catalog",
    timeout=SLOW,
    points=1,
    hint=f"Register the table's partitions: run MSCK REPAIR TABLE {TABLE} in Athena after "
    "writing the files (or ALTER TABLE ... ADD PARTITION for each plan).",
    hints={
        "partitions": "The table knows only the partitions registered in the catalog: run "
        f"MSCK REPAIR TABLE {TABLE} (again after adding a plan folder), then "
        f"SELECT count(*) FROM {TABLE} sees every customer.",
    },
)
def catalog_partitions(ctx):
    glue_table(ctx)
    glue = ctx.client("glue")
    parts = glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    values = sorted(p["Values"][0] for p in parts)
    (row,) = run_query(ctx, f"SELECT count(*) AS n FROM {TABLE}")
    want = len(reference(datasets.LEARNER_SEED, 5000))
    if int(row["n"]) != want:
        raise Fail(
            f"SELECT count(*) FROM {TABLE} answers {row['n']}, not {want}; the catalog has "
            f"{len(parts)} partitions ({', '.join(values) or 'none'})",
            hint="partitions",
        )
    return f"Athena sees all {want} customers in {len(parts)} partitions ({', '.join(values)})"


# ---------------------------------------------------------------- step 5: business-questions


def view_sql(ctx, name: str) -> str:
    table = glue_table(ctx, name)
    if table.get("TableType") != "VIRTUAL_VIEW":
        raise Fail(f"{DATABASE}.{name} is a table, not a view: create it with CREATE VIEW")
    text = table.get("ViewOriginalText") or ""
    match = re.search(r"/\*\s*Presto View:\s*(\S+)\s*\*/", text)
    return json.loads(base64.b64decode(match.group(1)))["originalSql"] if match else text


@contextlib.contextmanager
def hidden_lake(ctx, seed: int, n: int):
    """A hidden copy of the curated table in its own bucket and database; removed afterwards."""
    s3, glue = ctx.client("s3"), ctx.client("glue")
    suffix = uuid.uuid4().hex[:8]
    bucket, database = f"grading-{suffix}", f"grading_{suffix}"
    s3.create_bucket(Bucket=bucket)
    data = reference(seed, n).assign(signup_date=lambda f: f["signup_date"].dt.date)
    data[["age", "failed_payments_12m"]] = data[["age", "failed_payments_12m"]].astype("Int64")
    columns = [
        {"Name": c, "Type": {"date": "date", "int": "bigint", "float": "double"}.get(k, "string")}
        for c, k in KINDS.items()
        if c != "plan"
    ]
    parquet = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        },
    }
    try:
        glue.create_database(DatabaseInput={"Name": database})
        location = f"s3://{bucket}/customers/"
        glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "plan", "Type": "string"}],
                "StorageDescriptor": {"Columns": columns, "Location": location, **parquet},
            },
        )
        for plan, part in data.groupby("plan", observed=True):
            buffer = io.BytesIO()
            part.drop(columns="plan").to_parquet(buffer, index=False)
            key = f"customers/plan={plan}/part-0000.parquet"
            s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
            glue.create_partition(
                DatabaseName=database,
                TableName=TABLE,
                PartitionInput={
                    "Values": [str(plan)],
                    "StorageDescriptor": {
                        "Columns": columns,
                        "Location": f"s3://{bucket}/{key.rsplit('/', 1)[0]}/",
                        **parquet,
                    },
                },
            )
        yield database
    finally:
        with contextlib.suppress(ClientError):
            glue.delete_table(DatabaseName=database, Name=TABLE)
        with contextlib.suppress(ClientError):
            glue.delete_database(Name=database)
        with contextlib.suppress(ClientError):
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)


def answers(ctx, name: str, truth) -> str:
    """Run the view on the learner's lake, then (grading) its SQL on a hidden lake; compare."""
    sql = view_sql(ctx, name)
    rows = run_query(ctx, f"SELECT * FROM {DATABASE}.{name}")
    problem = truth(reference(datasets.LEARNER_SEED, 5000), rows, "your data")
    if problem:
        raise Fail(problem[1], hint=problem[0])
    seen = [f"{name} answers right on your data ({len(rows)} rows)"]
    if ctx.hidden:
        seed = datasets.hidden_seed(ctx.hidden.secret.decode())
        unqualified = re.sub(
            rf"\b(awsdatacatalog\s*\.\s*)?{DATABASE}\s*\.\s*",
            "",
            sql.strip().rstrip(";"),
            flags=re.I,
        )
        with hidden_lake(ctx, seed, HIDDEN_CUSTOMERS) as database:
            rows = run_query(ctx, unqualified, database)
        problem = truth(reference(seed, HIDDEN_CUSTOMERS), rows, "hidden data")
        if problem:
            raise Fail(problem[1], hint=problem[0])
        seen.append("and on hidden data")
    return " ".join(seen)


def number(text: str | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def churn_truth(ref: pd.DataFrame, rows: list[dict], where: str):
    need = {"plan", "customers", "churn_rate"}
    if not rows or not need <= set(rows[0]):
        shown = sorted(rows[0]) if rows else "no rows"
        return "default", f"{where}: the view's columns are {shown}, not {sorted(need)}"
    stats = ref.groupby("plan", observed=True)["churned"].agg(["size", "mean"])
    want = {str(p): (int(row["size"]), float(row["mean"])) for p, row in stats.iterrows()}
    got = {r["plan"]: (number(r["customers"]), number(r["churn_rate"])) for r in rows}
    if set(got) != set(want):
        return "default", f"{where}: plans {sorted(map(str, got))}, expected {sorted(want)}"
    rates = [rate for _, rate in got.values()]
    if all(rate == 0 for rate in rates):
        return "integer-division", (
            f"{where}: every churn_rate is 0 ({', '.join(f'{p}: {r[1]}' for p, r in got.items())})"
        )
    for plan, (n, rate) in want.items():
        got_n, got_rate = got[plan]
        if got_n != n or got_rate is None or abs(got_rate - rate) > 0.0051:  # round(.., 2) is ok
            return "default", (
                f"{where}: {plan} has customers={got_n}, churn_rate={got_rate}; expected {n} "
                f"customers and a churn rate of {rate:.4f} (a share between 0 and 1)"
            )
    return None


@check(
    "business-questions",
    timeout=SLOW,
    points=2,
    hint="Create the view churn_by_plan: one row per plan with plan, customers (count) and "
    "churn_rate (the share of customers with churned = 1, between 0 and 1).",
    hints={
        "integer-division": "churned is an integer, and integer / integer truncates in Athena "
        "(SUM(churned) / COUNT(*) is 0): compute avg(CAST(churned AS double)) instead.",
    },
)
def churn_by_plan(ctx):
    return answers(ctx, "churn_by_plan", churn_truth)


def revenue_truth(ref: pd.DataFrame, rows: list[dict], where: str):
    need = {"region", "mrr", "mrr_lost"}
    if not rows or not need <= set(rows[0]):
        shown = sorted(rows[0]) if rows else "no rows"
        return "default", f"{where}: the view's columns are {shown}, not {sorted(need)}"
    keyed = ref.assign(region=ref["region"].astype(object).where(ref["region"].notna(), None))
    keyed = keyed.assign(lost=keyed["monthly_fee"].where(keyed["churned"] == 1, 0))
    grouped = keyed.groupby("region", dropna=False)[["monthly_fee", "lost"]].sum()
    want = {
        (None if pd.isna(region) else str(region)): (float(row.monthly_fee), float(row.lost))
        for region, row in grouped.iterrows()
    }
    got = {r["region"]: (number(r["mrr"]), number(r["mrr_lost"])) for r in rows}
    unknown = [region for region in got if region not in want]
    if None in want and None not in got and len(unknown) == 1:  # e.g. COALESCE(region, 'n/a')
        got[None] = got.pop(unknown[0])
    if None in want and None not in got:
        missing = want[None][0]
        return "null-region", (
            f"{where}: no row for customers without a region, whose MRR is {missing:,.2f}; the "
            f"regions shown add up to {sum(v[0] or 0 for v in got.values()):,.2f}, not "
            f"{sum(v[0] for v in want.values()):,.2f}"
        )
    if set(got) != set(want):
        return (
            "default",
            f"{where}: regions {sorted(map(str, got))}, expected {sorted(map(str, want))}",
        )
    for region, (mrr, lost) in want.items():
        got_mrr, got_lost = got[region]
        if (
            got_mrr is None
            or got_lost is None
            or abs(got_mrr - mrr) > 0.02
            or abs(got_lost - lost) > 0.02
        ):
            return "default", (
                f"{where}: region {region}: mrr={got_mrr}, mrr_lost={got_lost}; expected "
                f"{mrr:.2f} and {lost:.2f}"
            )
    return None


@check(
    "business-questions",
    timeout=SLOW,
    points=2,
    hint="Create the view revenue_by_region: one row per region with region, mrr (the sum of "
    "monthly_fee) and mrr_lost (the sum of monthly_fee of the customers who churned).",
    hints={
        "null-region": "Keep the customers whose region is missing: GROUP BY region gives them a "
        "row with region NULL. Filtering them out makes the regions add up to less than the "
        "company's revenue.",
    },
)
def revenue_by_region(ctx):
    return answers(ctx, "revenue_by_region", revenue_truth)
