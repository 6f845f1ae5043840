"""One Athena statement, run: SHOW/DESCRIBE, DDL on the Glue catalog, queries in DuckDB.

:class:`Statements` matches a prepared statement against :attr:`Statements.DISPATCH` and runs it
for one :class:`~.executions.Execution`: utility statements and DDL go to moto's Glue catalog and
S3 (here), queries (and CTAS, INSERT INTO, CREATE VIEW) to a fresh DuckDB connection with the
tables they read registered (:mod:`.queries`, the base class). The answer is a
:class:`~.executions.Result` of Athena column info and rows of text.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from crosstrain.sandbox.core.router import Runtime
from crosstrain.sandbox.services.athena.catalog import (
    Catalog,
    discover_partitions,
    partition_location,
)
from crosstrain.sandbox.services.athena.definitions import (
    describe_lines,
    parse_create_table,
    partition_spec,
)
from crosstrain.sandbox.services.athena.executions import Execution, Result, ddl, utility
from crosstrain.sandbox.services.athena.queries import QueryStatements
from crosstrain.sandbox.services.athena.s3 import SandboxS3, split_url
from crosstrain.sandbox.services.athena.sql import (
    IDENT_RE,
    LIKE_RE,
    NAME_RE,
    STRING_RE,
    QueryError,
    ident,
    pattern_match,
    properties,
    split_name,
)

STATEMENT_WORDS = frozenset({
    "ALTER", "ANALYZE", "CALL", "COMMIT", "CREATE", "DEALLOCATE", "DELETE", "DESC", "DESCRIBE",
    "DROP", "EXECUTE", "EXPLAIN", "GRANT", "INSERT", "MERGE", "MSCK", "OPTIMIZE", "PREPARE",
    "REVOKE", "ROLLBACK", "SELECT", "SET", "SHOW", "START", "UNLOAD", "UPDATE", "USE", "VACUUM",
})  # fmt: skip
UTILITIES = frozenset(
    {"show_databases", "show_tables", "show_partitions", "show_columns", "describe"}
)


class Statements(QueryStatements):
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

    def managed_table(self, sql: str, match: re.Match) -> Result:
        raise QueryError(
            "NOT_SUPPORTED: Only external table creation is supported (CREATE EXTERNAL TABLE, "
            "or CREATE TABLE ... AS SELECT)"
        )

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
         QueryStatements.create_table_as),
        (r"^CREATE\s+TABLE\s+", managed_table),
        (r"^INSERT\s+INTO\s+", QueryStatements.insert_into),
        (r"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+", QueryStatements.create_view),
        (rf"^MSCK\s+REPAIR\s+TABLE\s+{NAME_RE}$", msck_repair),
        (rf"^ALTER\s+TABLE\s+{NAME_RE}\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?PARTITION",
         alter_partitions),
        (r"^[(\s]*(?:SELECT|WITH|VALUES|TABLE)\b", QueryStatements.select),
    )  # fmt: skip
