"""Athena SQL as DuckDB runs it: statement text, identifiers, types, Presto functions, errors.

Pure helpers with no sandbox state: :func:`prepare` turns a QueryString and its execution
parameters into one statement; :data:`PRESTO_MACROS` and :func:`presto_formats` cover the
Trino/Presto functions DuckDB lacks; the type helpers map Hive/Glue, DuckDB and Athena types; the
parse-tree helpers read DuckDB's ``json_serialize_sql`` output; :func:`athena_error` words a DuckDB
error the way Athena does. :class:`QueryError` is the failure every Athena module raises.
"""

from __future__ import annotations

import json
import re
from typing import Any

CATALOG = "awsdatacatalog"

# Hive/Glue type names -> DuckDB types.
HIVE_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "int": "INTEGER",
    "integer": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT", "tinyint": "TINYINT",
    "double": "DOUBLE", "float": "FLOAT", "real": "FLOAT", "boolean": "BOOLEAN",
    "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB", "varbinary": "BLOB",
}  # fmt: skip
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
# Trino/Presto functions DuckDB lacks or spells differently (temporary macros per connection).
# MySQL-style format specifiers (Presto's date_format / date_parse) -> strftime's.
MYSQL_FORMAT = {
    "%M": "%B",
    "%i": "%M",
    "%s": "%S",
    "%W": "%A",
    "%e": "%-d",
    "%c": "%-m",
    "%T": "%X",
}
_FORMAT_CALL = re.compile(
    r"(\b(?:date_format|date_parse)\s*\((?:[^()']|'[^']*'|\([^()]*\))*?,\s*)'([^']*)'(\s*\))", re.I
)
PRESTO_MACROS = (
    "date_format(ts, fmt) AS strftime(ts, fmt)",
    "date_parse(s, fmt) AS strptime(s, fmt)",
    "from_unixtime(x) AS make_timestamp(CAST(x * 1000000 AS BIGINT))",
    "to_unixtime(ts) AS epoch(ts)",
    "from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMP)",
    "from_iso8601_date(s) AS CAST(s AS DATE)",
    "to_iso8601(x) AS replace(CAST(x AS VARCHAR), ' ', 'T')",
    "json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "json_parse(s) AS CAST(s AS JSON)",
    "json_format(j) AS CAST(j AS VARCHAR)",
    "regexp_like(s, p) AS regexp_matches(s, p)",
    "regexp_replace(s, p, r := '') AS system.main.regexp_replace(s, p, r, 'g')",
    "approx_distinct(x) AS approx_count_distinct(x)",
    "approx_percentile(x, p) AS approx_quantile(x, p)",
    "day_of_week(d) AS isodow(d)",
    "dow(d) AS isodow(d)",
    "date_add(unit, n, ts) AS ts + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)",
    "cardinality(a) AS len(a)",
    "array_join(a, sep) AS array_to_string(a, sep)",
    "array_max(a) AS list_max(a)",
    "array_min(a) AS list_min(a)",
    "sequence(a, b) AS generate_series(a, b)",
    "is_nan(x) AS isnan(x)",
    "every(x) AS bool_and(x)",
    "levenshtein_distance(a, b) AS levenshtein(a, b)",
    "hamming_distance(a, b) AS hamming(a, b)",
    "last_day_of_month(d) AS last_day(d)",
    "codepoint(c) AS unicode(c)",
    "truncate(x) AS trunc(x)",
    "rand() AS random()",
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
IDENT_RE = r'(?:`[^`]+`|"[^"]+"|[\w$-]+)'
NAME_RE = rf"({IDENT_RE}(?:\s*\.\s*{IDENT_RE}){{0,2}})"
STRING_RE = r"'((?:[^']|'')*)'"
LIKE_RE = r"(?:\s+(?:LIKE\s+)?'([^']*)')?"


class QueryError(Exception):
    """The query fails; the message becomes the StateChangeReason."""


# -- SQL text helpers ----------------------------------------------------------------------------
def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident(text: str) -> str:
    """An identifier as Athena stores it: unquoted and lower case."""
    text = text.strip()
    if text[:1] in '`"' and text[-1:] == text[:1]:
        text = text[1:-1]
    return text.lower()


def split_name(text: str, database: str) -> tuple[str, str]:
    """``[catalog.][db.]table`` -> (db, table)."""
    parts = [ident(p) for p in re.findall(IDENT_RE, text)]
    if len(parts) == 3 and parts[0] != CATALOG:
        raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{parts[0]}' does not exist")
    return (parts[-2] if len(parts) > 1 else database), parts[-1]


def unescape(text: str) -> str:
    """A Hive delimiter literal ('\\t', '\\001', '\\u0001') as the character it names."""
    text = text.replace("''", "'")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), text)
    return text.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")


def scan_sql(sql: str) -> tuple[str, list[int]]:
    """(sql without comments, positions of ``?`` and ``;`` outside quotes in that text)."""
    out, marks, i, n, length = [], [], 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and not (sql[end] == ch and sql[end + 1 : end + 2] != ch):
                end += 2 if sql[end] == ch else 1
            piece, i = sql[i : end + 1], end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            piece, i = "", (n if end < 0 else end)
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            piece, i = " ", (n if end < 0 else end + 2)
        else:
            if ch in "?;":
                marks.append(length)
            piece, i = ch, i + 1
        out.append(piece)
        length += len(piece)
    return "".join(out), marks


def prepare(sql: str, parameters: list[str]) -> str:
    """One statement, comments removed, ``?`` replaced by the execution parameters."""
    text, marks = scan_sql(sql)
    text = text.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    text, marks = scan_sql(text)
    if any(text[m] == ";" for m in marks):
        raise QueryError("Only one sql statement is allowed.")
    holes = [m for m in marks if text[m] == "?"]
    if len(holes) != len(parameters):
        raise QueryError(
            f"Incorrect number of parameters: expected {len(holes)} but found {len(parameters)}"
        )
    for position, value in reversed(list(zip(holes, parameters, strict=True))):
        text = text[:position] + value + text[position + 1 :]
    return text


def presto_formats(sql: str) -> str:
    """Rewrite the format literals of date_format/date_parse calls for strftime/strptime."""

    def translate(match: re.Match) -> str:
        fmt = re.sub(r"%[A-Za-z]", lambda m: MYSQL_FORMAT.get(m.group(), m.group()), match[2])
        return f"{match[1]}'{fmt}'{match[3]}"

    return _FORMAT_CALL.sub(translate, sql)


def matching_paren(text: str, start: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise QueryError("SYNTAX_ERROR: unbalanced parentheses")


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside (), <> and quotes."""
    parts, depth, current, quoted = [], 0, [], None
    for ch in text:
        if quoted:
            quoted = None if ch == quoted else quoted
        elif ch in "'\"`":
            quoted = ch
        elif ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def properties(text: str) -> dict[str, str]:
    """``'k'='v', ...`` -> dict."""
    pairs = re.findall(rf"{STRING_RE}\s*=\s*{STRING_RE}", text)
    return {k.replace("''", "'"): v.replace("''", "'") for k, v in pairs}


def pattern_match(pattern: str | None, name: str) -> bool:
    """Hive SHOW patterns: ``*`` wildcards, ``|`` alternatives, case-insensitive."""
    if not pattern:
        return True
    options = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return any(re.fullmatch(o, name, re.I) for o in options)


# -- types ---------------------------------------------------------------------------------------
def duck_type(hive: str) -> str:
    """A Hive/Glue column type as a DuckDB type."""
    text = hive.strip().lower()
    if text.startswith("array<"):
        return f"{duck_type(text[6:-1])}[]"
    if text.startswith("map<"):
        key, value = split_top(text[4:-1])
        return f"MAP({duck_type(key)}, {duck_type(value)})"
    if text.startswith("struct<"):
        fields = [f.split(":", 1) for f in split_top(text[7:-1])]
        return "STRUCT(" + ", ".join(f"{quote(n.strip())} {duck_type(t)}" for n, t in fields) + ")"
    base = re.match(r"\w+", text)
    if base and base.group() == "decimal":
        digits = re.findall(r"\d+", text)
        return f"DECIMAL({digits[0] if digits else 10}, {digits[1] if len(digits) > 1 else 0})"
    if base and base.group() in HIVE_TYPES:
        return HIVE_TYPES[base.group()]
    raise QueryError(f"NOT_SUPPORTED: Unknown type '{hive}'")


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
    }  # fmt: skip
    return names.get(kind, "string")


# -- DuckDB parse trees and errors ---------------------------------------------------------------
def syntax_tree(con, sql: str) -> dict:
    """DuckDB's parse tree of one statement; a syntax error fails the query, naming the spot."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        position = int(tree.get("position") or 0)
        line = sql.count("\n", 0, position) + 1
        column = position - (sql.rfind("\n", 0, position) + 1) + 1
        raise QueryError(f"SYNTAX_ERROR: line {line}:{column}: {tree.get('error_message')}")
    return tree["statements"][0]["node"]


def referenced_tables(tree: dict) -> list[tuple[str, str, str]]:
    """(catalog, schema, table) of every table a parse tree reads, CTE names left out."""
    found: list[tuple[str, str, str]] = []
    ctes: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.append((node["catalog_name"], node["schema_name"], node["table_name"]))
            ctes.update(
                entry["key"].lower() for entry in (node.get("cte_map") or {}).get("map", [])
            )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    unique = dict.fromkeys(t for t in found if t[1] or t[2].lower() not in ctes)
    return list(unique)


def result_names(tree: dict, names: list[str]) -> list[str]:
    """Athena's column names: unaliased expressions are ``_col0``, ``_col1``, ..."""
    node = tree
    while node.get("type") == "SET_OPERATION_NODE":
        node = node["left"]
    items = node.get("select_list", [])
    if len(items) != len(names) or any(i.get("class") == "STAR" for i in items):
        return names
    return [
        f"_col{i}" if not item.get("alias") and item.get("class") != "COLUMN_REF" else name
        for i, (item, name) in enumerate(zip(items, names, strict=True))
    ]


def athena_error(exc: Exception) -> str:
    """A DuckDB error as Athena words it: ``ERROR_NAME: message``."""
    message = str(exc).split("\n\n", 1)[0].strip()
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", message)
    kinds = [cls.__name__ for cls in type(exc).__mro__]
    for kind, needle, name in ERROR_NAMES:
        if kind in kinds and needle.lower() in message.lower():
            return f"{name}: {message}"
    return f"GENERIC_INTERNAL_ERROR: {message}"
