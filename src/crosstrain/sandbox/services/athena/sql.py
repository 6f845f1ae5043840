"""Athena SQL as DuckDB runs it: statement text, identifiers, types, Presto functions, errors.

Pure helpers with no sandbox state (reading SQL is :mod:`.grammar`'s, with sqlglot):
:data:`PRESTO_MACROS` covers the Trino functions sqlglot does not translate and DuckDB lacks; the
type helpers map DuckDB result types to Athena's and Glue's; :func:`athena_error` words a DuckDB
error the way Athena does. :class:`QueryError` is the failure every Athena module raises.
"""

from __future__ import annotations

import re
from typing import Any

CATALOG = "awsdatacatalog"

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
# Trino functions that sqlglot passes through unchanged and DuckDB lacks (temporary macros per
# connection); everything else Trino has and DuckDB spells differently, sqlglot translates.
PRESTO_MACROS = (
    "to_iso8601(x) AS replace(CAST(x AS VARCHAR), ' ', 'T')",
    "every(x) AS bool_and(x)",
    "hamming_distance(a, b) AS hamming(a, b)",
    "codepoint(c) AS unicode(c)",
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


class QueryError(Exception):
    """The query fails; the message becomes the StateChangeReason."""


# -- SQL text helpers ----------------------------------------------------------------------------
def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def unescape(text: str) -> str:
    """A Hive delimiter literal ('\\t', '\\001', '\\u0001') as the character it names."""
    text = text.replace("''", "'")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), text)
    return text.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")


def pattern_match(pattern: str | None, name: str) -> bool:
    """Hive SHOW patterns: ``*`` wildcards, ``|`` alternatives, case-insensitive."""
    if not pattern:
        return True
    options = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return any(re.fullmatch(o, name, re.I) for o in options)


# -- types ---------------------------------------------------------------------------------------
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
    if text == "TIMESTAMP WITH TIME ZONE":
        return f"strftime({column}, '%Y-%m-%d %H:%M:%S.%g %Z')"
    if text == "BLOB":
        return f"lower(hex({column}))"
    return f"CAST({column} AS VARCHAR)"


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
        "timestamp with time zone": "timestamp",
    }  # fmt: skip
    return names.get(kind, "string")


# -- errors ------------------------------------------------------------------------------------
def athena_error(exc: Exception) -> str:
    """A DuckDB error as Athena words it: ``ERROR_NAME: message``."""
    message = str(exc).split("\n\n", 1)[0].strip()
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", message)
    kinds = [cls.__name__ for cls in type(exc).__mro__]
    for kind, needle, name in ERROR_NAMES:
        if kind in kinds and needle.lower() in message.lower():
            return f"{name}: {message}"
    return f"GENERIC_INTERNAL_ERROR: {message}"
