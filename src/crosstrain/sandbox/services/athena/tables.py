"""Glue tables' data in sandbox S3: read into DuckDB as views, written as Hive-style files.

:class:`TableLoader` registers every table a query reads as a DuckDB view over a lazy pyarrow
dataset, each file tagged with its partition values so DuckDB's filters prune whole partitions.
:func:`split_partitions` and :func:`encode_rows` lay out rows a CTAS or INSERT INTO writes.
"""

from __future__ import annotations

import io
import json
from typing import Any

from crosstrain.sandbox.services.athena.catalog import Catalog, discover_partitions, table_format
from crosstrain.sandbox.services.athena.definitions import view_sql
from crosstrain.sandbox.services.athena.grammar import (
    duck_type,
    duckdb_sql,
    parse,
    table_ref,
    tables_read,
)
from crosstrain.sandbox.services.athena.s3 import (
    SandboxS3,
    arrow_filesystem,
    folder,
    lazy_dataset_class,
    split_url,
)
from crosstrain.sandbox.services.athena.sql import CATALOG, QueryError, quote, unescape


# -- a Glue table as a DuckDB view ---------------------------------------------------------------
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


class TableLoader:
    """Registers Glue tables in one DuckDB connection as views over pyarrow datasets."""

    def __init__(self, con, s3: SandboxS3, catalog: Catalog, counter: dict):
        self.con, self.s3, self.catalog, self.counter = con, s3, catalog, counter
        self.fs = arrow_filesystem(s3)
        self.loaded: set[tuple[str, str]] = set()

    def arrow_type(self, hive: str):
        return self.con.sql(f"SELECT NULL::{duck_type(hive)} AS v").to_arrow_table().schema[0].type

    def load_all(self, tree, database: str) -> None:
        """Register every table a sqlglot tree reads (``database`` for unqualified names)."""
        for table in tables_read(tree):
            if table.db.lower() in ("information_schema", "pg_catalog"):
                continue
            self.load(*table_ref(table, database))

    def load(self, database: str, name: str) -> None:
        if (database, name) in self.loaded:
            return
        table, partitions = self.catalog.table(database, name)
        self.loaded.add((database, name))
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote(database)}")
        if table.get("TableType") == "VIRTUAL_VIEW":
            tree = parse(view_sql(table))
            self.load_all(tree, database)
            self.con.execute(f"USE {CATALOG}.{quote(database)}")
            self.con.execute(
                f"CREATE OR REPLACE VIEW {CATALOG}.{quote(database)}.{quote(name)} AS "
                f"{duckdb_sql(tree)}"
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

        arrow = self.arrow_type(hive)
        if pa.types.is_integer(arrow):
            return pa.int64()
        if pa.types.is_floating(arrow):
            return pa.float64()
        if pa.types.is_boolean(arrow) or pa.types.is_nested(arrow):
            return arrow
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


# -- writing table files (CTAS, INSERT INTO) -----------------------------------------------------
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
