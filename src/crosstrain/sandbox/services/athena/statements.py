"""One Athena statement, run: SHOW/DESCRIBE, DDL on the Glue catalog, queries in DuckDB.

:class:`Statements` dispatches a statement sqlglot parsed (:func:`.grammar.parse`) on its kind
and runs it for one :class:`~.executions.Execution`: utility statements and DDL go to moto's
Glue catalog and S3 (here), queries (and CTAS, INSERT INTO, CREATE VIEW) to a fresh DuckDB
connection with the tables they read registered (:mod:`.queries`, the base class). The answer is
a :class:`~.executions.Result` of Athena column info and rows of text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from crosstrain.sandbox.core.router import Runtime
from crosstrain.sandbox.services.athena.catalog import (
    Catalog,
    discover_partitions,
    partition_location,
)
from crosstrain.sandbox.services.athena.definitions import create_table_input, describe_lines
from crosstrain.sandbox.services.athena.executions import Execution, Result, ddl, utility
from crosstrain.sandbox.services.athena.grammar import (
    Words,
    literal_partitions,
    partition_spec,
    table_ref,
)
from crosstrain.sandbox.services.athena.queries import QueryStatements
from crosstrain.sandbox.services.athena.s3 import SandboxS3, split_url
from crosstrain.sandbox.services.athena.sql import QueryError, pattern_match

UTILITIES = frozenset({"show", "describe"})
NOT_SUPPORTED = "NOT_SUPPORTED: Queries of this type are not supported"


class Statements(QueryStatements):
    """Runs one statement of Athena SQL for one execution."""

    def __init__(self, runtime: Runtime, execution: Execution):
        self.runtime = runtime
        self.execution = execution
        self.database = (execution.context.get("Database") or "default").lower()
        self.catalog = Catalog(runtime.router.moto_lock, execution.account, execution.region)
        self.s3 = SandboxS3(runtime.router.moto_lock, execution.account, execution.region)

    def run(self, tree: exp.Expression, sql: str) -> Result:
        """Run one parsed statement (``sql``: its text, for the statements sqlglot keeps as a
        Command)."""
        if self.database == "default" and self.catalog.ensure_default():
            self.runtime.router.mark_dirty({"glue"})
        method = self.dispatch(tree)
        kind = method.__name__
        dml = kind in ("select", "insert_into")
        self.execution.statement_type = "DML" if dml else "UTILITY" if kind in UTILITIES else "DDL"
        if isinstance(tree, exp.Command):
            return method(self, Words(sql))
        return method(self, tree)

    def dispatch(self, tree: exp.Expression) -> Callable[..., Result]:
        """The method that runs a statement of this kind."""
        if isinstance(tree, exp.Query):
            return QueryStatements.select
        if isinstance(tree, exp.Insert):
            return QueryStatements.insert_into
        if isinstance(tree, exp.Describe):
            return Statements.describe
        kind = str(tree.args.get("kind") or "").upper()
        if isinstance(tree, exp.Create):
            if kind in ("DATABASE", "SCHEMA"):
                return Statements.create_database_simple
            if kind == "VIEW":
                return QueryStatements.create_view
            if kind == "TABLE" and tree.expression is not None:
                return QueryStatements.create_table_as
            if kind == "TABLE" and tree.find(exp.ExternalProperty) is not None:
                return Statements.create_table
            if kind == "TABLE":
                return Statements.managed_table
        if isinstance(tree, exp.Drop) and kind in ("DATABASE", "SCHEMA"):
            return Statements.drop_database
        if isinstance(tree, exp.Drop) and kind in ("TABLE", "VIEW"):
            return Statements.drop_table
        if isinstance(tree, exp.Alter) and tree.actions:
            if all(isinstance(a, exp.DropPartition) for a in tree.actions):
                return Statements.drop_partitions
            if all(isinstance(a, exp.AddPartition) for a in tree.actions):
                return Statements.add_partition
        if isinstance(tree, exp.Command):
            command = {
                "SHOW": Statements.show,
                "MSCK REPAIR": Statements.msck_repair,
                "CREATE": Statements.create_database,
                "ALTER": Statements.add_partitions,  # several partitions at once
            }.get(str(tree.this).upper())
            if command is not None:
                return command
        raise QueryError(NOT_SUPPORTED)

    # -- utility statements (sqlglot keeps SHOW as a Command: read from its tokens) -----------
    def show(self, words: Words) -> Result:
        words.expect("SHOW")
        if words.take("DATABASES") or words.take("SCHEMAS"):
            return self.show_databases(words)
        if words.take("TABLES"):
            return self.show_tables(words)
        if words.take("PARTITIONS"):
            return self.show_partitions(words)
        if words.take("COLUMNS"):
            return self.show_columns(words)
        if words.take("VIEWS"):
            return self.show_views(words)
        if words.take("TBLPROPERTIES"):
            return self.show_properties(words)
        raise QueryError(NOT_SUPPORTED)

    @staticmethod
    def like(words: Words) -> str | None:
        """``[LIKE] 'pattern'`` at the end of a SHOW statement."""
        words.take("LIKE")
        pattern = words.string()
        words.end()
        return pattern

    def show_databases(self, words: Words) -> Result:
        pattern = self.like(words)
        return utility(
            "database_name", [d for d in self.catalog.databases() if pattern_match(pattern, d)]
        )

    def show_tables(self, words: Words) -> Result:
        database = self.database
        if words.take("IN") or words.take("FROM"):
            database = words.ident().lower()
        pattern = self.like(words)
        names = self.catalog.tables(database)
        return utility("tab_name", [n for n in names if pattern_match(pattern, n)])

    def show_views(self, words: Words) -> Result:
        database = self.database
        if words.take("IN") or words.take("FROM"):
            database = words.ident().lower()
        pattern = self.like(words)
        views = self.catalog.views(database)
        return utility("views", [n for n in views if pattern_match(pattern, n)])

    def show_properties(self, words: Words) -> Result:
        """``SHOW TBLPROPERTIES t [('name')]``: ``name<TAB>value`` lines."""
        table, _ = self.catalog.table(*words.name(self.database))
        wanted = None
        if words.take("("):
            wanted = words.string()
            words.expect(")")
        words.end()
        found = table.get("Parameters") or {}
        if wanted is not None and wanted not in found:
            raise QueryError(f"Table {table['Name']} does not have property: {wanted}")
        names = [wanted] if wanted is not None else sorted(found)
        return utility("prpt_name", [f"{n}\t{found[n]}" for n in names])

    def show_partitions(self, words: Words) -> Result:
        reference = words.name(self.database)
        words.end()
        table, partitions = self.catalog.table(*reference)
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if not keys:
            raise QueryError(f"Table {table['Name']} is not partitioned")
        specs = sorted(
            "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=False))
            for p in partitions
        )
        return utility("partition", specs)

    def show_columns(self, words: Words) -> Result:
        if not (words.take("IN") or words.take("FROM")):
            raise words.error("IN")
        db, name = words.name(self.database)
        if words.take("IN") or words.take("FROM"):
            db = words.ident().lower()
        words.end()
        table, _ = self.catalog.table(db, name)
        columns = table["StorageDescriptor"].get("Columns", []) + table.get("PartitionKeys", [])
        return utility("field", [c["Name"] for c in columns])

    def describe(self, tree: exp.Describe) -> Result:
        if not isinstance(tree.this, exp.Table):
            raise QueryError(NOT_SUPPORTED)
        table, _ = self.catalog.table(*table_ref(tree.this, self.database))
        return utility("col_name", describe_lines(table))

    # -- DDL -----------------------------------------------------------------------------------
    def create_database(self, words: Words) -> Result:
        """CREATE DATABASE with COMMENT, LOCATION or DBPROPERTIES (a Command to sqlglot)."""
        words.expect("CREATE")
        if not (words.take("DATABASE") or words.take("SCHEMA")):
            raise QueryError(NOT_SUPPORTED)
        if_not_exists = words.take("IF", "NOT", "EXISTS")
        name = words.ident().lower()
        database_input: dict[str, Any] = {}
        while not words.done():
            if words.take("COMMENT"):
                database_input["Description"] = words.value()
            elif words.take("LOCATION"):
                database_input["LocationUri"] = words.value()
            elif words.take("WITH", "DBPROPERTIES"):
                database_input["Parameters"] = words.properties()
            else:
                raise words.error("COMMENT, LOCATION or WITH DBPROPERTIES")
        self.catalog.create_database(name, database_input, if_not_exists)
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def create_database_simple(self, tree: exp.Create) -> Result:
        name = (tree.this.name or tree.this.db).lower()
        self.catalog.create_database(name, {}, bool(tree.args.get("exists")))
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def drop_database(self, tree: exp.Drop) -> Result:
        target = (tree.args.get("tables") or [tree.this])[0]
        self.catalog.drop_database(
            (target.name or target.db).lower(),
            bool(tree.args.get("exists")),
            bool(tree.args.get("cascade")),
        )
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def create_table(self, tree: exp.Create) -> Result:
        database, table_input, if_not_exists = create_table_input(tree, self.database)
        split_url(table_input["StorageDescriptor"]["Location"])
        self.catalog.create_table(database, table_input, if_not_exists)
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def managed_table(self, tree: exp.Create) -> Result:
        raise QueryError(
            "NOT_SUPPORTED: Only external table creation is supported (CREATE EXTERNAL TABLE, "
            "or CREATE TABLE ... AS SELECT)"
        )

    def drop_table(self, tree: exp.Drop) -> Result:
        target = (tree.args.get("tables") or [tree.this])[0]
        database, name = table_ref(target, self.database)
        self.catalog.drop_table(database, name, bool(tree.args.get("exists")))
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def msck_repair(self, words: Words) -> Result:
        if not words.take("MSCK REPAIR"):  # one token to sqlglot's Hive tokenizer
            words.expect("MSCK", "REPAIR")
        words.expect("TABLE")
        database, name = words.name(self.database)
        words.end()
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

    def add_partitions(self, words: Words) -> Result:
        """ALTER TABLE ... ADD [IF NOT EXISTS] PARTITION (...) [LOCATION '...'] PARTITION ...

        sqlglot parses one added partition (:meth:`add_partition`), not several."""
        words.expect("ALTER", "TABLE")
        database, name = words.name(self.database)
        if not words.take("ADD"):
            raise QueryError(NOT_SUPPORTED)
        if_not_exists = words.take("IF", "NOT", "EXISTS")
        specs = []
        while not words.done():
            spec = words.partition()
            specs.append((spec, words.value() if words.take("LOCATION") else None))
            words.take(",")
        if not specs:
            raise words.error("PARTITION")
        return self.add(database, name, specs, if_not_exists)

    def add_partition(self, tree: exp.Alter) -> Result:
        database, name = table_ref(tree.this, self.database)
        specs = [spec for action in tree.actions for spec in literal_partitions(action)]
        if_not_exists = any(action.args.get("exists") for action in tree.actions)
        return self.add(database, name, specs, if_not_exists)

    def add(self, database: str, name: str, specs: list, if_not_exists: bool) -> Result:
        """Add partitions given as [(spec, location or None)] to a table."""
        table, _ = self.catalog.table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        partitions = []
        for spec, where in specs:
            values = partition_spec(spec, keys)
            sd = copy.deepcopy(table["StorageDescriptor"])
            sd["Location"] = where or partition_location(table, keys, values)
            partitions.append({"Values": values, "StorageDescriptor": sd})
        added = self.catalog.add_partitions(database, name, partitions)
        if len(added) < len(partitions) and not if_not_exists:
            raise QueryError("AlreadyExistsException: Partition already exists.")
        self.runtime.router.mark_dirty({"glue"})
        return ddl()

    def drop_partitions(self, tree: exp.Alter) -> Result:
        database, name = table_ref(tree.this, self.database)
        table, _ = self.catalog.table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        values, if_exists = [], False
        for action in tree.actions:
            values += [partition_spec(spec, keys) for spec, _ in literal_partitions(action)]
            if_exists = if_exists or bool(action.args.get("exists"))
        self.catalog.drop_partitions(database, name, values, if_exists)
        self.runtime.router.mark_dirty({"glue"})
        return ddl()
