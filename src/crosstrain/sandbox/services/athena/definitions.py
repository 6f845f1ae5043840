"""Glue table definitions from Athena DDL, and back.

CREATE EXTERNAL TABLE (:func:`parse_create_table`), CREATE TABLE AS SELECT (:func:`ctas_table`)
and CREATE VIEW (:func:`view_table`) become Glue TableInputs; a table becomes DESCRIBE output
(:func:`describe_lines`) and a view its SQL again (:func:`view_sql`).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from crosstrain.sandbox.services.athena.sql import (
    CATALOG,
    IDENT_RE,
    NAME_RE,
    STRING_RE,
    QueryError,
    duck_type,
    ident,
    matching_paren,
    properties,
    split_name,
    split_top,
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


def parse_columns(text: str) -> list[dict]:
    """``name type [COMMENT '...'], ...`` -> Glue columns."""
    columns = []
    for part in split_top(text):
        match = re.match(rf"({IDENT_RE})\s+(.+?)(?:\s+COMMENT\s+{STRING_RE})?$", part, re.I | re.S)
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
        rf"CREATE\s+(?:EXTERNAL\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{NAME_RE}\s*\(", sql, re.I | re.S
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
    location = re.search(rf"\bLOCATION\s+{STRING_RE}", rest, re.I)
    if not location:
        raise QueryError("SYNTAX_ERROR: CREATE EXTERNAL TABLE needs LOCATION 's3://...'")
    tblprops = re.search(r"TBLPROPERTIES\s*\(", rest, re.I)
    parameters = {"EXTERNAL": "TRUE"}
    if tblprops:
        parameters |= properties(rest[tblprops.end() : matching_paren(rest, tblprops.end() - 1)])
        rest = rest[: tblprops.start()]
    input_format, output_format, library, serde_params = parse_storage(rest)
    comment = re.search(rf"^\s*COMMENT\s+{STRING_RE}", rest, re.I)
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


def parse_storage(rest: str) -> tuple[str, str, str, dict[str, str]]:
    """STORED AS / ROW FORMAT clauses -> (input format, output format, SerDe, SerDe parameters)."""
    input_format, output_format, library = TEXT_IO
    serde_params: dict[str, str] = {}
    stored = re.search(r"STORED\s+AS\s+(\w+)", rest, re.I)
    if stored and stored.group(1).upper() == "INPUTFORMAT":
        formats = re.search(rf"INPUTFORMAT\s+{STRING_RE}\s+OUTPUTFORMAT\s+{STRING_RE}", rest, re.I)
        if formats:
            input_format, output_format = formats.groups()
    elif stored and stored.group(1).upper() in STORED_AS:
        input_format, output_format, library = STORED_AS[stored.group(1).upper()]
    elif stored and stored.group(1).upper() in ("JSON", "JSONFILE"):
        library = JSON_SERDE
    elif stored:
        raise QueryError(f"NOT_SUPPORTED: STORED AS {stored.group(1)}")
    serde = re.search(rf"ROW\s+FORMAT\s+SERDE\s+{STRING_RE}", rest, re.I)
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
            found = re.search(rf"{clause}\s+{STRING_RE}", delimited.group(1), re.I)
            if found:
                serde_params[key] = found.group(1)
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


def partition_spec(text: str, keys: list[str]) -> list[str]:
    """``(k='v', k2=3)`` -> values in key order."""
    pairs = dict(
        (ident(k), v if v is not None and v != "" else n)
        for k, v, n in re.findall(rf"({IDENT_RE})\s*=\s*(?:{STRING_RE}|([\w.-]+))", text)
    )
    if set(pairs) != set(keys):
        raise QueryError(f"SYNTAX_ERROR: partition spec must name {', '.join(keys)}")
    return [pairs[k].replace("''", "'") for k in keys]


def ctas_options(text: str) -> dict[str, Any]:
    """``format = 'PARQUET', partitioned_by = ARRAY['k'], ...`` -> dict."""
    options: dict[str, Any] = {}
    for key, value in re.findall(r"(\w+)\s*=\s*(ARRAY\s*\[[^\]]*\]|'(?:[^']|'')*'|[\w.]+)", text):
        if value.upper().startswith("ARRAY"):
            options[key.lower()] = [v.replace("''", "'") for v in re.findall(STRING_RE, value)]
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
