"""Athena for real: SQL (DuckDB) over Glue catalog tables whose data lives in sandbox S3.

moto answers Athena with canned empty results. This runtime serves the query API itself
(StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution,
ListQueryExecutions, BatchGetQueryExecution, GetQueryRuntimeStatistics) and leaves work groups,
data catalogs and named queries to moto.

A query runs on a worker thread in a fresh in-memory DuckDB connection. Every Glue table the
query names becomes a view over a pyarrow dataset of the table's files in moto's S3 backend (in
process: no HTTP, no DuckDB extension, nothing downloaded). Each file carries its partition
values as an Arrow expression; when DuckDB pushes the query's filters into the scan, only the
files they keep are read (``DataScannedInBytes`` shows it). Results are formatted the way Athena
formats them and written to the output location as ``<QueryExecutionId>.csv`` (DDL and utility
statements: ``.txt``).

The DDL people type daily (SHOW, DESCRIBE, CREATE EXTERNAL TABLE, CTAS, INSERT INTO, views,
CREATE/DROP DATABASE, DROP TABLE, MSCK REPAIR TABLE, ALTER TABLE ADD/DROP PARTITION) is parsed
here and applied to moto's Glue catalog and S3.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import io
import itertools
import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.gateway import Runtime, aws_action, json_response, signing_scope

log = logging.getLogger("crosstrain.sandbox.athena")

CATALOG = "awsdatacatalog"
MAX_PAGE = 1000
NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup "
    "result configuration setting or as an API input."
)
PARQUET_IO = (
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
)
ORC_IO = (
    "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
)
TEXT_IO = (
    "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
)
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
STORED_AS = {"PARQUET": PARQUET_IO, "ORC": ORC_IO, "TEXTFILE": TEXT_IO}

# Hive/Glue type names -> DuckDB types.
HIVE_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "int": "INTEGER",
    "integer": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT", "tinyint": "TINYINT",
    "double": "DOUBLE", "float": "FLOAT", "real": "FLOAT", "boolean": "BOOLEAN",
    "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB", "varbinary": "BLOB",
}  # fmt: skip
# DuckDB result types -> (Athena type, precision).
ATHENA_TYPES = {
    "VARCHAR": ("varchar", 2147483647), "INTEGER": ("integer", 10), "BIGINT": ("bigint", 19),
    "HUGEINT": ("bigint", 19), "UBIGINT": ("bigint", 19), "UINTEGER": ("bigint", 19),
    "USMALLINT": ("integer", 10), "UTINYINT": ("smallint", 5), "SMALLINT": ("smallint", 5),
    "TINYINT": ("tinyint", 3), "DOUBLE": ("double", 17), "FLOAT": ("float", 7),
    "BOOLEAN": ("boolean", 0), "DATE": ("date", 0), "TIMESTAMP": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3), "TIME": ("time", 3),
    "BLOB": ("varbinary", 1073741824), "INTERVAL": ("interval day to second", 0),
    "UUID": ("uuid", 0), "JSON": ("json", 0),
}  # fmt: skip
# Trino/Presto functions DuckDB lacks or spells differently (temporary macros per connection).
# MySQL-style format specifiers (Presto's date_format / date_parse) -> strftime's.
MYSQL_FORMAT = {
    "%M": "%B",
    "%i": "%M",
    "%s": "%S",
    "%W": "%A",
    "%e": "%-d",
    "%c": "%-m",
    "%T": "%X",
}
_FORMAT_CALL = re.compile(
    r"(\b(?:date_format|date_parse)\s*\((?:[^()']|'[^']*'|\([^()]*\))*?,\s*)'([^']*)'(\s*\))", re.I
)
PRESTO_MACROS = (
    "date_format(ts, fmt) AS strftime(ts, fmt)",
    "date_parse(s, fmt) AS strptime(s, fmt)",
    "from_unixtime(x) AS make_timestamp(CAST(x * 1000000 AS BIGINT))",
    "to_unixtime(ts) AS epoch(ts)",
    "from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMP)",
    "from_iso8601_date(s) AS CAST(s AS DATE)",
    "to_iso8601(x) AS replace(CAST(x AS VARCHAR), ' ', 'T')",
    "json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "json_parse(s) AS CAST(s AS JSON)",
    "json_format(j) AS CAST(j AS VARCHAR)",
    "regexp_like(s, p) AS regexp_matches(s, p)",
    "regexp_replace(s, p, r := '') AS system.main.regexp_replace(s, p, r, 'g')",
    "approx_distinct(x) AS approx_count_distinct(x)",
    "approx_percentile(x, p) AS approx_quantile(x, p)",
    "day_of_week(d) AS isodow(d)",
    "dow(d) AS isodow(d)",
    "date_add(unit, n, ts) AS ts + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)",
    "cardinality(a) AS len(a)",
    "array_join(a, sep) AS array_to_string(a, sep)",
    "array_max(a) AS list_max(a)",
    "array_min(a) AS list_min(a)",
    "sequence(a, b) AS generate_series(a, b)",
    "is_nan(x) AS isnan(x)",
    "every(x) AS bool_and(x)",
    "levenshtein_distance(a, b) AS levenshtein(a, b)",
    "hamming_distance(a, b) AS hamming(a, b)",
    "last_day_of_month(d) AS last_day(d)",
    "codepoint(c) AS unicode(c)",
    "truncate(x) AS trunc(x)",
    "rand() AS random()",
    "nan() AS CAST('NaN' AS DOUBLE)",
    "infinity() AS CAST('Infinity' AS DOUBLE)",
    "e() AS exp(1)",
)
# DuckDB error -> Athena error name shown in StateChangeReason.
ERROR_NAMES = (
    ("ParserException", "", "SYNTAX_ERROR"),
    ("BinderException", "Referenced column", "COLUMN_NOT_FOUND"),
    ("BinderException", "function", "FUNCTION_NOT_FOUND"),
    ("CatalogException", "Function", "FUNCTION_NOT_FOUND"),
    ("CatalogException", "Table", "TABLE_NOT_FOUND"),
    ("ConversionException", "", "INVALID_CAST_ARGUMENT"),
    ("OutOfRangeException", "", "NUMERIC_VALUE_OUT_OF_RANGE"),
    ("InvalidInputException", "parse error", "HIVE_BAD_DATA"),
    ("InvalidInputException", "arrow", "HIVE_BAD_DATA"),
    ("BinderException", "", "SYNTAX_ERROR"),
    ("Exception", "", "GENERIC_USER_ERROR"),
)
_IDENT = r'(?:`[^`]+`|"[^"]+"|[\w$-]+)'
_NAME = rf"({_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}})"
_STRING = r"'((?:[^']|'')*)'"
_LIKE = r"(?:\s+(?:LIKE\s+)?'([^']*)')?"


class QueryError(Exception):
    """The query fails; the message becomes the StateChangeReason."""


class RequestError(Exception):
    """The API call is rejected (HTTP 400)."""

    def __init__(self, message: str, code: str = "InvalidRequestException"):
        super().__init__(message)
        self.code = code


# -- SQL text helpers ----------------------------------------------------------------------------
def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident(text: str) -> str:
    """An identifier as Athena stores it: unquoted and lower case."""
    text = text.strip()
    if text[:1] in '`"' and text[-1:] == text[:1]:
        text = text[1:-1]
    return text.lower()


def split_name(text: str, database: str) -> tuple[str, str]:
    """``[catalog.][db.]table`` -> (db, table)."""
    parts = [ident(p) for p in re.findall(_IDENT, text)]
    if len(parts) == 3 and parts[0] != CATALOG:
        raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{parts[0]}' does not exist")
    return (parts[-2] if len(parts) > 1 else database), parts[-1]


def unescape(text: str) -> str:
    """A Hive delimiter literal ('\\t', '\\001', '\\u0001') as the character it names."""
    text = text.replace("''", "'")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), text)
    return text.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")


def scan_sql(sql: str) -> tuple[str, list[int]]:
    """(sql without comments, positions of ``?`` and ``;`` outside quotes in that text)."""
    out, marks, i, n, length = [], [], 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and not (sql[end] == ch and sql[end + 1 : end + 2] != ch):
                end += 2 if sql[end] == ch else 1
            piece, i = sql[i : end + 1], end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            piece, i = "", (n if end < 0 else end)
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            piece, i = " ", (n if end < 0 else end + 2)
        else:
            if ch in "?;":
                marks.append(length)
            piece, i = ch, i + 1
        out.append(piece)
        length += len(piece)
    return "".join(out), marks


def prepare(sql: str, parameters: list[str]) -> str:
    """One statement, comments removed, ``?`` replaced by the execution parameters."""
    text, marks = scan_sql(sql)
    text = text.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    text, marks = scan_sql(text)
    if any(text[m] == ";" for m in marks):
        raise QueryError("Only one sql statement is allowed.")
    holes = [m for m in marks if text[m] == "?"]
    if len(holes) != len(parameters):
        raise QueryError(
            f"Incorrect number of parameters: expected {len(holes)} but found {len(parameters)}"
        )
    for position, value in reversed(list(zip(holes, parameters, strict=True))):
        text = text[:position] + value + text[position + 1 :]
    return text


def presto_formats(sql: str) -> str:
    """Rewrite the format literals of date_format/date_parse calls for strftime/strptime."""

    def translate(match: re.Match) -> str:
        fmt = re.sub(r"%[A-Za-z]", lambda m: MYSQL_FORMAT.get(m.group(), m.group()), match[2])
        return f"{match[1]}'{fmt}'{match[3]}"

    return _FORMAT_CALL.sub(translate, sql)


def matching_paren(text: str, start: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise QueryError("SYNTAX_ERROR: unbalanced parentheses")


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside (), <> and quotes."""
    parts, depth, current, quoted = [], 0, [], None
    for ch in text:
        if quoted:
            quoted = None if ch == quoted else quoted
        elif ch in "'\"`":
            quoted = ch
        elif ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def properties(text: str) -> dict[str, str]:
    """``'k'='v', ...`` -> dict."""
    pairs = re.findall(rf"{_STRING}\s*=\s*{_STRING}", text)
    return {k.replace("''", "'"): v.replace("''", "'") for k, v in pairs}


def pattern_match(pattern: str | None, name: str) -> bool:
    """Hive SHOW patterns: ``*`` wildcards, ``|`` alternatives, case-insensitive."""
    if not pattern:
        return True
    options = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return any(re.fullmatch(o, name, re.I) for o in options)


# -- types ---------------------------------------------------------------------------------------
def duck_type(hive: str) -> str:
    """A Hive/Glue column type as a DuckDB type."""
    text = hive.strip().lower()
    if text.startswith("array<"):
        return f"{duck_type(text[6:-1])}[]"
    if text.startswith("map<"):
        key, value = split_top(text[4:-1])
        return f"MAP({duck_type(key)}, {duck_type(value)})"
    if text.startswith("struct<"):
        fields = [f.split(":", 1) for f in split_top(text[7:-1])]
        return "STRUCT(" + ", ".join(f"{quote(n.strip())} {duck_type(t)}" for n, t in fields) + ")"
    base = re.match(r"\w+", text)
    if base and base.group() == "decimal":
        digits = re.findall(r"\d+", text)
        return f"DECIMAL({digits[0] if digits else 10}, {digits[1] if len(digits) > 1 else 0})"
    if base and base.group() in HIVE_TYPES:
        return HIVE_TYPES[base.group()]
    raise QueryError(f"NOT_SUPPORTED: Unknown type '{hive}'")


def athena_column(name: str, dtype: Any) -> dict:
    """ColumnInfo for a DuckDB result column."""
    text = str(dtype)
    precision, scale = 0, 0
    if text.endswith("]"):
        kind = "array"
    elif text.startswith("STRUCT"):
        kind = "row"
    elif text.startswith("MAP"):
        kind = "map"
    elif text.startswith("DECIMAL"):
        kind = "decimal"
        precision, scale = (int(d) for d in re.findall(r"\d+", text)[:2])
    else:
        kind, precision = ATHENA_TYPES.get(text, ("varchar", 2147483647))
    return {
        "CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name,
        "Type": kind, "Precision": precision, "Scale": scale, "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }  # fmt: skip


def text_column(name: str) -> dict:
    """ColumnInfo of the text column a utility statement (SHOW, DESCRIBE) returns."""
    return athena_column(name, "VARCHAR") | {"Type": "string"}


def format_expr(column: str, dtype: Any) -> str:
    """SQL turning a result column into Athena's text form."""
    text = str(dtype)
    if text == "TIMESTAMP":
        return f"strftime({column}, '%Y-%m-%d %H:%M:%S.%g')"
    if text == "BLOB":
        return f"lower(hex({column}))"
    return f"CAST({column} AS VARCHAR)"


# -- sandbox S3 and the pyarrow filesystem over it -----------------------------------------------
def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    if not url or not url.startswith(("s3://", "s3a://", "s3n://")):
        raise QueryError(f"HIVE_METASTORE_ERROR: Location '{url}' is not an s3:// URL")
    bucket, _, prefix = url.split("://", 1)[1].partition("/")
    return bucket, prefix


def folder(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def is_data_file(key: str) -> bool:
    """Athena skips folder markers and files whose names start with ``_`` or ``.``."""
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(("_", ".")) and not key.endswith("$folder$")


class SandboxS3:
    """moto's S3 backend of one account, used in process under the gateway's moto lock."""

    def __init__(self, lock: threading.RLock, account: str, region: str):
        self.lock, self.account, self.region = lock, account, region

    def _backend(self):
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        return s3_backends[self.account][get_partition(self.region)]

    def _bucket(self, name: str):
        from moto.s3.exceptions import MissingBucket

        try:
            return self._backend().get_bucket(name)
        except MissingBucket:
            message = f"HIVE_FILESYSTEM_ERROR: The specified bucket does not exist: {name}"
            raise QueryError(message) from None

    def list(self, url: str) -> list[tuple[str, int]]:
        """(``bucket/key``, size) of every data file under a folder URL, sorted by key."""
        from moto.s3.models import FakeDeleteMarker

        bucket, prefix = split_url(folder(url))
        prefix = prefix.lstrip("/") if prefix != "/" else ""
        with self.lock:
            keys = list(self._bucket(bucket).keys.items())
        return sorted(
            (f"{bucket}/{name}", key.size)
            for name, key in keys
            if name.startswith(prefix)
            and is_data_file(name)
            and not isinstance(key, FakeDeleteMarker)
        )

    def read(self, path: str) -> bytes:
        bucket, _, key = path.partition("/")
        with self.lock:
            obj = self._backend().get_object(bucket, key)
            if obj is None:
                raise FileNotFoundError(path)
            return obj.value

    def write(self, url: str, data: bytes, content_type: str) -> None:
        bucket, key = split_url(url)
        with self.lock:
            try:
                self._bucket(bucket)
            except QueryError:
                raise QueryError(f"Unable to verify/create output bucket {bucket}") from None
            obj = self._backend().put_object(bucket, key, data)
            obj.set_metadata({"Content-Type": content_type})


def arrow_filesystem(s3: SandboxS3):
    """A read-only pyarrow filesystem over sandbox S3.

    It names the files of a :func:`lazy_dataset`; the scan itself reads them in
    ``LazyDataset.scanner``, never through this filesystem from pyarrow's IO threads.
    """
    import pyarrow as pa
    import pyarrow.fs as pafs

    def read_only(*args, **kwargs):
        raise PermissionError("Athena reads tables; it does not write through this filesystem")

    class Handler(pafs.FileSystemHandler):
        def get_type_name(self):
            return "sandbox-s3"

        def normalize_path(self, path):
            return path

        def get_file_info(self, paths):
            infos = []
            for path in paths:
                try:
                    size = len(s3.read(path))
                    infos.append(pafs.FileInfo(path, pafs.FileType.File, size=size))
                except FileNotFoundError:
                    infos.append(pafs.FileInfo(path, pafs.FileType.NotFound))
            return infos

        def get_file_info_selector(self, selector):
            return [
                pafs.FileInfo(path, pafs.FileType.File, size=size)
                for path, size in s3.list("s3://" + selector.base_dir)
            ]

        def open_input_file(self, path):
            return pa.BufferReader(s3.read(path))

        def open_input_stream(self, path):
            return self.open_input_file(path)

        def __eq__(self, other):
            return self is other

        def __ne__(self, other):
            return self is not other

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = read_only
        delete_file = move = copy_file = open_output_stream = open_append_stream = read_only

    return pafs.PyFileSystem(Handler())


@functools.cache
def lazy_dataset_class():
    """A pyarrow dataset that reads only the files DuckDB's pushed-down filter keeps.

    DuckDB calls ``scanner(filter=..., columns=...)`` with the query's filters. The fragments
    whose partition expression the filter rules out are skipped; the others are read from S3
    here, on the calling thread, and scanned from memory. pyarrow never calls back into Python
    from its IO threads, which would deadlock while DuckDB holds the GIL.
    """
    import gzip

    import pyarrow as pa
    import pyarrow.dataset as ds

    class LazyDataset(ds.FileSystemDataset):
        def scanner(self, *args, **kwargs):
            fragments = []
            for fragment in self.get_fragments(filter=kwargs.get("filter")):
                data = self.read(fragment.path)
                self.counter["bytes"] = self.counter.get("bytes", 0) + len(data)
                if fragment.path.endswith(".gz"):
                    data = gzip.decompress(data)
                fragments.append(
                    self.format.make_fragment(
                        pa.py_buffer(data), partition_expression=fragment.partition_expression
                    )
                )
            return ds.FileSystemDataset(fragments, self.schema, self.format).scanner(
                *args, **kwargs
            )

    return LazyDataset


# -- the Glue catalog (moto's backend, in process) -----------------------------------------------
class Catalog:
    """Read and write moto's Glue catalog of one account and region."""

    def __init__(self, lock: threading.RLock, account: str, region: str):
        self.lock, self.account, self.region = lock, account, region

    def _glue(self):
        from moto.backends import get_backend

        return get_backend("glue")[self.account][self.region]

    def _database(self, name: str):
        databases = self._glue().databases
        if name in databases:
            return databases[name]
        match = next((d for key, d in databases.items() if key.lower() == name), None)
        if match is None:
            raise QueryError(f"SCHEMA_NOT_FOUND: Schema '{name}' does not exist")
        return match

    def databases(self) -> list[str]:
        with self.lock:
            return sorted(self._glue().databases)

    def has_database(self, name: str) -> bool:
        with self.lock:
            try:
                self._database(name)
            except QueryError:
                return False
            return True

    def tables(self, database: str) -> list[str]:
        with self.lock:
            return sorted(self._database(database).tables)

    def _table(self, database: str, name: str):
        tables = self._database(database).tables
        match = tables.get(name) or next(
            (t for key, t in tables.items() if key.lower() == name), None
        )
        if match is None:
            raise QueryError(f"TABLE_NOT_FOUND: Table '{CATALOG}.{database}.{name}' does not exist")
        return match

    def table(self, database: str, name: str) -> tuple[dict, list[dict]]:
        """(table dict as GetTable returns it, partitions as GetPartitions returns them)."""
        with self.lock:
            table = self._table(database, name)
            return copy.deepcopy(table.as_dict()), [
                copy.deepcopy(p.as_dict()) for p in table.partitions.values()
            ]

    def ensure_default(self) -> bool:
        """Create Glue's ``default`` database when missing, as Athena does; True if created."""
        with self.lock:
            if "default" in self._glue().databases:
                return False
            self._glue().create_database("default", {"Name": "default"})
            return True

    def create_database(self, name: str, database_input: dict, if_not_exists: bool) -> None:
        with self.lock:
            if name in self._glue().databases:
                if if_not_exists:
                    return
                raise QueryError(f"Database {name} already exists")
            self._glue().create_database(name, {"Name": name, **database_input})

    def drop_database(self, name: str, if_exists: bool, cascade: bool) -> None:
        with self.lock:
            if not self.has_database(name):
                if if_exists:
                    return
                raise QueryError(f"SCHEMA_NOT_FOUND: Schema '{name}' does not exist")
            if self._database(name).tables and not cascade:
                raise QueryError(f"Database {name} is not empty. One or more tables exist.")
            self._glue().delete_database(self._database(name).name)

    def create_table(self, database: str, table_input: dict, if_not_exists: bool) -> None:
        with self.lock:
            db = self._database(database)
            if table_input["Name"] in db.tables:
                if if_not_exists:
                    return
                raise QueryError(f"AlreadyExistsException: Table {table_input['Name']} exists")
            self._glue().create_table(db.name, table_input["Name"], table_input)

    def drop_table(self, database: str, name: str, if_exists: bool) -> None:
        with self.lock:
            try:
                table = self._table(database, name)
            except QueryError:
                if if_exists:
                    return
                raise
            self._glue().delete_table(table.database_name, table.name)

    def add_partitions(self, database: str, name: str, partitions: list[dict]) -> list[dict]:
        """Add partitions not yet in the catalog; return the ones added."""
        with self.lock:
            table = self._table(database, name)
            added = [p for p in partitions if str(p["Values"]) not in table.partitions]
            for partition in added:
                table.create_partition(partition)
            return added

    def drop_partitions(self, database: str, name: str, values: list[list[str]], if_exists: bool):
        with self.lock:
            table = self._table(database, name)
            for vals in values:
                if str(vals) not in table.partitions and not if_exists:
                    raise QueryError(f"Partition not found: {vals}")
                table.partitions.pop(str(vals), None)


def table_format(table: dict) -> str:
    """parquet, orc, json or csv, from the SerDe, input format and classification."""
    sd = table.get("StorageDescriptor", {})
    hints = " ".join(
        [
            sd.get("InputFormat") or "",
            (sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "",
            (table.get("Parameters") or {}).get("classification") or "",
        ]
    ).lower()
    for kind in ("parquet", "orc", "json"):
        if kind in hints:
            return kind
    library = (sd.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    if library and not re.search(r"lazysimpleserde|opencsv", library, re.I):
        raise QueryError(f"NOT_SUPPORTED: SerDe {library} is not supported in the sandbox")
    return "csv"


def partition_location(table: dict, keys: list[str], values: list[str]) -> str:
    path = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
    return folder(table["StorageDescriptor"]["Location"]) + path + "/"


def discover_partitions(s3: SandboxS3, table: dict) -> list[dict]:
    """Hive ``key=value/`` folders under the table location, as Glue partition inputs."""
    keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
    location = folder(table["StorageDescriptor"]["Location"])
    _, prefix = split_url(location)
    found: dict[tuple, dict] = {}
    for path, _size in s3.list(location):
        parts = path.split("/", 1)[1][len(prefix) :].split("/")[: len(keys)]
        pairs = [p.split("=", 1) for p in parts if "=" in p]
        if len(pairs) != len(keys) or [k.lower() for k, _ in pairs] != keys:
            continue
        values = [unquote(v) for _, v in pairs]
        if tuple(values) not in found:
            sd = copy.deepcopy(table["StorageDescriptor"])
            sd["Location"] = location + "/".join(parts) + "/"
            found[tuple(values)] = {"Values": values, "StorageDescriptor": sd}
    return list(found.values())


def partition_values(key_fields: list, values: list[str]) -> dict:
    """Typed Arrow scalars of one partition's values (``None`` for Hive's default partition)."""
    import pyarrow as pa

    typed = {}
    for key_field, value in zip(key_fields, values, strict=False):
        if value == "__HIVE_DEFAULT_PARTITION__":
            typed[key_field.name] = None
            continue
        try:
            typed[key_field.name] = pa.scalar(value).cast(key_field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise QueryError(
                f"HIVE_INVALID_PARTITION_VALUE: Invalid partition value '{value}' "
                f"for {key_field.type} partition key: {key_field.name}"
            ) from None
    return typed


# -- a Glue table as a DuckDB view ---------------------------------------------------------------
class TableLoader:
    """Registers Glue tables in one DuckDB connection as views over pyarrow datasets."""

    def __init__(self, con, s3: SandboxS3, catalog: Catalog, counter: dict):
        self.con, self.s3, self.catalog, self.counter = con, s3, catalog, counter
        self.fs = arrow_filesystem(s3)
        self.loaded: set[tuple[str, str]] = set()

    def arrow_type(self, hive: str):
        return self.con.sql(f"SELECT NULL::{duck_type(hive)} AS v").to_arrow_table().schema[0].type

    def load_all(self, tree: dict, database: str) -> None:
        """Register every table a parse tree reads (``database`` for unqualified names)."""
        for catalog, schema, name in referenced_tables(tree):
            if schema.lower() in ("information_schema", "pg_catalog"):
                continue
            if catalog and catalog.lower() != CATALOG:
                raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{catalog}' does not exist")
            self.load(schema.lower() or database, name.lower())

    def load(self, database: str, name: str) -> None:
        if (database, name) in self.loaded:
            return
        table, partitions = self.catalog.table(database, name)
        self.loaded.add((database, name))
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(database)}")
        if table.get("TableType") == "VIRTUAL_VIEW":
            sql = view_sql(table)
            self.load_all(syntax_tree(self.con, sql), database)
            self.con.execute(f"USE {CATALOG}.{quote(database)}")
            self.con.execute(
                f"CREATE OR REPLACE VIEW {CATALOG}.{quote(database)}.{quote(name)} AS "
                f"{presto_formats(sql)}"
            )
            return
        if (table.get("Parameters") or {}).get("table_type", "").upper() == "ICEBERG":
            raise QueryError(f"NOT_SUPPORTED: {database}.{name} is an Iceberg table")
        dataset, select = self.dataset(table, partitions)
        source = f"__{database}__{name}"
        self.con.register(source, dataset)
        self.con.execute(
            f"CREATE OR REPLACE VIEW {CATALOG}.{quote(database)}.{quote(name)} AS "
            f"SELECT {select} FROM {quote(source)}"
        )

    def files(self, table: dict, partitions: list[dict]) -> list[tuple[str, list[str] | None]]:
        """(path, partition values) of every file the table reads."""
        location = folder(table["StorageDescriptor"]["Location"])
        if not table.get("PartitionKeys"):
            return [(path, None) for path, _ in self.s3.list(location)]
        params = table.get("Parameters") or {}
        if not partitions and params.get("projection.enabled", "").lower() == "true":
            partitions = discover_partitions(self.s3, table)
        under_table = self.s3.list(location)
        files = []
        for partition in partitions:
            where = folder(partition["StorageDescriptor"]["Location"])
            if where.startswith(location):
                part_bucket, prefix = split_url(where)
                listing = [p for p in under_table if p[0].startswith(f"{part_bucket}/{prefix}")]
            else:
                listing = self.s3.list(where)
            files += [(path, partition["Values"]) for path, _ in listing]
        return files

    def dataset(self, table: dict, partitions: list[dict]):
        """(pyarrow dataset, SELECT list casting its columns to the catalog's types)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
        import pyarrow.json as pajson

        sd = table["StorageDescriptor"]
        columns = [(c["Name"].lower(), c["Type"]) for c in sd.get("Columns", [])]
        keys = [(k["Name"].lower(), k["Type"]) for k in table.get("PartitionKeys", [])]
        key_fields = [pa.field(k, self.arrow_type(t)) for k, t in keys]
        files = self.files(table, partitions)
        kind = table_format(table)
        serde = sd.get("SerdeInfo") or {}
        serde_params = serde.get("Parameters") or {}
        params = {**serde_params, **(table.get("Parameters") or {})}
        cast = "TRY_CAST"
        if kind in ("parquet", "orc"):
            fmt = ds.ParquetFileFormat() if kind == "parquet" else ds.OrcFileFormat()
            if files:
                physical = fmt.inspect(pa.BufferReader(self.s3.read(files[0][0])))
            else:
                physical = pa.schema([pa.field(c, self.arrow_type(t)) for c, t in columns])
            key_names = {k for k, _ in keys}
            data = [f for f in physical if f.name.lower() not in key_names]
            cast = "CAST"
        elif kind == "json":
            data = [pa.field(c, self.json_type(t)) for c, t in columns]
            options = {"explicit_schema": pa.schema(data), "unexpected_field_behavior": "ignore"}
            fmt = ds.JsonFileFormat(parse_options=pajson.ParseOptions(**options))
        else:
            data = [pa.field(c, pa.string()) for c, _ in columns]
            fmt = ds.CsvFileFormat(**self.csv_options(serde, params, [c for c, _ in columns]))
        schema = pa.schema(data + key_fields)
        typed = [partition_values(key_fields, values or []) for _, values in files]
        expressions = []
        for values in typed:
            expr = pc.scalar(True)
            for name, value in values.items():
                expr &= pc.field(name).is_null() if value is None else pc.field(name) == value
            expressions.append(expr)
        fragments = [
            fmt.make_fragment(path, self.fs, partition_expression=expr)
            for (path, _), expr in zip(files, expressions, strict=True)
        ]
        dataset = lazy_dataset_class()(fragments, schema, fmt, self.fs)
        dataset.read, dataset.counter = self.s3.read, self.counter
        by_name = {f.name.lower(): f.name for f in data}
        select = []
        for name, hive in columns:
            target = duck_type(hive)
            if name in by_name:
                select.append(f"{cast}({quote(by_name[name])} AS {target}) AS {quote(name)}")
            else:
                select.append(f"CAST(NULL AS {target}) AS {quote(name)}")
        select += [quote(k) for k, _ in keys]
        return dataset, ", ".join(select) or "NULL AS empty"

    def json_type(self, hive: str):
        """Arrow type to parse a JSON field as: scalars loosely, nested types exactly."""
        import pyarrow as pa

        duck = duck_type(hive)
        if duck in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT"):
            return pa.int64()
        if duck in ("DOUBLE", "FLOAT"):
            return pa.float64()
        if duck == "BOOLEAN":
            return pa.bool_()
        if duck.endswith("]") or duck.startswith(("STRUCT", "MAP")):
            return self.arrow_type(hive)
        return pa.string()

    @staticmethod
    def csv_options(serde: dict, params: dict, names: list[str]) -> dict:
        """pyarrow CSV options for LazySimpleSerDe / OpenCSVSerde tables."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        library = (serde.get("SerializationLibrary") or "").lower()
        skip = int(params.get("skip.header.line.count", "0") or 0)
        if "opencsv" in library:
            parse = pacsv.ParseOptions(
                delimiter=unescape(params.get("separatorChar", ",")),
                quote_char=unescape(params.get("quoteChar", '"')),
                escape_char=unescape(params.get("escapeChar", "\\")),
            )
            nulls: list[str] = []
        else:
            delimiter = params.get("field.delim") or params.get("serialization.format") or "\x01"
            escape = params.get("escape.delim")
            parse = pacsv.ParseOptions(
                delimiter=unescape(delimiter)[:1] if delimiter != "1" else "\x01",
                quote_char=False,
                escape_char=unescape(escape) if escape else False,
            )
            nulls = [params.get("serialization.null.format", "\\N")]
        return {
            "parse_options": parse,
            "read_options": pacsv.ReadOptions(column_names=names, skip_rows=skip),
            "convert_options": pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=nulls,
                strings_can_be_null=bool(nulls),
            ),
        }


# -- writing tables (CTAS, INSERT INTO) and views -----------------------------------------------
def hive_type(dtype: Any) -> str:
    """A DuckDB column type as the Hive type Glue stores."""
    kind = dtype.id
    if kind == "list":
        return f"array<{hive_type(dtype.children[0][1])}>"
    if kind == "struct":
        return "struct<" + ",".join(f"{n}:{hive_type(t)}" for n, t in dtype.children) + ">"
    if kind == "map":
        return f"map<{hive_type(dtype.children[0][1])},{hive_type(dtype.children[1][1])}>"
    if kind == "decimal":
        return f"decimal({dtype.children[0][1]},{dtype.children[1][1]})"
    names = {
        "varchar": "string", "integer": "int", "bigint": "bigint", "hugeint": "bigint",
        "smallint": "smallint", "tinyint": "tinyint", "double": "double", "float": "float",
        "boolean": "boolean", "date": "date", "timestamp": "timestamp", "blob": "binary",
    }  # fmt: skip
    return names.get(kind, "string")


def ctas_options(text: str) -> dict[str, Any]:
    """``format = 'PARQUET', partitioned_by = ARRAY['k'], ...`` -> dict."""
    options: dict[str, Any] = {}
    for key, value in re.findall(r"(\w+)\s*=\s*(ARRAY\s*\[[^\]]*\]|'(?:[^']|'')*'|[\w.]+)", text):
        if value.upper().startswith("ARRAY"):
            options[key.lower()] = [v.replace("''", "'") for v in re.findall(_STRING, value)]
        else:
            options[key.lower()] = value.strip("'").replace("''", "'")
    return options


def ctas_table(
    name: str, columns: list, keys: list[str], location: str, kind: str, options: dict
) -> dict:
    """The Glue TableInput of a CREATE TABLE AS SELECT."""
    input_format, output_format, library = STORED_AS.get(kind, TEXT_IO)
    serde_params = {"serialization.format": "1"}
    if kind == "JSON":
        library = JSON_SERDE
    elif kind == "TEXTFILE":
        delimiter = options.get("field_delimiter", "\x01")
        serde_params = {"field.delim": delimiter, "serialization.format": delimiter}
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false"},
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in columns if n in keys],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns if n not in keys],
            "Location": location,
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "SerdeInfo": {"SerializationLibrary": library, "Parameters": serde_params},
        },
    }


def view_table(name: str, database: str, sql: str, columns: list) -> dict:
    """The Glue TableInput of an Athena view (Presto view text, as Athena stores it)."""
    definition = {
        "originalSql": sql.strip(),
        "catalog": CATALOG,
        "schema": database,
        "columns": [{"name": n, "type": t} for n, t in columns],
    }
    encoded = base64.b64encode(json.dumps(definition).encode()).decode()
    return {
        "Name": name,
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": f"/* Presto View: {encoded} */",
        "ViewExpandedText": "/* Presto View */",
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": "",
            "SerdeInfo": {},
        },
    }


def view_sql(table: dict) -> str:
    """The SQL of a Glue view (Athena's base64 Presto view, or plain text)."""
    text = table.get("ViewOriginalText") or ""
    match = re.search(r"/\*\s*Presto View:\s*(\S+)\s*\*/", text)
    if match:
        return json.loads(base64.b64decode(match.group(1)))["originalSql"]
    return text or table.get("ViewExpandedText") or ""


def hive_value(value: Any) -> str:
    """A partition value as Hive writes it in a ``key=value`` folder name."""
    if value is None:
        return "__HIVE_DEFAULT_PARTITION__"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def split_partitions(data, keys: list[str]) -> list[tuple[list[str], Any]]:
    """[(partition values, rows without the key columns)] of an Arrow table."""
    import pyarrow.compute as pc

    if not keys:
        return [([], data)]
    groups = []
    for combo in data.select(keys).group_by(keys).aggregate([]).to_pylist():
        mask = None
        for key in keys:
            value = combo[key]
            test = pc.is_null(data[key]) if value is None else pc.equal(data[key], value)
            mask = test if mask is None else pc.and_(mask, test)
        rows = data.filter(mask).drop_columns(keys)
        groups.append(([hive_value(combo[k]) for k in keys], rows))
    return groups


def encode_rows(data, kind: str, delimiter: str) -> tuple[bytes, str]:
    """(file content, file extension) of rows in a table format."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(data, buffer, compression="snappy")
        return buffer.getvalue(), ".parquet"
    if kind == "orc":
        import pyarrow.orc as orc

        orc.write_table(data, buffer)
        return buffer.getvalue(), ".orc"
    if kind == "json":
        lines = [json.dumps(row, default=str) for row in data.to_pylist()]
        return "".join(line + "\n" for line in lines).encode(), ".json"
    text = data.cast(pa.schema([pa.field(f.name, pa.string()) for f in data.schema]))
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none")
    pacsv.write_csv(text, buffer, write_options=options)
    return buffer.getvalue(), ""


# -- statements ----------------------------------------------------------------------------------
@dataclass
class Result:
    """What a statement produced: Athena column info and rows of text (``None`` is NULL)."""

    columns: list[dict]
    rows: list[tuple]
    statement_type: str = "DML"
    header: bool = True
    update_count: int = 0


def utility(name: str, values: list[str]) -> Result:
    return Result([text_column(name)], [(v,) for v in values], "UTILITY", header=False)


def ddl(lines: list[str] | None = None) -> Result:
    return Result([], [(line,) for line in lines or []], "DDL", header=False)


def parse_columns(text: str) -> list[dict]:
    """``name type [COMMENT '...'], ...`` -> Glue columns."""
    columns = []
    for part in split_top(text):
        match = re.match(rf"({_IDENT})\s+(.+?)(?:\s+COMMENT\s+{_STRING})?$", part, re.I | re.S)
        if not match:
            raise QueryError(f"SYNTAX_ERROR: cannot read column definition '{part}'")
        hive = re.sub(r"\s+", "", match.group(2)).lower()
        duck_type(hive)  # reject unknown types now, not at query time
        column = {"Name": ident(match.group(1)), "Type": hive}
        if match.group(3):
            column["Comment"] = match.group(3).replace("''", "'")
        columns.append(column)
    return columns


def parse_create_table(sql: str, database: str) -> tuple[str, dict, bool]:
    """CREATE EXTERNAL TABLE -> (database, Glue TableInput, if not exists)."""
    head = re.match(
        rf"CREATE\s+(?:EXTERNAL\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{_NAME}\s*\(", sql, re.I | re.S
    )
    if not head:
        raise QueryError("NOT_SUPPORTED: only CREATE EXTERNAL TABLE (columns) ... is supported")
    db, name = split_name(head.group(2), database)
    end = matching_paren(sql, head.end() - 1)
    columns = parse_columns(sql[head.end() : end])
    rest = sql[end + 1 :]
    partition_keys: list[dict] = []
    part = re.search(r"PARTITIONED\s+BY\s*\(", rest, re.I)
    if part:
        close = matching_paren(rest, part.end() - 1)
        partition_keys = parse_columns(rest[part.end() : close])
        rest = rest[: part.start()] + rest[close + 1 :]
    location = re.search(rf"\bLOCATION\s+{_STRING}", rest, re.I)
    if not location:
        raise QueryError("SYNTAX_ERROR: CREATE EXTERNAL TABLE needs LOCATION 's3://...'")
    tblprops = re.search(r"TBLPROPERTIES\s*\(", rest, re.I)
    parameters = {"EXTERNAL": "TRUE"}
    if tblprops:
        parameters |= properties(rest[tblprops.end() : matching_paren(rest, tblprops.end() - 1)])
        rest = rest[: tblprops.start()]
    input_format, output_format, library = TEXT_IO
    serde_params: dict[str, str] = {}
    stored = re.search(r"STORED\s+AS\s+(\w+)", rest, re.I)
    if stored and stored.group(1).upper() == "INPUTFORMAT":
        formats = re.search(rf"INPUTFORMAT\s+{_STRING}\s+OUTPUTFORMAT\s+{_STRING}", rest, re.I)
        if formats:
            input_format, output_format = formats.groups()
    elif stored and stored.group(1).upper() in STORED_AS:
        input_format, output_format, library = STORED_AS[stored.group(1).upper()]
    elif stored and stored.group(1).upper() in ("JSON", "JSONFILE"):
        library = JSON_SERDE
    elif stored:
        raise QueryError(f"NOT_SUPPORTED: STORED AS {stored.group(1)}")
    serde = re.search(rf"ROW\s+FORMAT\s+SERDE\s+{_STRING}", rest, re.I)
    if serde:
        library = serde.group(1)
        with_props = re.search(r"WITH\s+SERDEPROPERTIES\s*\(", rest, re.I)
        if with_props:
            serde_params = properties(
                rest[with_props.end() : matching_paren(rest, with_props.end() - 1)]
            )
    delimited = re.search(r"ROW\s+FORMAT\s+DELIMITED(.*?)(?:STORED|LOCATION|$)", rest, re.I | re.S)
    if delimited:
        clauses = {
            "field.delim": r"FIELDS\s+TERMINATED\s+BY",
            "escape.delim": r"ESCAPED\s+BY",
            "collection.delim": r"COLLECTION\s+ITEMS\s+TERMINATED\s+BY",
            "mapkey.delim": r"MAP\s+KEYS\s+TERMINATED\s+BY",
            "line.delim": r"LINES\s+TERMINATED\s+BY",
        }
        for key, clause in clauses.items():
            found = re.search(rf"{clause}\s+{_STRING}", delimited.group(1), re.I)
            if found:
                serde_params[key] = found.group(1)
        if "field.delim" in serde_params:
            serde_params["serialization.format"] = serde_params["field.delim"]
    if library == TEXT_IO[2] and not serde_params:
        serde_params = {"serialization.format": "1"}
    if library == PARQUET_IO[2]:
        serde_params.setdefault("serialization.format", "1")
    comment = re.search(rf"^\s*COMMENT\s+{_STRING}", rest, re.I)
    table_input = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": partition_keys,
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location.group(1),
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {"SerializationLibrary": library, "Parameters": serde_params},
            "StoredAsSubDirectories": False,
        },
    }
    if comment:
        table_input["Description"] = comment.group(1)
    return db, table_input, bool(head.group(1))


def describe_lines(table: dict) -> list[str]:
    """DESCRIBE output in Hive's padded, tab-separated layout."""

    def line(*cells: str) -> str:
        return "\t".join(f"{c:<20}" for c in cells)

    columns = table["StorageDescriptor"].get("Columns", [])
    keys = table.get("PartitionKeys", [])
    lines = [line(c["Name"], c["Type"], c.get("Comment", "")) for c in columns + keys]
    if keys:
        lines += ["\t \t ", line("# Partition Information", "", "")]
        lines += [line("# col_name", "data_type", "comment"), "\t \t "]
        lines += [line(k["Name"], k["Type"], k.get("Comment", "")) for k in keys]
    return lines


def partition_spec(text: str, keys: list[str]) -> list[str]:
    """``(k='v', k2=3)`` -> values in key order."""
    pairs = dict(
        (ident(k), v if v is not None and v != "" else n)
        for k, v, n in re.findall(rf"({_IDENT})\s*=\s*(?:{_STRING}|([\w.-]+))", text)
    )
    if set(pairs) != set(keys):
        raise QueryError(f"SYNTAX_ERROR: partition spec must name {', '.join(keys)}")
    return [pairs[k].replace("''", "'") for k in keys]


STATEMENT_WORDS = frozenset({
    "ALTER", "ANALYZE", "CALL", "COMMIT", "CREATE", "DEALLOCATE", "DELETE", "DESC", "DESCRIBE",
    "DROP", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "MERGE", "MSCK", "OPTIMIZE", "PREPARE",
    "REVOKE", "ROLLBACK", "SELECT", "SET", "SHOW", "START", "UNLOAD", "UPDATE", "USE", "VACUUM",
})  # fmt: skip
UTILITIES = frozenset(
    {"show_databases", "show_tables", "show_partitions", "show_columns", "describe"}
)


class Statements:
    """Runs one statement of Athena SQL for one execution."""

    def __init__(self, runtime: AthenaRuntime, execution: Execution):
        self.runtime = runtime
        self.execution = execution
        self.database = (execution.context.get("Database") or "default").lower()
        self.catalog = Catalog(runtime.gateway.moto_lock, execution.account, execution.region)
        self.s3 = SandboxS3(runtime.gateway.moto_lock, execution.account, execution.region)

    def run(self, sql: str) -> Result:
        if self.database == "default" and self.catalog.ensure_default():
            self.runtime.gateway.mark_dirty({"glue"})
        flat = " ".join(sql.split())
        for pattern, method in self.DISPATCH:
            match = re.match(pattern, flat, re.I)
            if match:
                kind = method.__name__
                self.execution.statement_type = (
                    "DML" if kind == "select" else "UTILITY" if kind in UTILITIES else "DDL"
                )
                return method(self, sql, match)
        first = (flat.split() or [""])[0].strip("(").upper()
        if first in STATEMENT_WORDS:
            raise QueryError("NOT_SUPPORTED: Queries of this type are not supported")
        raise QueryError(f"SYNTAX_ERROR: line 1:1: mismatched input '{flat.split()[0]}'")

    # -- utility statements ----------------------------------------------------------------------
    def show_databases(self, sql: str, match: re.Match) -> Result:
        pattern = match.group(1)
        return utility(
            "database_name", [d for d in self.catalog.databases() if pattern_match(pattern, d)]
        )

    def show_tables(self, sql: str, match: re.Match) -> Result:
        database = ident(match.group(1)) if match.group(1) else self.database
        names = self.catalog.tables(database)
        return utility("tab_name", [n for n in names if pattern_match(match.group(2), n)])

    def show_partitions(self, sql: str, match: re.Match) -> Result:
        table, partitions = self.catalog.table(*split_name(match.group(1), self.database))
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if not keys:
            raise QueryError(f"Table {table['Name']} is not partitioned")
        specs = sorted(
            "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=False))
            for p in partitions
        )
        return utility("partition", specs)

    def show_columns(self, sql: str, match: re.Match) -> Result:
        database = ident(match.group(2)) if match.group(2) else None
        db, name = split_name(match.group(1), database or self.database)
        table, _ = self.catalog.table(db, name)
        columns = table["StorageDescriptor"].get("Columns", []) + table.get("PartitionKeys", [])
        return utility("field", [c["Name"] for c in columns])

    def describe(self, sql: str, match: re.Match) -> Result:
        table, _ = self.catalog.table(*split_name(match.group(1), self.database))
        return utility("col_name", describe_lines(table))

    # -- DDL -----------------------------------------------------------------------------------
    def create_database(self, sql: str, match: re.Match) -> Result:
        database_input: dict[str, Any] = {}
        comment = re.search(rf"COMMENT\s+{_STRING}", sql, re.I)
        location = re.search(rf"LOCATION\s+{_STRING}", sql, re.I)
        if comment:
            database_input["Description"] = comment.group(1)
        if location:
            database_input["LocationUri"] = location.group(1)
        dbprops = re.search(r"DBPROPERTIES\s*\((.*)\)", sql, re.I | re.S)
        if dbprops:
            database_input["Parameters"] = properties(dbprops.group(1))
        self.catalog.create_database(ident(match.group(2)), database_input, bool(match.group(1)))
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    def drop_database(self, sql: str, match: re.Match) -> Result:
        self.catalog.drop_database(
            ident(match.group(2)), bool(match.group(1)), bool(match.group(3))
        )
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    def create_table(self, sql: str, match: re.Match) -> Result:
        database, table_input, if_not_exists = parse_create_table(sql, self.database)
        split_url(table_input["StorageDescriptor"]["Location"])
        self.catalog.create_table(database, table_input, if_not_exists)
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    def drop_table(self, sql: str, match: re.Match) -> Result:
        database, name = split_name(match.group(2), self.database)
        self.catalog.drop_table(database, name, bool(match.group(1)))
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    def msck_repair(self, sql: str, match: re.Match) -> Result:
        database, name = split_name(match.group(1), self.database)
        table, _ = self.catalog.table(database, name)
        if not table.get("PartitionKeys"):
            return ddl()
        added = self.catalog.add_partitions(database, name, discover_partitions(self.s3, table))
        keys = [k["Name"] for k in table["PartitionKeys"]]
        specs = [
            f"{name}:" + "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=False))
            for p in added
        ]
        if added:
            self.runtime.gateway.mark_dirty({"glue"})
            return ddl(
                ["Partitions not in metastore:\t" + "\t".join(specs)]
                + [f"Repair: Added partition to metastore {spec}" for spec in specs]
            )
        return ddl()

    def alter_partitions(self, sql: str, match: re.Match) -> Result:
        database, name = split_name(match.group(1), self.database)
        table, _ = self.catalog.table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        specs = re.finditer(rf"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s+{_STRING})?", sql, re.I)
        values = [(partition_spec(s.group(1), keys), s.group(2)) for s in specs]
        if match.group(2).upper() == "DROP":
            self.catalog.drop_partitions(
                database, name, [v for v, _ in values], bool(match.group(3))
            )
        else:
            partitions = []
            for vals, where in values:
                sd = copy.deepcopy(table["StorageDescriptor"])
                sd["Location"] = where or partition_location(table, keys, vals)
                partitions.append({"Values": vals, "StorageDescriptor": sd})
            added = self.catalog.add_partitions(database, name, partitions)
            if len(added) < len(partitions) and not match.group(3):
                raise QueryError("AlreadyExistsException: Partition already exists.")
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    # -- queries -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self, sql: str):
        """A DuckDB connection with every table ``sql`` reads registered, and its parse tree."""
        import duckdb

        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        self.execution.connection = con
        try:
            con.execute(f"ATTACH ':memory:' AS {CATALOG}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(self.database)}")
            con.execute(f"USE {CATALOG}.{quote(self.database)}")
            con.execute("SET integer_division = true")
            for macro in PRESTO_MACROS:
                con.execute(f"CREATE OR REPLACE TEMP MACRO {macro}")
            tree = syntax_tree(con, sql)
            loader = TableLoader(con, self.s3, self.catalog, self.execution.counter)
            loader.load_all(tree, self.database)
            con.execute(f"USE {CATALOG}.{quote(self.database)}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            if self.execution.state == "CANCELLED":  # stopped before the connection existed
                raise QueryError("Query cancelled by user")
            yield con, tree
        except duckdb.Error as exc:
            if self.execution.state == "CANCELLED":
                raise QueryError("Query cancelled by user") from None
            raise QueryError(athena_error(exc)) from None
        finally:
            self.execution.connection = None
            con.close()

    def select(self, sql: str, match: re.Match) -> Result:
        with self.session(sql) as (con, tree):
            sql = presto_formats(sql)
            relation = con.sql(sql)
            if relation is None:
                raise QueryError("NOT_SUPPORTED: Queries of this type are not supported")
            names = result_names(tree, relation.columns)
            aliases = [f"c{i}" for i in range(len(names))]
            exprs = ", ".join(
                format_expr(a, t) for a, t in zip(aliases, relation.types, strict=True)
            )
            rows = con.sql(f"SELECT {exprs} FROM (\n{sql}\n) AS q({', '.join(aliases)})").fetchall()
            columns = [athena_column(n, t) for n, t in zip(names, relation.types, strict=True)]
            return Result(columns, rows)

    @staticmethod
    def materialize(con, sql: str, tree: dict, types: list[str] | None = None):
        """(Arrow table, [(column, Hive type)]) of a query; ``types`` casts column by column."""
        sql = presto_formats(sql)
        relation = con.sql(sql)
        names = [n.lower() for n in result_names(tree, relation.columns)]
        if types is not None and len(types) != len(names):
            raise QueryError(
                f"TYPE_MISMATCH: Insert query has {len(names)} columns, table has {len(types)}"
            )
        exprs = []
        for i, (name, dtype) in enumerate(zip(names, relation.types, strict=True)):
            if types is not None:
                exprs.append(f"CAST(c{i} AS {types[i]}) AS {quote(name)}")
            elif dtype.id in ("hugeint", "ubigint", "uinteger"):
                exprs.append(f"CAST(c{i} AS BIGINT) AS {quote(name)}")
            else:
                exprs.append(f"c{i} AS {quote(name)}")
        aliases = ", ".join(f"c{i}" for i in range(len(names)))
        result = con.sql(f"SELECT {', '.join(exprs)} FROM (\n{sql}\n) AS q({aliases})")
        return result.to_arrow_table(), [
            (n, hive_type(t)) for n, t in zip(names, result.types, strict=True)
        ]

    def create_table_as(self, sql: str, match: re.Match) -> Result:
        head = re.match(rf"CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{_NAME}\s*", sql, re.I | re.S)
        database, name = split_name(head.group(2), self.database)
        rest = sql[head.end() :]
        options: dict[str, Any] = {}
        if re.match(r"WITH\s*\(", rest, re.I):
            close = matching_paren(rest, rest.index("("))
            options = ctas_options(rest[rest.index("(") + 1 : close])
            rest = rest[close + 1 :]
        body = re.match(r"\s*AS\s+(.*?)(\s+WITH\s+NO\s+DATA)?\s*$", rest, re.I | re.S)
        if not body:
            raise QueryError("SYNTAX_ERROR: CREATE TABLE needs AS SELECT ...")
        if head.group(1) and name in [t.lower() for t in self.catalog.tables(database)]:
            return ddl()
        kind = options.get("format", "PARQUET").upper()
        if kind not in ("PARQUET", "ORC", "TEXTFILE", "JSON"):
            raise QueryError(f"NOT_SUPPORTED: format '{kind}' in CREATE TABLE AS")
        location = folder(
            options.get("external_location")
            or f"{folder(self.execution.output_location)}tables/{self.execution.id}/"
        )
        if self.s3.list(location):
            raise QueryError(
                f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{database}.{name}' "
                f"already exists: {location}"
            )
        keys = [k.lower() for k in options.get("partitioned_by", [])]
        with self.session(body.group(1)) as (con, tree):
            data, columns = self.materialize(con, body.group(1), tree)
        if [c for c, _ in columns[len(columns) - len(keys) :]] != keys:
            raise QueryError(
                "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the "
                f"table and in the same order as the table properties: {keys}"
            )
        table_input = ctas_table(name, columns, keys, location, kind, options)
        self.catalog.create_table(database, table_input, False)
        files = [] if body.group(2) else self.write(database, name, data)
        manifest = (
            f"{folder(self.execution.output_location)}tables/{self.execution.id}-manifest.csv"
        )
        self.s3.write(manifest, "".join(f + "\n" for f in files).encode(), "text/csv")
        self.runtime.gateway.mark_dirty({"glue"})
        return Result(
            [], [], "DDL", header=False, update_count=0 if body.group(2) else data.num_rows
        )

    def insert_into(self, sql: str, match: re.Match) -> Result:
        import pyarrow as pa

        head = re.match(rf"INSERT\s+INTO\s+{_NAME}\s*", sql, re.I | re.S)
        database, name = split_name(head.group(1), self.database)
        table, _ = self.catalog.table(database, name)
        if table.get("TableType") == "VIRTUAL_VIEW":
            raise QueryError(f"NOT_SUPPORTED: Inserting into view {database}.{name}")
        everything = table["StorageDescriptor"].get("Columns", []) + table.get("PartitionKeys", [])
        targets = [c["Name"].lower() for c in everything]
        rest = sql[head.end() :]
        listed = targets
        if rest.startswith("("):
            close = matching_paren(rest, 0)
            listed = [ident(c) for c in split_top(rest[1:close])]
            rest = rest[close + 1 :]
        unknown = set(listed) - set(targets)
        if unknown:
            raise QueryError(f"COLUMN_NOT_FOUND: Insert column name does not exist: {unknown}")
        type_of = {c["Name"].lower(): c["Type"] for c in everything}
        with self.session(rest) as (con, tree):
            types = [duck_type(type_of[c]) for c in listed]
            data, _ = self.materialize(con, rest, tree, types)
        data = data.rename_columns(listed)
        arrays = [
            data[c] if c in listed else pa.nulls(len(data), self.arrow_type_of(type_of[c]))
            for c in targets
        ]
        data = pa.table(arrays, names=targets)
        self.write(database, name, data)
        self.runtime.gateway.mark_dirty({"glue"})
        return Result([], [], "DML", header=False, update_count=data.num_rows)

    def arrow_type_of(self, hive: str):
        import duckdb

        with duckdb.connect() as con:
            return con.sql(f"SELECT NULL::{duck_type(hive)} AS v").to_arrow_table().schema[0].type

    def write(self, database: str, name: str, data) -> list[str]:
        """Write rows to the table's files in S3 (a file per partition); register partitions.

        Returns the URLs of the files written.
        """
        table, _ = self.catalog.table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        location = folder(table["StorageDescriptor"]["Location"])
        kind = table_format(table)
        serde = table["StorageDescriptor"].get("SerdeInfo") or {}
        delimiter = unescape((serde.get("Parameters") or {}).get("field.delim", "\x01"))
        partitions, files = [], []
        for number, (values, part) in enumerate(split_partitions(data, keys)):
            where = location + "".join(f"{k}={v}/" for k, v in zip(keys, values, strict=True))
            content, extension = encode_rows(part, kind, delimiter)
            files.append(f"{where}{self.execution.id}_{number:05d}{extension}")
            self.s3.write(files[-1], content, "application/octet-stream")
            if keys:
                sd = copy.deepcopy(table["StorageDescriptor"])
                sd["Location"] = where
                partitions.append({"Values": values, "StorageDescriptor": sd})
        if partitions:
            self.catalog.add_partitions(database, name, partitions)
        self.runtime.gateway.mark_dirty({"s3"})
        return files

    def managed_table(self, sql: str, match: re.Match) -> Result:
        raise QueryError(
            "NOT_SUPPORTED: Only external table creation is supported (CREATE EXTERNAL TABLE, "
            "or CREATE TABLE ... AS SELECT)"
        )

    def create_view(self, sql: str, match: re.Match) -> Result:
        head = re.match(
            rf"CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+{_NAME}\s+AS\s+(.*)$", sql, re.I | re.S
        )
        if not head:
            raise QueryError("SYNTAX_ERROR: CREATE VIEW name AS SELECT ...")
        database, name = split_name(head.group(2), self.database)
        with self.session(head.group(3)) as (con, tree):
            relation = con.sql(presto_formats(head.group(3)))
            names = [n.lower() for n in result_names(tree, relation.columns)]
            columns = [(n, hive_type(t)) for n, t in zip(names, relation.types, strict=True)]
        exists = name in [t.lower() for t in self.catalog.tables(database)]
        if exists and not head.group(1):
            raise QueryError(f"ALREADY_EXISTS: View '{CATALOG}.{database}.{name}' already exists")
        if exists:
            self.catalog.drop_table(database, name, True)
        self.catalog.create_table(
            database, view_table(name, database, head.group(3), columns), False
        )
        self.runtime.gateway.mark_dirty({"glue"})
        return ddl()

    DISPATCH = (
        (rf"^SHOW\s+(?:DATABASES|SCHEMAS){_LIKE}$", show_databases),
        (rf"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+({_IDENT}))?{_LIKE}$", show_tables),
        (rf"^SHOW\s+PARTITIONS\s+{_NAME}$", show_partitions),
        (rf"^SHOW\s+COLUMNS\s+(?:IN|FROM)\s+{_NAME}(?:\s+(?:IN|FROM)\s+({_IDENT}))?$",
         show_columns),
        (rf"^(?:DESCRIBE|DESC)\s+(?:EXTENDED\s+|FORMATTED\s+)?{_NAME}$", describe),
        (rf"^CREATE\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?({_IDENT})", create_database),
        (
            rf"^DROP\s+(?:DATABASE|SCHEMA)\s+(IF\s+EXISTS\s+)?({_IDENT})(\s+CASCADE)?(?:\s+RESTRICT)?$",
            drop_database,
        ),
        (r"^CREATE\s+EXTERNAL\s+TABLE\s+", create_table),
        (rf"^DROP\s+(?:TABLE|VIEW)\s+(IF\s+EXISTS\s+)?{_NAME}$", drop_table),
        (rf"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}\s*(?:WITH\s*\(.*\)\s*)?AS\s",
         create_table_as),
        (r"^CREATE\s+TABLE\s+", managed_table),
        (r"^INSERT\s+INTO\s+", insert_into),
        (r"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+", create_view),
        (rf"^MSCK\s+REPAIR\s+TABLE\s+{_NAME}$", msck_repair),
        (rf"^ALTER\s+TABLE\s+{_NAME}\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?PARTITION",
         alter_partitions),
        (r"^[(\s]*(?:SELECT|WITH|VALUES|TABLE)\b", select),
    )  # fmt: skip


def syntax_tree(con, sql: str) -> dict:
    """DuckDB's parse tree of one statement; a syntax error fails the query, naming the spot."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        position = int(tree.get("position") or 0)
        line = sql.count("\n", 0, position) + 1
        column = position - (sql.rfind("\n", 0, position) + 1) + 1
        raise QueryError(f"SYNTAX_ERROR: line {line}:{column}: {tree.get('error_message')}")
    return tree["statements"][0]["node"]


def referenced_tables(tree: dict) -> list[tuple[str, str, str]]:
    """(catalog, schema, table) of every table a parse tree reads, CTE names left out."""
    found: list[tuple[str, str, str]] = []
    ctes: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.append((node["catalog_name"], node["schema_name"], node["table_name"]))
            ctes.update(
                entry["key"].lower() for entry in (node.get("cte_map") or {}).get("map", [])
            )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    unique = dict.fromkeys(t for t in found if t[1] or t[2].lower() not in ctes)
    return list(unique)


def result_names(tree: dict, names: list[str]) -> list[str]:
    """Athena's column names: unaliased expressions are ``_col0``, ``_col1``, ..."""
    node = tree
    while node.get("type") == "SET_OPERATION_NODE":
        node = node["left"]
    items = node.get("select_list", [])
    if len(items) != len(names) or any(i.get("class") == "STAR" for i in items):
        return names
    return [
        f"_col{i}" if not item.get("alias") and item.get("class") != "COLUMN_REF" else name
        for i, (item, name) in enumerate(zip(items, names, strict=True))
    ]


def athena_error(exc: Exception) -> str:
    """A DuckDB error as Athena words it: ``ERROR_NAME: message``."""
    message = str(exc).split("\n\n", 1)[0].strip()
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", message)
    kinds = [cls.__name__ for cls in type(exc).__mro__]
    for kind, needle, name in ERROR_NAMES:
        if kind in kinds and needle.lower() in message.lower():
            return f"{name}: {message}"
    return f"GENERIC_INTERNAL_ERROR: {message}"


# -- executions ----------------------------------------------------------------------------------
@dataclass
class Execution:
    id: str
    query: str
    account: str
    region: str
    workgroup: str
    context: dict
    output_location: str
    parameters: list[str] = field(default_factory=list)
    state: str = "QUEUED"
    reason: str | None = None
    statement_type: str = "DML"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    result: Result | None = None
    counter: dict = field(default_factory=dict)
    connection: Any = None
    result_file: str | None = None

    def describe(self) -> dict:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.state == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": 2, "ErrorType": 1100, "Retryable": False,
                "ErrorMessage": self.reason,
            }  # fmt: skip
        queued = int(((self.started or time.time()) - self.submitted) * 1000)
        engine = int(((self.completed or time.time()) - (self.started or time.time())) * 1000)
        configuration = {"OutputLocation": self.result_file or self.output_location}
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": configuration,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": self.context,
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine,
                "DataScannedInBytes": self.counter.get("bytes", 0),
                "TotalExecutionTimeInMillis": queued + engine,
                "QueryQueueTimeInMillis": queued,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
        }


def result_text(result: Result) -> tuple[bytes, str, str]:
    """(file content, extension, content type) of a result as Athena writes it."""
    if result.statement_type != "DML":
        lines = ["\t".join(v or "" for v in row) for row in result.rows]
        return ("\n".join(lines) + ("\n" if lines else "")).encode(), "txt", "text/plain"

    def cell(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    header = ",".join(cell(c["Name"]) for c in result.columns)
    body = "\n".join(",".join(cell(v) for v in row) for row in result.rows)
    return (header + "\n" + body + ("\n" if body else "")).encode(), "csv", "text/csv"


class AthenaRuntime(Runtime):
    """Serves Athena's query API; the rest of Athena stays with moto."""

    name = "athena"
    ACTIONS = frozenset(
        {
            "StartQueryExecution",
            "GetQueryExecution",
            "GetQueryResults",
            "StopQueryExecution",
            "ListQueryExecutions",
            "BatchGetQueryExecution",
            "GetQueryRuntimeStatistics",
            "DeleteNamedQuery",
        }
    )

    def __init__(self, gateway):
        super().__init__(gateway)
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None

    def route(self, request: Request):
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith("AmazonAthena.") and aws_action(request) in self.ACTIONS:
            return self.serve
        return None

    def serve(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            body = {}
        action = aws_action(request) or ""
        handler = getattr(self, "api_" + re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower())
        try:
            return json_response(handler(request, body))
        except RequestError as exc:
            return json_response({"__type": exc.code, "Message": str(exc)}, 400)

    def health(self) -> dict:
        states = [e.state for e in list(self.executions.values())]
        return {"executions": len(states), "running": states.count("RUNNING")}

    def reset(self) -> None:
        with self.lock:
            executions, self.executions, self.tokens = self.executions, {}, {}
        for execution in executions.values():
            self.cancel(execution)

    def close(self) -> None:
        self.reset()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    # -- API -----------------------------------------------------------------------------------
    def caller(self, request: Request) -> tuple[str, str]:
        """(account, region) of the caller, as moto would resolve them."""
        from moto.iam.models import get_account_id_from

        access_key, region, _ = signing_scope(request)
        account = request.headers.get("x-moto-account-id") or get_account_id_from(access_key or "")
        return account, region or self.gateway.region

    def workgroup(self, account: str, region: str, name: str) -> dict:
        from moto.backends import get_backend

        with self.gateway.moto_lock:
            group = get_backend("athena")[account][region].work_groups.get(name)
            if group is None:
                raise RequestError(f"WorkGroup {name} is not found.")
            return copy.deepcopy(group.configuration or {})

    def api_start_query_execution(self, request: Request, body: dict) -> dict:
        query = body.get("QueryString") or ""
        if not query.strip():
            raise RequestError("QueryString must not be empty")
        token = body.get("ClientRequestToken")
        if token and token in self.tokens:
            return {"QueryExecutionId": self.tokens[token]}
        account, region = self.caller(request)
        group = body.get("WorkGroup") or "primary"
        config = self.workgroup(account, region, group)
        group_output = (config.get("ResultConfiguration") or {}).get("OutputLocation")
        own_output = (body.get("ResultConfiguration") or {}).get("OutputLocation")
        if config.get("EnforceWorkGroupConfiguration") and group_output:
            output = group_output
        else:
            output = own_output or group_output
        if not output:
            raise RequestError(NO_OUTPUT)
        if not output.startswith("s3://"):
            raise RequestError(f"OutputLocation must be an s3:// URL, not {output}")
        context = dict(body.get("QueryExecutionContext") or {})
        context.setdefault("Catalog", "AwsDataCatalog")
        execution = Execution(
            id=str(uuid.uuid4()),
            query=query,
            account=account,
            region=region,
            workgroup=group,
            context=context,
            output_location=output,
            parameters=list(body.get("ExecutionParameters") or []),
        )
        first = (scan_sql(query)[0].split() or [""])[0].lstrip("(").upper()
        extension = "csv" if first in ("", "SELECT", "WITH", "VALUES", "TABLE") else "txt"
        execution.result_file = f"{folder(output)}{execution.id}.{extension}"
        with self.lock:
            self.executions[execution.id] = execution
            if token:
                self.tokens[token] = execution.id
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena")
        self.pool.submit(self.execute, execution)
        return {"QueryExecutionId": execution.id}

    def find(self, execution_id: str | None) -> Execution:
        execution = self.executions.get(execution_id or "")
        if execution is None:
            raise RequestError(f"QueryExecution {execution_id} was not found")
        return execution

    def api_get_query_execution(self, request: Request, body: dict) -> dict:
        return {"QueryExecution": self.find(body.get("QueryExecutionId")).describe()}

    def api_batch_get_query_execution(self, request: Request, body: dict) -> dict:
        found, missing = [], []
        for execution_id in body.get("QueryExecutionIds") or []:
            if execution_id in self.executions:
                found.append(self.executions[execution_id].describe())
            else:
                missing.append(
                    {
                        "QueryExecutionId": execution_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {execution_id} was not found",
                    }
                )
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def api_list_query_executions(self, request: Request, body: dict) -> dict:
        group = body.get("WorkGroup") or "primary"
        limit = min(int(body.get("MaxResults") or 50), 50)
        start = int(body.get("NextToken") or 0)
        ids = [
            e.id
            for e in sorted(list(self.executions.values()), key=lambda e: e.submitted, reverse=True)
            if e.workgroup == group
        ]
        answer: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
        if start + limit < len(ids):
            answer["NextToken"] = str(start + limit)
        return answer

    def api_get_query_runtime_statistics(self, request: Request, body: dict) -> dict:
        execution = self.find(body.get("QueryExecutionId"))
        statistics = execution.describe()["Statistics"]
        timeline = {
            key: statistics[key]
            for key in (
                "QueryQueueTimeInMillis",
                "QueryPlanningTimeInMillis",
                "EngineExecutionTimeInMillis",
                "ServiceProcessingTimeInMillis",
                "TotalExecutionTimeInMillis",
            )
        }
        rows = {"InputBytes": statistics["DataScannedInBytes"]}
        if execution.result is not None:
            rows["OutputRows"] = len(execution.result.rows)
        return {"QueryRuntimeStatistics": {"Timeline": timeline, "Rows": rows}}

    def api_delete_named_query(self, request: Request, body: dict) -> dict:
        """moto has no DeleteNamedQuery (it answers 500): remove the query from its backend."""
        from moto.backends import get_backend

        account, region = self.caller(request)
        query_id = body.get("NamedQueryId") or ""
        with self.gateway.moto_lock:
            removed = get_backend("athena")[account][region].named_queries.pop(query_id, None)
        if removed is None:
            raise RequestError(f"Named query {query_id} was not found.")
        self.gateway.mark_dirty({"athena"})
        return {}

    def api_stop_query_execution(self, request: Request, body: dict) -> dict:
        self.cancel(self.find(body.get("QueryExecutionId")))
        return {}

    def api_get_query_results(self, request: Request, body: dict) -> dict:
        execution = self.find(body.get("QueryExecutionId"))
        if execution.state in ("QUEUED", "RUNNING"):
            raise RequestError(f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED" or execution.result is None:
            raise RequestError(
                f"Query did not finish successfully. Final query state: {execution.state}"
                + (f"\n{execution.reason}" if execution.reason else "")
            )
        limit = int(body.get("MaxResults") or MAX_PAGE)
        if not 1 <= limit <= MAX_PAGE:
            raise RequestError(f"MaxResults must be between 1 and {MAX_PAGE}")
        token = body.get("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise RequestError("NextToken is not valid") from None
        result = execution.result
        names = [tuple(c["Name"] for c in result.columns)] if result.header else []
        rows = itertools.islice(itertools.chain(names, result.rows), start, start + limit)
        answer: dict[str, Any] = {
            "UpdateCount": result.update_count,
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]}
                         for row in rows],
                "ResultSetMetadata": {"ColumnInfo": result.columns},
            },
        }  # fmt: skip
        if start + limit < len(names) + len(result.rows):
            answer["NextToken"] = str(start + limit)
        return answer

    # -- execution -----------------------------------------------------------------------------
    def cancel(self, execution: Execution) -> None:
        if execution.state in ("QUEUED", "RUNNING"):
            execution.state = "CANCELLED"
            execution.reason = "Query cancelled by user"
            execution.completed = time.time()
            connection = execution.connection
            if connection is not None:
                connection.interrupt()

    def execute(self, execution: Execution) -> None:
        """Run one query on a worker thread and record how it ended."""
        if execution.state != "QUEUED":
            return
        execution.state, execution.started = "RUNNING", time.time()
        statements = Statements(self, execution)
        try:
            sql = prepare(execution.query, execution.parameters)
            result = statements.run(sql)
            content, extension, content_type = result_text(result)
            location = folder(execution.output_location) + f"{execution.id}.{extension}"
            execution.statement_type = result.statement_type
            statements.s3.write(location, content, content_type)
            self.gateway.mark_dirty({"s3"})
            execution.result, execution.result_file = result, location
            if execution.state == "RUNNING":
                execution.state = "SUCCEEDED"
        except QueryError as exc:
            if execution.state == "RUNNING":
                execution.state, execution.reason = "FAILED", str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure is the query's, never the sandbox's
            log.exception("athena query %s failed", execution.id)
            if execution.state == "RUNNING":
                execution.state = "FAILED"
                execution.reason = f"GENERIC_INTERNAL_ERROR: {type(exc).__name__}: {exc}"
        finally:
            execution.completed = execution.completed or time.time()
