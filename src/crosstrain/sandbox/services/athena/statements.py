"""One Athena statement, run: SHOW/DESCRIBE, DDL on the Glue catalog, queries in DuckDB.

:class:`Statements` matches a prepared statement against :attr:`Statements.DISPATCH` and runs it
for one :class:`Execution`: utility statements and DDL go to moto's Glue catalog and S3, queries
(and CTAS, INSERT INTO, CREATE VIEW) to a fresh DuckDB connection with the tables they read
registered. The answer is a :class:`Result` of Athena column info and rows of text.
"""

from __future__ import annotations

import contextlib
import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

from crosstrain.sandbox.core.router import Runtime
from crosstrain.sandbox.services.athena.catalog import (
    Catalog,
    ctas_options,
    ctas_table,
    describe_lines,
    discover_partitions,
    parse_create_table,
    partition_location,
    partition_spec,
    table_format,
    view_table,
)
from crosstrain.sandbox.services.athena.s3 import SandboxS3, folder, split_url
from crosstrain.sandbox.services.athena.sql import (
    CATALOG,
    IDENT_RE,
    LIKE_RE,
    NAME_RE,
    PRESTO_MACROS,
    STRING_RE,
    QueryError,
    athena_column,
    athena_error,
    duck_type,
    format_expr,
    hive_type,
    ident,
    matching_paren,
    pattern_match,
    presto_formats,
    properties,
    quote,
    result_names,
    split_name,
    split_top,
    syntax_tree,
    text_column,
    unescape,
)
from crosstrain.sandbox.services.athena.tables import TableLoader, encode_rows, split_partitions


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

    def __init__(self, runtime: Runtime, execution: Execution):
        self.runtime = runtime
        self.execution = execution
        self.database = (execution.context.get("Database") or "default").lower()
        self.catalog = Catalog(runtime.router.moto_lock, execution.account, execution.region)
        self.s3 = SandboxS3(runtime.router.moto_lock, execution.account, execution.region)

    def run(self, sql: str) -> Result:
        if self.database == "default" and self.catalog.ensure_default():
            self.runtime.router.mark_dirty({"glue"})
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
        comment = re.search(rf"COMMENT\s+{STRING_RE}", sql, re.I)
        location = re.search(rf"LOCATION\s+{STRING_RE}", sql, re.I)
        if comment:
            database_input["Description"] = comment.group(1)
        if location:
            database_input["LocationUri"] = location.group(1)
        dbprops = re.search(r"DBPROPERTIES\s*\((.*)\)", sql, re.I | re.S)
        if dbprops:
            database_input["Parameters"] = properties(dbprops.group(1))
        self.catalog.create_database(ident(match.group(2)), database_input, bool(match.group(1)))
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def drop_database(self, sql: str, match: re.Match) -> Result:
        self.catalog.drop_database(
            ident(match.group(2)), bool(match.group(1)), bool(match.group(3))
        )
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def create_table(self, sql: str, match: re.Match) -> Result:
        database, table_input, if_not_exists = parse_create_table(sql, self.database)
        split_url(table_input["StorageDescriptor"]["Location"])
        self.catalog.create_table(database, table_input, if_not_exists)
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def drop_table(self, sql: str, match: re.Match) -> Result:
        database, name = split_name(match.group(2), self.database)
        self.catalog.drop_table(database, name, bool(match.group(1)))
        self.runtime.router.mark_dirty({"glue"})
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
            self.runtime.router.mark_dirty({"glue"})
            return ddl(
                ["Partitions not in metastore:\t" + "\t".join(specs)]
                + [f"Repair: Added partition to metastore {spec}" for spec in specs]
            )
        return ddl()

    def alter_partitions(self, sql: str, match: re.Match) -> Result:
        database, name = split_name(match.group(1), self.database)
        table, _ = self.catalog.table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        specs = re.finditer(rf"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s+{STRING_RE})?", sql, re.I)
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
        self.runtime.router.mark_dirty({"glue"})
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
        head = re.match(rf"CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{NAME_RE}\s*", sql, re.I | re.S)
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
        self.runtime.router.mark_dirty({"glue"})
        return Result(
            [], [], "DDL", header=False, update_count=0 if body.group(2) else data.num_rows
        )

    def insert_into(self, sql: str, match: re.Match) -> Result:
        import pyarrow as pa

        head = re.match(rf"INSERT\s+INTO\s+{NAME_RE}\s*", sql, re.I | re.S)
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
        self.runtime.router.mark_dirty({"glue"})
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
        self.runtime.router.mark_dirty({"s3"})
        return files

    def managed_table(self, sql: str, match: re.Match) -> Result:
        raise QueryError(
            "NOT_SUPPORTED: Only external table creation is supported (CREATE EXTERNAL TABLE, "
            "or CREATE TABLE ... AS SELECT)"
        )

    def create_view(self, sql: str, match: re.Match) -> Result:
        head = re.match(
            rf"CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+{NAME_RE}\s+AS\s+(.*)$", sql, re.I | re.S
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
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    DISPATCH = (
        (rf"^SHOW\s+(?:DATABASES|SCHEMAS){LIKE_RE}$", show_databases),
        (rf"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+({IDENT_RE}))?{LIKE_RE}$", show_tables),
        (rf"^SHOW\s+PARTITIONS\s+{NAME_RE}$", show_partitions),
        (rf"^SHOW\s+COLUMNS\s+(?:IN|FROM)\s+{NAME_RE}(?:\s+(?:IN|FROM)\s+({IDENT_RE}))?$",
         show_columns),
        (rf"^(?:DESCRIBE|DESC)\s+(?:EXTENDED\s+|FORMATTED\s+)?{NAME_RE}$", describe),
        (rf"^CREATE\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?({IDENT_RE})", create_database),
        (
            rf"^DROP\s+(?:DATABASE|SCHEMA)\s+(IF\s+EXISTS\s+)?({IDENT_RE})(\s+CASCADE)?(?:\s+RESTRICT)?$",
            drop_database,
        ),
        (r"^CREATE\s+EXTERNAL\s+TABLE\s+", create_table),
        (rf"^DROP\s+(?:TABLE|VIEW)\s+(IF\s+EXISTS\s+)?{NAME_RE}$", drop_table),
        (rf"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{NAME_RE}\s*(?:WITH\s*\(.*\)\s*)?AS\s",
         create_table_as),
        (r"^CREATE\s+TABLE\s+", managed_table),
        (r"^INSERT\s+INTO\s+", insert_into),
        (r"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+", create_view),
        (rf"^MSCK\s+REPAIR\s+TABLE\s+{NAME_RE}$", msck_repair),
        (rf"^ALTER\s+TABLE\s+{NAME_RE}\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?PARTITION",
         alter_partitions),
        (r"^[(\s]*(?:SELECT|WITH|VALUES|TABLE)\b", select),
    )  # fmt: skip


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
