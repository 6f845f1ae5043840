"""Athena SQL read by sqlglot: statements, parameters, names, types and the DuckDB text."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from crosstrain.sandbox.services.athena.grammar import (
    Words,
    duck_type,
    duckdb_sql,
    first_word,
    glue_type,
    parse,
    result_names,
    tables_read,
)
from crosstrain.sandbox.services.athena.sql import QueryError


def duck(sql: str):
    """The first row DuckDB answers for Athena SQL."""
    return duckdb.sql(duckdb_sql(parse(sql))).fetchone()


def test_parameters_fill_placeholders_in_order_outside_quotes_and_comments():
    tree = parse("SELECT '?' AS q, ? AS a -- why?\nFROM t WHERE b = ? /* ; ? */", ["'x'", "3"])
    assert duckdb_sql(tree).startswith("SELECT '?' AS q, 'x' AS a")
    assert "b = 3" in duckdb_sql(tree)


def test_parameter_count_must_match():
    with pytest.raises(QueryError, match="expected 2 but found 1"):
        parse("SELECT ? + ?", ["1"])


def test_one_statement_only_but_a_trailing_semicolon_is_fine():
    parse("SELECT 1;")
    with pytest.raises(QueryError, match="Only one sql statement is allowed"):
        parse("SELECT 1; SELECT 2")


def test_syntax_error_names_line_and_column():
    with pytest.raises(QueryError, match=r"SYNTAX_ERROR: line 2:\d+: .*'WHERE'"):
        parse("SELECT a\nFROM WHERE")


def test_first_word_skips_comments_and_parentheses():
    assert first_word("-- note\n/* x */ ( SELECT 1)") == "SELECT"
    assert first_word("show tables") == "SHOW"


def test_trino_functions_run_in_duckdb():
    assert duck(
        "SELECT date_format(date_parse('2024-03-05 06:07:08', '%Y-%m-%d %H:%i:%s'), "
        "'%d/%m/%Y %H:%i'), transform(ARRAY[1, 2], x -> x * 2), "
        "filter(ARRAY[1, 2, 3], x -> x > 1), TRY_CAST('x' AS integer), cardinality(ARRAY[4, 5])"
    ) == ("05/03/2024 06:07", [2, 4], [2, 3], None, 2)


def test_reduce_applies_its_finish_function():
    assert duck("SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s * 10)") == (60,)
    assert duck("SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s)") == (6,)


def test_timestamp_literals_keep_milliseconds():
    assert duckdb.sql(duckdb_sql(parse("SELECT TIMESTAMP '2024-01-01 00:00:00.123' AS t"))).types[
        0
    ] == duckdb.sqltype("TIMESTAMP")


def test_tables_read_leave_out_ctes_and_table_functions():
    tree = parse(
        "WITH big AS (SELECT * FROM shop.orders) SELECT * FROM big "
        "JOIN awsdatacatalog.shop.customers c ON true CROSS JOIN UNNEST(sequence(1, 2)) AS u(n)"
    )
    assert {(t.catalog, t.db, t.name) for t in tables_read(tree)} == {
        ("", "shop", "orders"),
        ("awsdatacatalog", "shop", "customers"),
    }
    assert tables_read(parse("SELECT * FROM range(3) AS r(x)")) == []


def test_result_names_follow_athena():
    tree = parse("SELECT a, b AS bee, a + 1, count(*) FROM t")
    assert result_names(tree, ["a", "bee", "(a + 1)", "count_star()"]) == [
        "a",
        "bee",
        "_col2",
        "_col3",
    ]
    assert result_names(parse("VALUES (1, 2)"), ["col0", "col1"]) == ["_col0", "_col1"]
    assert result_names(parse("SELECT * FROM t"), ["x", "y"]) == ["x", "y"]


def test_types_between_hive_glue_and_duckdb():
    assert duck_type("array<struct<a:int,b:string>>") == "STRUCT(a INT, b TEXT)[]"
    assert duck_type("map<string,decimal(10,2)>") == "MAP(TEXT, DECIMAL(10, 2))"
    column = parse("CREATE EXTERNAL TABLE t (m MAP<STRING, ARRAY<INTEGER>>) LOCATION 's3://b/'")
    assert glue_type(column.find(exp.ColumnDef).args["kind"]) == "map<string,array<int>>"
    with pytest.raises(QueryError, match="Unknown type 'nonsense'"):
        duck_type("nonsense")


def test_words_read_a_show_statement_from_sqlglot_tokens():
    words = Words("SHOW TABLES IN `shop` LIKE 'ord*' -- comment")
    assert words.take("SHOW", "TABLES") and words.take("IN")
    assert words.ident() == "shop"
    assert words.take("LIKE") and words.string() == "ord*"
    assert words.done()


def test_words_read_partition_specs():
    words = Words("PARTITION (year = 2024, `Region` = 'eu') LOCATION 's3://b/x/'")
    assert words.partition() == {"year": "2024", "region": "eu"}
    assert words.take("LOCATION") and words.value() == "s3://b/x/"
