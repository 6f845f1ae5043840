"""Athena SQL read by sqlglot: statements, parameters, names, types, and DuckDB text.

:func:`parse` turns a QueryString and its execution parameters into one sqlglot tree (Athena
dialect: Hive DDL, Trino queries); :func:`duckdb_sql` transpiles a query to the SQL DuckDB runs;
:func:`tables_read` and :func:`result_names` read a query's tree; :func:`duck_type` and
:func:`glue_type` convert column types. sqlglot keeps the Hive utility statements it has no
grammar for (SHOW, MSCK REPAIR TABLE, CREATE DATABASE with options, ALTER TABLE ADD PARTITION)
as a ``Command``: :class:`Words` reads those from sqlglot's tokens.
"""

from __future__ import annotations

import functools
import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.hive import Hive
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from crosstrain.sandbox.services.athena.sql import CATALOG, QueryError

DIALECT = "athena"


@functools.cache
def _quiet() -> None:
    """sqlglot warns when it keeps a statement as a Command; that is expected here."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)


def parse(sql: str, parameters: list[str] | None = None) -> exp.Expression:
    """One statement's tree with ``?`` replaced by the execution parameters."""
    _quiet()
    try:
        trees = [tree for tree in sqlglot.parse(sql, read=DIALECT) if tree is not None]
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        reason = re.sub(
            r"<Token token_type: [^,]*, text: (.*?), line: .*?>",
            r"'\1'",
            str(error.get("description") or exc),
        )
        where = f"line {error.get('line') or 1}:{error.get('col') or 1}"
        raise QueryError(f"SYNTAX_ERROR: {where}: {reason}") from None
    except TokenError as exc:
        raise QueryError(f"SYNTAX_ERROR: {exc}") from None
    if not trees:
        raise QueryError("SYNTAX_ERROR: line 1:1: the query has no statement")
    if len(trees) > 1:
        raise QueryError("Only one sql statement is allowed.")
    tree, parameters = trees[0], list(parameters or [])
    holes = list(tree.find_all(exp.Placeholder, bfs=False))
    if len(holes) != len(parameters):
        raise QueryError(
            f"Incorrect number of parameters: expected {len(holes)} but found {len(parameters)}"
        )
    for hole, value in zip(holes, parameters, strict=True):
        hole.replace(sqlglot.maybe_parse(value, dialect=DIALECT))
    return tree


class WordTokenizer(Hive.Tokenizer):
    """Hive's tokens, every word its own token (sqlglot's tokenizer turns what follows SHOW and
    the like into one string, for a Command)."""

    COMMANDS: set = set()


def tokens(sql: str) -> list[Token]:
    return WordTokenizer().tokenize(sql)


def first_word(sql: str) -> str:
    """The statement's first keyword (comments and parentheses skipped), upper case."""
    try:
        found = tokens(sql)
    except TokenError:
        return ""
    words = [t.text.upper() for t in found if t.token_type != TokenType.L_PAREN]
    return words[0] if words else ""


# -- queries -------------------------------------------------------------------------------------
def _finish_reduce(node: exp.Expression) -> exp.Expression:
    """Trino's ``reduce(a, s, f, finish)``: DuckDB's ``list_reduce`` has no finish function, so
    apply it as ``list_extract(list_transform([list_reduce(...)], finish), 1)``."""
    if not isinstance(node, exp.Reduce) or node.args.get("finish") is None:
        return node
    finish = node.args["finish"]
    node.set("finish", None)
    params = finish.expressions
    if len(params) == 1 and finish.this == params[0]:  # s -> s
        return node
    applied = exp.Transform(this=exp.Array(expressions=[node]), expression=finish)
    return exp.Anonymous(this="list_extract", expressions=[applied, exp.Literal.number(1)])


def _plain_timestamp(node: exp.Expression) -> exp.Expression:
    """``TIMESTAMP '...'`` literals come back as TIMESTAMP(0), which DuckDB reads as seconds
    (TIMESTAMP_S); Athena's timestamps have milliseconds: keep DuckDB's plain TIMESTAMP."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMP:
        node.set("expressions", [])
    return node


def duckdb_sql(tree: exp.Expression) -> str:
    """The SQL DuckDB runs for a query tree."""
    return tree.transform(_finish_reduce).transform(_plain_timestamp).sql(dialect="duckdb")


def table_ref(table: exp.Table, database: str) -> tuple[str, str]:
    """(database, table) a table reference names, lower case as Glue stores them."""
    if table.catalog and table.catalog.lower() != CATALOG:
        raise QueryError(f"CATALOG_NOT_FOUND: Catalog '{table.catalog}' does not exist")
    return (table.db or database).lower(), table.name.lower()


def tables_read(tree: exp.Expression) -> list[exp.Table]:
    """Every table a tree reads, CTE names and table functions (``range``, ...) left out."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        if not table.db and table.name.lower() in ctes:
            continue
        found[(table.catalog.lower(), table.db.lower(), table.name.lower())] = table
    return list(found.values())


def result_names(tree: exp.Expression, names: list[str]) -> list[str]:
    """Athena's column names: unaliased expressions are ``_col0``, ``_col1``, ..."""
    node = tree
    while isinstance(node, exp.SetOperation | exp.Subquery):
        node = node.this
    if isinstance(node, exp.Values):
        return [f"_col{i}" for i in range(len(names))]
    if not isinstance(node, exp.Select):
        return names
    items = node.expressions
    if len(items) != len(names) or any(i.is_star for i in items):
        return names
    return [
        name if isinstance(item, exp.Alias | exp.Column) else f"_col{i}"
        for i, (item, name) in enumerate(zip(items, names, strict=True))
    ]


# -- types ---------------------------------------------------------------------------------------
def _data_type(hive: str | exp.DataType) -> exp.DataType:
    try:
        dtype = exp.DataType.build(hive, dialect="hive") if isinstance(hive, str) else hive
    except (ParseError, TokenError, ValueError):
        raise QueryError(f"NOT_SUPPORTED: Unknown type '{hive}'") from None
    if any(d.this == exp.DataType.Type.USERDEFINED for d in dtype.find_all(exp.DataType)):
        raise QueryError(f"NOT_SUPPORTED: Unknown type '{hive}'")
    return dtype


def duck_type(hive: str | exp.DataType) -> str:
    """A Hive/Glue column type as a DuckDB type."""
    return _data_type(hive).sql(dialect="duckdb")


def glue_type(dtype: exp.DataType) -> str:
    """A column type as Glue stores it: Hive spelling, lower case, no spaces."""
    return re.sub(r"\s+", "", _data_type(dtype).sql(dialect="hive")).lower()


# -- the statements sqlglot keeps as a Command -----------------------------------------------------
class Words:
    """A cursor over sqlglot's tokens of one statement sqlglot has no grammar for.

    sqlglot (30.x) parses neither Hive's SHOW statements nor MSCK REPAIR TABLE, CREATE DATABASE
    with COMMENT / LOCATION / DBPROPERTIES, or ALTER TABLE ADD PARTITION: it returns them as an
    opaque ``Command``. These few statements are read here, from its tokens (quoting, escapes
    and comments are sqlglot's).
    """

    def __init__(self, sql: str):
        self.tokens = [t for t in tokens(sql) if t.token_type != TokenType.SEMICOLON]
        self.i = 0

    def _text(self, offset: int = 0) -> str:
        at = self.i + offset
        return self.tokens[at].text.upper() if at < len(self.tokens) else ""

    def peek(self, *words: str) -> bool:
        return all(self._text(n) == w for n, w in enumerate(words))

    def take(self, *words: str) -> bool:
        """Consume ``words`` if they come next."""
        if not self.peek(*words):
            return False
        self.i += len(words)
        return True

    def expect(self, *words: str) -> None:
        if not self.take(*words):
            raise self.error(" ".join(words))

    def error(self, wanted: str) -> QueryError:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is None:
            return QueryError(f"SYNTAX_ERROR: mismatched input '<EOF>'. Expecting: {wanted}")
        return QueryError(
            f"SYNTAX_ERROR: line {token.line}:{token.col}: mismatched input '{token.text}'. "
            f"Expecting: {wanted}"
        )

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def end(self) -> None:
        if not self.done():
            raise self.error("<EOF>")

    def ident(self) -> str:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is None or not (
            token.token_type in (TokenType.IDENTIFIER, TokenType.VAR)
            or re.fullmatch(r"[A-Za-z_][\w$]*", token.text)
        ):
            raise self.error("an identifier")
        self.i += 1
        return token.text

    def name(self, database: str) -> tuple[str, str]:
        """``[catalog.][db.]table`` -> (db, table), lower case."""
        parts = [self.ident()]
        while self.take("."):
            parts.append(self.ident())
        if len(parts) > 3:
            raise QueryError(f"SYNTAX_ERROR: too many dots in {'.'.join(parts)}")
        table = exp.to_table(".".join(exp.to_identifier(p).sql() for p in parts))
        return table_ref(table, database)

    def string(self) -> str | None:
        """The next string literal's value, or ``None`` when none comes next."""
        if self.i < len(self.tokens) and self.tokens[self.i].token_type == TokenType.STRING:
            self.i += 1
            return self.tokens[self.i - 1].text
        return None

    def value(self) -> str:
        """A string or number literal."""
        text = self.string()
        if text is not None:
            return text
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is None or token.token_type != TokenType.NUMBER:
            raise self.error("a value")
        self.i += 1
        return token.text

    def properties(self) -> dict[str, str]:
        """``('k' = 'v', ...)``."""
        found = {}
        self.expect("(")
        while not self.take(")"):
            key = self.string()
            if key is None:
                raise self.error("a 'key'")
            self.expect("=")
            found[key] = self.value()
            self.take(",")
        return found

    def partition(self) -> dict[str, str]:
        """``PARTITION (k = 'v', k2 = 3)`` -> {k: value}."""
        self.expect("PARTITION")
        self.expect("(")
        spec = {}
        while not self.take(")"):
            key = self.ident().lower()
            self.expect("=")
            spec[key] = self.value()
            self.take(",")
        return spec


def partition_spec(spec: dict[str, str], keys: list[str]) -> list[str]:
    """Partition values in key order (every key named once)."""
    if set(spec) != set(keys):
        raise QueryError(f"SYNTAX_ERROR: partition spec must name {', '.join(keys)}")
    return [spec[k] for k in keys]


def literal_partitions(action: exp.Expression) -> list[tuple[dict[str, str], str | None]]:
    """The ``(k = v, ...)`` specs (and locations) of a parsed ADD or DROP PARTITION action."""
    if isinstance(action, exp.AddPartition):
        location = action.args.get("location")
        where = location.this.name if isinstance(location, exp.LocationProperty) else None
        partitions = [(action.this, where)]
    else:
        partitions = [(partition, None) for partition in action.expressions]
    specs = []
    for partition, where in partitions:
        spec = {}
        for pair in partition.expressions:
            if not isinstance(pair, exp.EQ) or not isinstance(pair.expression, exp.Literal):
                raise QueryError(f"SYNTAX_ERROR: cannot read partition spec {partition.sql()}")
            spec[pair.this.name.lower()] = pair.expression.name
        specs.append((spec, where))
    return specs
