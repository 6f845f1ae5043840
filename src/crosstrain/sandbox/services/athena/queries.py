"""The Athena statements DuckDB runs: SELECT, CREATE TABLE AS SELECT, INSERT INTO, CREATE VIEW.

Each runs in a fresh DuckDB connection with the tables it reads registered
(:meth:`QueryStatements.session`). CTAS and INSERT INTO write the rows as the table's files in
sandbox S3, a file per partition, and register new partitions in the Glue catalog
(:meth:`QueryStatements.write`).
"""

from __future__ import annotations

import contextlib
import copy

from sqlglot import exp

from crosstrain.sandbox.core.router import Runtime
from crosstrain.sandbox.services.athena.catalog import Catalog, table_format
from crosstrain.sandbox.services.athena.definitions import ctas_options, ctas_table, view_table
from crosstrain.sandbox.services.athena.executions import Execution, Result, ddl
from crosstrain.sandbox.services.athena.grammar import (
    DIALECT,
    duck_type,
    duckdb_sql,
    result_names,
    table_ref,
)
from crosstrain.sandbox.services.athena.s3 import SandboxS3, folder
from crosstrain.sandbox.services.athena.sql import (
    CATALOG,
    PRESTO_MACROS,
    QueryError,
    athena_column,
    athena_error,
    format_expr,
    hive_type,
    quote,
    unescape,
)
from crosstrain.sandbox.services.athena.tables import TableLoader, encode_rows, split_partitions


class QueryStatements:
    """The DuckDB half of :class:`~crosstrain.sandbox.services.athena.statements.Statements`.

    This is its base class; ``Statements.__init__`` sets the attributes below.
    """

    runtime: Runtime
    execution: Execution
    database: str
    catalog: Catalog
    s3: SandboxS3

    @contextlib.contextmanager
    def session(self, tree: exp.Expression):
        """A DuckDB connection with every table ``tree`` reads registered, and the query as
        DuckDB SQL (sqlglot transpiles Athena's Trino dialect)."""
        import duckdb

        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        self.execution.connection = con
        try:
            con.execute(f"ATTACH ':memory:' AS {CATALOG}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(self.database)}")
            con.execute(f"USE {CATALOG}.{quote(self.database)}")
            con.execute("SET integer_division = true")
            con.execute("SET TimeZone = 'UTC'")
            for macro in PRESTO_MACROS:
                con.execute(f"CREATE OR REPLACE TEMP MACRO {macro}")
            loader = TableLoader(con, self.s3, self.catalog, self.execution.counter)
            loader.load_all(tree, self.database)
            con.execute(f"USE {CATALOG}.{quote(self.database)}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            if self.execution.state == "CANCELLED":  # stopped before the connection existed
                raise QueryError("Query cancelled by user")
            yield con, duckdb_sql(tree)
        except duckdb.Error as exc:
            if self.execution.state == "CANCELLED":
                raise QueryError("Query cancelled by user") from None
            raise QueryError(athena_error(exc)) from None
        finally:
            self.execution.connection = None
            con.close()

    def select(self, tree: exp.Query) -> Result:
        with self.session(tree) as (con, sql):
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
    def materialize(con, sql: str, tree: exp.Expression, types: list[str] | None = None):
        """(Arrow table, [(column, Hive type)]) of a query; ``types`` casts column by column."""
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

    def create_table_as(self, tree: exp.Create) -> Result:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        database, name = table_ref(target, self.database)
        options = ctas_options(tree.args.get("properties"))
        query = tree.expression
        if tree.args.get("exists") and name in [t.lower() for t in self.catalog.tables(database)]:
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
        with self.session(query) as (con, sql):
            data, columns = self.materialize(con, sql, query)
        if [c for c, _ in columns[len(columns) - len(keys) :]] != keys:
            raise QueryError(
                "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the "
                f"table and in the same order as the table properties: {keys}"
            )
        table_input = ctas_table(name, columns, keys, location, kind, options)
        self.catalog.create_table(database, table_input, False)
        no_data = options.get("no_data", False)
        files = [] if no_data else self.write(database, name, data)
        manifest = (
            f"{folder(self.execution.output_location)}tables/{self.execution.id}-manifest.csv"
        )
        self.s3.write(manifest, "".join(f + "\n" for f in files).encode(), "text/csv")
        self.runtime.router.mark_dirty({"glue"})
        return Result([], [], "DDL", header=False, update_count=0 if no_data else data.num_rows)

    def insert_into(self, tree: exp.Insert) -> Result:
        import pyarrow as pa

        target, listed = tree.this, None
        if isinstance(target, exp.Schema):
            listed = [c.name.lower() for c in target.expressions]
            target = target.this
        database, name = table_ref(target, self.database)
        table, _ = self.catalog.table(database, name)
        if table.get("TableType") == "VIRTUAL_VIEW":
            raise QueryError(f"NOT_SUPPORTED: Inserting into view {database}.{name}")
        everything = table["StorageDescriptor"].get("Columns", []) + table.get("PartitionKeys", [])
        targets = [c["Name"].lower() for c in everything]
        listed = listed or targets
        unknown = set(listed) - set(targets)
        if unknown:
            raise QueryError(f"COLUMN_NOT_FOUND: Insert column name does not exist: {unknown}")
        type_of = {c["Name"].lower(): c["Type"] for c in everything}
        query = tree.expression
        with self.session(query) as (con, sql):
            types = [duck_type(type_of[c]) for c in listed]
            data, _ = self.materialize(con, sql, query, types)
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

    def create_view(self, tree: exp.Create) -> Result:
        if not isinstance(tree.this, exp.Table) or not isinstance(tree.expression, exp.Query):
            raise QueryError("SYNTAX_ERROR: CREATE VIEW name AS SELECT ...")
        database, name = table_ref(tree.this, self.database)
        query = tree.expression
        with self.session(query) as (con, sql):
            relation = con.sql(sql)
            names = [n.lower() for n in result_names(query, relation.columns)]
            columns = [(n, hive_type(t)) for n, t in zip(names, relation.types, strict=True)]
        exists = name in [t.lower() for t in self.catalog.tables(database)]
        if exists and not tree.args.get("replace"):
            raise QueryError(f"ALREADY_EXISTS: View '{CATALOG}.{database}.{name}' already exists")
        if exists:
            self.catalog.drop_table(database, name, True)
        text = query.sql(dialect=DIALECT)
        self.catalog.create_table(database, view_table(name, database, text, columns), False)
        self.runtime.router.mark_dirty({"glue"})
        return ddl()
