"""Athena's grammar, broadly, through real queries against the sandbox (DDL and DML)."""

from __future__ import annotations

import pytest
from athena_support import query, run

ORDERS = """
CREATE EXTERNAL TABLE orders (order_id bigint, region string, amount double)
PARTITIONED BY (year int) STORED AS PARQUET LOCATION 's3://lake/orders/'
"""


@pytest.fixture
def shop(aws, orders):
    """The orders table created with DDL and its partitions found by MSCK REPAIR TABLE."""
    for sql in ("CREATE DATABASE shop", ORDERS, "MSCK REPAIR TABLE orders"):
        assert run(aws["athena"], sql)["Status"]["State"] == "SUCCEEDED", sql
    return aws


def ok(athena, sql: str, **kwargs) -> dict:
    execution = run(athena, sql, **kwargs)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return execution


def test_ctas_json_partitioned_then_insert_into_select(shop, orders):
    athena = shop["athena"]
    ok(
        athena,
        "CREATE TABLE small WITH (format = 'JSON', partitioned_by = ARRAY['year']) AS "
        "SELECT order_id, region, year FROM orders WHERE amount < 20",
    )
    table = shop["glue"].get_table(DatabaseName="shop", Name="small")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("JsonSerDe")
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year"]
    ok(athena, "INSERT INTO small (order_id, year) SELECT order_id, year FROM orders WHERE "
               "year = 2022 AND amount BETWEEN 20 AND 30")  # fmt: skip
    small = orders[orders.amount < 20]
    extra = orders[(orders.year == 2022) & orders.amount.between(20, 30)]
    assert query(athena, "SELECT count(*), count(region) FROM small") == [
        ["_col0", "_col1"],
        [str(len(small) + len(extra)), str(len(small))],
    ]


def test_ctas_textfile_with_a_field_delimiter_and_no_data(shop):
    athena = shop["athena"]
    ok(
        athena,
        "CREATE TABLE pipes WITH (format = 'TEXTFILE', field_delimiter = '|', "
        "external_location = 's3://lake/pipes/') AS SELECT order_id, region FROM orders "
        "WHERE order_id = 2023001",
    )
    body = shop["s3"].list_objects_v2(Bucket="lake", Prefix="pipes/")["Contents"][0]["Key"]
    assert shop["s3"].get_object(Bucket="lake", Key=body)["Body"].read() == b"2023001|us\n"
    ok(athena, "CREATE TABLE empty WITH (format = 'ORC') AS SELECT * FROM orders WITH NO DATA")
    assert query(athena, "SELECT count(*) FROM empty")[1] == ["0"]
    assert [c["Name"] for c in shop["glue"].get_table(DatabaseName="shop", Name="empty")["Table"][
        "StorageDescriptor"]["Columns"]] == ["order_id", "region", "amount", "year"]  # fmt: skip


def test_view_over_a_view_with_trino_functions(shop):
    athena = shop["athena"]
    ok(athena, "CREATE VIEW eu AS SELECT order_id, amount, year FROM orders WHERE region = 'eu'")
    ok(
        athena,
        "CREATE OR REPLACE VIEW eu_days AS SELECT year, "
        "date_format(date_parse(CAST(year AS varchar) || '-03-05', '%Y-%m-%d'), '%W %e %M') AS d "
        "FROM eu",
    )
    assert query(athena, "SELECT DISTINCT d FROM eu_days WHERE year = 2024") == [
        ["d"],
        ["Tuesday 5 March"],
    ]


def test_unnest_of_an_array_column_with_ordinality(shop):
    athena = shop["athena"]
    table = query(
        athena,
        "SELECT o.order_id, t.tag, t.n FROM orders o "
        "CROSS JOIN UNNEST(ARRAY[o.region, 'all']) WITH ORDINALITY AS t(tag, n) "
        "WHERE o.order_id = 2022000 ORDER BY t.n",
    )
    assert table == [["order_id", "tag", "n"], ["2022000", "eu", "1"], ["2022000", "all", "2"]]


def test_lambdas_transform_filter_reduce(aws):
    table = query(
        aws["athena"],
        "SELECT transform(xs, x -> x * x) AS squares, filter(xs, x -> x % 2 = 1) AS odd, "
        "reduce(xs, 0, (s, x) -> s + x, s -> s * 10) AS total "
        "FROM (VALUES ARRAY[1, 2, 3]) AS t(xs)",
        database="default",
    )
    assert table == [["squares", "odd", "total"], ["[1, 4, 9]", "[1, 3]", "60"]]


def test_date_parse_and_date_format_use_mysql_specifiers(aws):
    table = query(
        aws["athena"],
        "SELECT date_parse('05/03/2024 18:07:09', '%d/%m/%Y %H:%i:%s') AS t, "
        "date_format(TIMESTAMP '2024-03-05 18:07:09', '%Y-%m-%d %T %W') AS f, "
        "from_unixtime(0) AS epoch",
        database="default",
    )
    assert table[1] == [
        "2024-03-05 18:07:09.000",
        "2024-03-05 18:07:09 Tuesday",
        "1970-01-01 00:00:00.000 UTC",
    ]


def test_approx_percentile_and_window_functions(shop, orders):
    athena = shop["athena"]
    table = query(
        athena,
        "SELECT region, approx_percentile(amount, 0.5) BETWEEN min(amount) AND max(amount), "
        "rank() OVER (ORDER BY count(*) DESC, region) AS r "
        "FROM orders GROUP BY region ORDER BY r",
    )
    assert table == [["region", "_col1", "r"], ["apac", "true", "1"], ["eu", "true", "2"],
                     ["us", "true", "3"]]  # fmt: skip
    running = query(
        athena,
        "SELECT order_id, sum(amount) OVER (PARTITION BY year ORDER BY order_id) AS running, "
        "lag(order_id) OVER (PARTITION BY year ORDER BY order_id) AS previous "
        "FROM orders WHERE year = 2022 ORDER BY order_id LIMIT 2",
    )
    first, second = orders[orders.year == 2022].amount.iloc[:2]
    assert running[1:] == [["2022000", str(first), None],
                           ["2022001", str(first + second), "2022000"]]  # fmt: skip


def test_try_cast_gives_null_where_cast_fails(aws):
    athena = aws["athena"]
    table = query(
        athena,
        "SELECT TRY_CAST('12' AS integer) AS good, TRY_CAST('x' AS integer) AS bad",
        database="default",
    )
    assert table[1] == ["12", None]
    failed = run(athena, "SELECT CAST('x' AS integer)", database="default")
    assert failed["Status"]["StateChangeReason"].startswith("INVALID_CAST_ARGUMENT")


def test_external_table_opencsv_serde_with_properties_and_partitions(aws):
    for day in ("2024-01-01", "2024-01-02"):
        body = f'id;note\n1;"a;b"\n2;"{day}"\n'.encode()
        aws["s3"].put_object(Bucket="lake", Key=f"notes/dt={day}/notes.csv", Body=body)
    athena = aws["athena"]
    ok(athena, "CREATE DATABASE shop")
    ok(
        athena,
        "CREATE EXTERNAL TABLE notes (id int, note string) PARTITIONED BY (dt string) "
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "WITH SERDEPROPERTIES ('separatorChar' = ';', 'quoteChar' = '\"') "
        "LOCATION 's3://lake/notes/' TBLPROPERTIES ('skip.header.line.count' = '1')",
    )
    table = aws["glue"].get_table(DatabaseName="shop", Name="notes")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {
        "separatorChar": ";",
        "quoteChar": '"',
    }
    ok(athena, "ALTER TABLE notes ADD PARTITION (dt = '2024-01-01') PARTITION (dt = '2024-01-02')")
    assert query(
        athena, "SELECT dt, id, note FROM notes WHERE id = 1 OR dt = '2024-01-02' ORDER BY dt, id"
    ) == [  # fmt: skip
        ["dt", "id", "note"],
        ["2024-01-01", "1", "a;b"],
        ["2024-01-02", "1", "a;b"],
        ["2024-01-02", "2", "2024-01-02"],
    ]
    ok(athena, "ALTER TABLE notes DROP PARTITION (dt = '2024-01-01')")
    assert query(athena, "SHOW PARTITIONS notes") == [["dt=2024-01-02"]]


def test_external_table_tab_delimited_with_comment_and_map(aws):
    aws["s3"].put_object(Bucket="lake", Key="kv/a.tsv", Body=b"ann\tx:1,y:2\n")
    athena = aws["athena"]
    ok(athena, "CREATE DATABASE shop")
    ok(
        athena,
        "CREATE EXTERNAL TABLE IF NOT EXISTS kv (name string COMMENT 'who', attrs string) "
        "COMMENT 'pairs' ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' "
        "STORED AS TEXTFILE LOCATION 's3://lake/kv/'",
    )
    table = aws["glue"].get_table(DatabaseName="shop", Name="kv")["Table"]
    assert table["Description"] == "pairs"
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == "\t"
    assert query(athena, "SELECT name, split(attrs, ',')[2] AS second FROM kv") == [
        ["name", "second"],
        ["ann", "y:2"],
    ]


def test_show_and_describe_statements(shop):
    athena = shop["athena"]
    ok(athena, "CREATE DATABASE IF NOT EXISTS other COMMENT 'spare' WITH DBPROPERTIES ('k' = 'v')")
    database = shop["glue"].get_database(Name="other")["Database"]
    assert (database["Description"], database["Parameters"]) == ("spare", {"k": "v"})
    assert query(athena, "SHOW DATABASES LIKE 'sh*|oth*'") == [["other"], ["shop"]]
    assert query(athena, "SHOW TABLES IN shop 'ord*'") == [["orders"]]
    assert query(athena, "SHOW COLUMNS FROM orders IN shop") == [
        ["order_id"], ["region"], ["amount"], ["year"]
    ]  # fmt: skip
    described = query(athena, "DESCRIBE `shop`.orders")
    assert described[0][0].split("\t")[0].strip() == "order_id"
    assert any("# Partition Information" in row[0] for row in described)
    ok(athena, "CREATE VIEW recent AS SELECT * FROM orders WHERE year = 2024")
    assert query(athena, "SHOW VIEWS IN shop LIKE 'rec*'") == [["recent"]]
    ok(athena, "DROP DATABASE other")
    assert run(athena, "SHOW TABLES IN other")["Status"]["State"] == "FAILED"


def test_show_tblproperties(aws):
    athena = aws["athena"]
    ok(athena, "CREATE DATABASE shop")
    ok(athena, ORDERS + " TBLPROPERTIES ('classification' = 'parquet', 'owner' = 'me')")
    assert query(athena, "SHOW TBLPROPERTIES orders ('owner')") == [["owner\tme"]]
    assert ["classification\tparquet"] in query(athena, "SHOW TBLPROPERTIES shop.orders")


def test_msck_repair_reports_the_partitions_it_added(aws, orders):
    athena = aws["athena"]
    ok(athena, "CREATE DATABASE shop")
    ok(athena, ORDERS)
    execution = ok(athena, "MSCK REPAIR TABLE shop.orders")
    assert query(athena, "MSCK REPAIR TABLE orders") == []
    body = (
        aws["s3"]
        .get_object(Bucket="athena-results", Key=f"queries/{execution['QueryExecutionId']}.txt")[
            "Body"
        ]
        .read()
        .decode()
    )
    assert "Repair: Added partition to metastore orders:year=2023" in body


def test_execution_parameters_fill_placeholders(shop):
    table = query(
        shop["athena"],
        "SELECT count(*) FROM orders -- how many?\nWHERE region = ? AND year = ?",
        ExecutionParameters=["'eu'", "2023"],
    )
    assert table[1] == ["100"]


def test_syntax_errors_and_unsupported_statements(aws):
    athena = aws["athena"]
    bad = run(athena, "SELECT a\nFROM WHERE b", database="default")
    assert bad["Status"]["StateChangeReason"].startswith("SYNTAX_ERROR: line 2:")
    two = run(athena, "SELECT 1; SELECT 2", database="default")
    assert two["Status"]["StateChangeReason"] == "Only one sql statement is allowed."
    explain = run(athena, "EXPLAIN SELECT 1", database="default")
    assert explain["Status"]["StateChangeReason"].startswith("NOT_SUPPORTED")
