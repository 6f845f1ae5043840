"""Glue table definitions from Athena DDL, and back.

CREATE EXTERNAL TABLE (:func:`create_table_input`, from sqlglot's tree), CREATE TABLE AS SELECT
(:func:`ctas_table`) and CREATE VIEW (:func:`view_table`) become Glue TableInputs; a table
becomes DESCRIBE output (:func:`describe_lines`) and a view its SQL again (:func:`view_sql`).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from sqlglot import exp

from crosstrain.sandbox.services.athena.grammar import glue_type, table_ref
from crosstrain.sandbox.services.athena.sql import CATALOG, QueryError

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


def glue_columns(definitions: list) -> list[dict]:
    """sqlglot column definitions -> Glue columns (name, Hive type, comment)."""
    columns = []
    for definition in definitions:
        if not isinstance(definition, exp.ColumnDef) or definition.args.get("kind") is None:
            raise QueryError(f"SYNTAX_ERROR: cannot read column definition '{definition.sql()}'")
        column = {"Name": definition.name.lower(), "Type": glue_type(definition.args["kind"])}
        comment = definition.find(exp.CommentColumnConstraint)
        if comment is not None:
            column["Comment"] = comment.this.name
        columns.append(column)
    return columns


def create_table_input(tree: exp.Create, database: str) -> tuple[str, dict, bool]:
    """CREATE EXTERNAL TABLE -> (database, Glue TableInput, if not exists)."""
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        raise QueryError("NOT_SUPPORTED: only CREATE EXTERNAL TABLE (columns) ... is supported")
    db, name = table_ref(schema.this, database)
    properties = tree.args.get("properties") or exp.Properties(expressions=[])
    location = properties.find(exp.LocationProperty)
    if location is None:
        raise QueryError("SYNTAX_ERROR: CREATE EXTERNAL TABLE needs LOCATION 's3://...'")
    partitioned = properties.find(exp.PartitionedByProperty)
    parameters = {"EXTERNAL": "TRUE"} | {
        p.name: p.text("value") for p in properties.expressions if type(p) is exp.Property
    }
    input_format, output_format, library, serde_params = storage(properties)
    comment = properties.find(exp.SchemaCommentProperty)
    table_input = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": glue_columns(partitioned.this.expressions) if partitioned else [],
        "StorageDescriptor": {
            "Columns": glue_columns(schema.expressions),
            "Location": location.this.name,
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {"SerializationLibrary": library, "Parameters": serde_params},
            "StoredAsSubDirectories": False,
        },
    }
    if comment is not None:
        table_input["Description"] = comment.this.name
    return db, table_input, bool(tree.args.get("exists"))


DELIMITED = {
    "fields": "field.delim",
    "escaped": "escape.delim",
    "collection_items": "collection.delim",
    "map_keys": "mapkey.delim",
    "lines": "line.delim",
    "null": "serialization.null.format",
}


def storage(properties: exp.Properties) -> tuple[str, str, str, dict[str, str]]:
    """STORED AS / ROW FORMAT -> (input format, output format, SerDe, SerDe parameters)."""
    input_format, output_format, library = TEXT_IO
    serde_params: dict[str, str] = {}
    stored = properties.find(exp.FileFormatProperty)
    if stored is not None and isinstance(stored.this, exp.InputOutputFormat):
        input_format = stored.this.text("input_format")
        output_format = stored.this.text("output_format")
    elif stored is not None:
        kind = stored.this.name.upper()
        if kind in STORED_AS:
            input_format, output_format, library = STORED_AS[kind]
        elif kind in ("JSON", "JSONFILE"):
            library = JSON_SERDE
        else:
            raise QueryError(f"NOT_SUPPORTED: STORED AS {kind}")
    serde = properties.find(exp.RowFormatSerdeProperty)
    if serde is not None:
        library = serde.this.name
        pairs = serde.args.get("serde_properties")
        if pairs is not None:
            serde_params = {p.name: p.text("value") for p in pairs.expressions}
    delimited = properties.find(exp.RowFormatDelimitedProperty)
    if delimited is not None:
        for arg, key in DELIMITED.items():
            if delimited.args.get(arg) is not None:
                serde_params[key] = delimited.args[arg].name
        if "field.delim" in serde_params:
            serde_params["serialization.format"] = serde_params["field.delim"]
    if library == TEXT_IO[2] and not serde_params:
        serde_params = {"serialization.format": "1"}
    if library == PARQUET_IO[2]:
        serde_params.setdefault("serialization.format", "1")
    return input_format, output_format, library, serde_params


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


def ctas_options(properties: exp.Properties | None) -> dict[str, Any]:
    """A CTAS's ``WITH (format = 'PARQUET', partitioned_by = ARRAY['k'], ...)`` -> dict."""
    options: dict[str, Any] = {}
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.FileFormatProperty):
            options["format"] = prop.this.name
        elif isinstance(prop, exp.PartitionedByProperty):
            options["partitioned_by"] = [v.name for v in prop.this.expressions]
        elif isinstance(prop, exp.WithDataProperty):
            options["no_data"] = bool(prop.args.get("no"))
        elif type(prop) is exp.Property:
            value = prop.args.get("value")
            if isinstance(value, exp.Array):
                options[prop.name.lower()] = [v.name for v in value.expressions]
            else:
                options[prop.name.lower()] = prop.text("value")
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
