"""Checks for 10-data-lake-etl: the lake's files, catalogue and answers against the reference.

The truth is `crosstrain.datasets.clean_reference` of the learner's data and, when grading, of
hidden data drawn from the course secret: the learner's cleaning function runs on hidden raw
exports, and the learner's views run over a hidden copy of the lake.

Steps 1 to 3 are here; steps 4 and 5 in ``catalog_checks.py``; the names, the truth and the
table comparison they share in ``truth.py``.
"""

import functools
import tempfile
from pathlib import Path

import pandas as pd

from crosstrain import datasets
from crosstrain.labs.checkkit import frame_from_plain
from crosstrain.labs.checks import Fail, check
from crosstrain.labs.learnercode import LearnerCodeError

from .catalog_checks import catalog_partitions, catalog_table, churn_by_plan, revenue_by_region  # noqa: F401 - steps 4, 5
from .truth import (
    BUCKET,
    CLEAN_FILE,
    CURATED,
    PARTITION,
    PLANS,
    RAW,
    SLOW,
    as_text,
    bucket_keys,
    compare_rows,
    compare_values,
    data_keys,
    datasets_to_check,
    raw_data,
    read_curated,
    reference,
)

# ---------------------------------------------------------------- step 1: land-raw


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
