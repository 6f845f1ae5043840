"""The Glue catalog side of Athena: moto's Glue backend, table storage and partitions.

:class:`Catalog` reads and writes databases, tables and partitions of one account and region.
:func:`table_format` finds a table's storage format, :func:`discover_partitions` its Hive
partition folders. Turning DDL into Glue TableInputs and back is :mod:`.definitions`.
"""

from __future__ import annotations

import copy
import re
import threading
from urllib.parse import unquote

from crosstrain.sandbox.services.athena.s3 import SandboxS3, folder, split_url
from crosstrain.sandbox.services.athena.sql import CATALOG, QueryError


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

    def views(self, database: str) -> list[str]:
        with self.lock:
            tables = self._database(database).tables
            return sorted(
                name
                for name, table in tables.items()
                if table.as_dict().get("TableType") == "VIRTUAL_VIEW"
            )

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
