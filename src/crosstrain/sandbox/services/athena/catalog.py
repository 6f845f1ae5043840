"""The Glue catalog side of Athena: moto's Glue backend, table definitions and partitions.

:class:`Catalog` reads and writes databases, tables and partitions of one account and region.
The rest turns DDL into Glue TableInputs (CREATE EXTERNAL TABLE, CTAS, views) and back
(DESCRIBE, a view's SQL), and finds a table's storage format and Hive partition folders.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from typing import Any
from urllib.parse import unquote

from crosstrain.sandbox.services.athena.s3 import SandboxS3, folder, split_url
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


# -- Glue table definitions from DDL -------------------------------------------------------------
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
