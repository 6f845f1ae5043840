"""Athena in the sandbox runs real SQL over Glue tables whose data lives in sandbox S3."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from athena_support import OUTPUT, query, run
from botocore.exceptions import ClientError


def glue_orders_table(glue) -> None:
    glue.create_database(DatabaseInput={"Name": "shop"})
    glue.create_table(
        DatabaseName="shop",
        TableInput={
            "Name": "orders",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "year", "Type": "int"}],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "order_id", "Type": "bigint"},
                    {"Name": "region", "Type": "string"},
                    {"Name": "amount", "Type": "double"},
                ],
                "Location": "s3://lake/orders/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": (
                        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    )
                },
            },
        },
    )
    glue.batch_create_partition(
        DatabaseName="shop",
        TableName="orders",
        PartitionInputList=[
            {"Values": [str(y)], "StorageDescriptor": {"Location": f"s3://lake/orders/year={y}/"}}
            for y in (2022, 2023, 2024)
        ],
    )


CREATE_ORDERS = """
CREATE EXTERNAL TABLE IF NOT EXISTS shop.orders (
  order_id bigint,
  region string COMMENT 'sales region',
  amount double
)
PARTITIONED BY (year int)
STORED AS PARQUET
LOCATION 's3://lake/orders/'
TBLPROPERTIES ('parquet.compression'='SNAPPY')
"""


def by_region(frame: pd.DataFrame) -> list[list[str]]:
    grouped = frame.groupby("region").agg(n=("order_id", "size"), total=("amount", "sum"))
    return [[region, str(int(row.n)), f"{row.total:.2f}"] for region, row in grouped.iterrows()]


AGGREGATE = (
    "SELECT region, count(*) AS n, round(sum(amount), 2) AS total FROM orders "
    "WHERE year = 2024 GROUP BY region ORDER BY region"
)


def as_fixed(table: list[list[str | None]]) -> list[list[str]]:
    return [[r[0], r[1], f"{float(r[2]):.2f}"] for r in table]


def test_glue_api_partitioned_parquet_aggregate_matches_pandas(aws, orders):
    glue_orders_table(aws["glue"])
    table = query(aws["athena"], AGGREGATE)
    assert table[0] == ["region", "n", "total"]
    assert as_fixed(table[1:]) == by_region(orders[orders.year == 2024])


def test_create_external_table_then_msck_repair_finds_partitions(aws, orders):
    athena = aws["athena"]
    assert run(athena, "CREATE DATABASE shop")["Status"]["State"] == "SUCCEEDED"
    assert run(athena, CREATE_ORDERS)["Status"]["State"] == "SUCCEEDED"
    # As in Athena, partitions are invisible until they are in the catalog.
    assert query(athena, "SELECT count(*) FROM orders") == [["_col0"], ["0"]]

    assert run(athena, "MSCK REPAIR TABLE orders")["Status"]["State"] == "SUCCEEDED"
    partitions = aws["glue"].get_partitions(DatabaseName="shop", TableName="orders")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["2022", "2023", "2024"]
    assert query(athena, "SHOW PARTITIONS orders") == [["year=2022"], ["year=2023"], ["year=2024"]]
    assert as_fixed(query(athena, AGGREGATE)[1:]) == by_region(orders[orders.year == 2024])
    table = aws["glue"].get_table(DatabaseName="shop", Name="orders")["Table"]
    assert table["StorageDescriptor"]["Columns"][1]["Comment"] == "sales region"
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"


def test_filter_join_and_cte_answers_match_pandas(aws, orders):
    glue_orders_table(aws["glue"])
    sql = """
    WITH big AS (SELECT * FROM shop.orders WHERE amount > 200 AND year IN (2022, 2023))
    SELECT b.year, count(*) AS n, max(o.amount) AS top
    FROM big b JOIN awsdatacatalog.shop.orders o ON o.order_id = b.order_id AND o.year = b.year
    GROUP BY b.year ORDER BY b.year
    """
    expected = orders[(orders.amount > 200) & orders.year.isin([2022, 2023])]
    want = [[str(y), str(len(g)), str(g.amount.max())] for y, g in expected.groupby("year")]
    assert query(aws["athena"], sql)[1:] == want


def test_partition_pruning_reads_only_matching_partitions(aws, orders):
    glue_orders_table(aws["glue"])
    everything = run(aws["athena"], "SELECT sum(amount) FROM orders")
    one_year = run(aws["athena"], "SELECT sum(amount) FROM orders WHERE year = 2023")
    scanned_all = everything["Statistics"]["DataScannedInBytes"]
    scanned_one = one_year["Statistics"]["DataScannedInBytes"]
    assert 0 < scanned_one < scanned_all / 2


def test_csv_table_skips_header_and_types_columns(aws):
    aws["s3"].put_object(
        Bucket="lake",
        Key="people/people.csv",
        Body=b"name,age,city\nann,31,oslo\nbob,,lima\ncyd,40,\n",
    )
    athena = aws["athena"]
    run(athena, "CREATE DATABASE shop")
    created = run(
        athena,
        "CREATE EXTERNAL TABLE people (name string, age int, city string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' STORED AS TEXTFILE "
        "LOCATION 's3://lake/people/' TBLPROPERTIES ('skip.header.line.count'='1')",
    )
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    assert query(athena, "SELECT name, age, city FROM people ORDER BY name") == [
        ["name", "age", "city"],
        ["ann", "31", "oslo"],
        ["bob", None, "lima"],
        ["cyd", "40", ""],
    ]
    execution = run(athena, "SELECT sum(age) AS total FROM people")
    result = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Type"] == "bigint"
    assert result["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == "71"


def test_json_lines_table(aws):
    lines = [{"user": "ann", "clicks": 3, "tags": ["a", "b"]}, {"user": "bob", "clicks": 5}]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    aws["s3"].put_object(Bucket="lake", Key="events/day1.json", Body=body)
    athena = aws["athena"]
    run(athena, "CREATE DATABASE shop")
    run(
        athena,
        "CREATE EXTERNAL TABLE events (user string, clicks int, tags array<string>) "
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://lake/events/'",
    )
    table = query(athena, "SELECT user, clicks, cardinality(tags) FROM events ORDER BY user")
    assert table == [["user", "clicks", "_col2"], ["ann", "3", "2"], ["bob", "5", None]]


def test_sql_error_fails_with_the_reason(aws, orders):
    glue_orders_table(aws["glue"])
    athena = aws["athena"]
    execution = run(athena, "SELECT no_such_column FROM orders")
    assert execution["Status"]["State"] == "FAILED"
    assert "no_such_column" in execution["Status"]["StateChangeReason"]
    assert execution["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND")
    with pytest.raises(ClientError) as raised:
        athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


def test_unknown_table_fails_naming_it(aws):
    aws["glue"].create_database(DatabaseInput={"Name": "shop"})
    execution = run(aws["athena"], "SELECT * FROM nowhere")
    assert execution["Status"]["State"] == "FAILED"
    assert "awsdatacatalog.shop.nowhere" in execution["Status"]["StateChangeReason"]


def test_paging_over_2500_rows(aws):
    aws["glue"].create_database(DatabaseInput={"Name": "shop"})
    athena = aws["athena"]
    execution = run(athena, "SELECT n FROM UNNEST(sequence(1, 2500)) AS t(n) ORDER BY n")
    pages = list(
        athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution["QueryExecutionId"], PaginationConfig={"PageSize": 1000}
        )
    )
    assert [len(p["ResultSet"]["Rows"]) for p in pages] == [1000, 1000, 501]
    values = [row["Data"][0].get("VarCharValue") for p in pages for row in p["ResultSet"]["Rows"]]
    assert values == ["n"] + [str(i) for i in range(1, 2501)]
    with pytest.raises(ClientError):
        athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"], MaxResults=1001)


def test_show_and_describe(aws, orders):
    glue_orders_table(aws["glue"])
    aws["glue"].create_database(DatabaseInput={"Name": "staging"})
    athena = aws["athena"]
    assert query(athena, "SHOW DATABASES") == [["shop"], ["staging"]]
    assert query(athena, "SHOW TABLES IN shop") == [["orders"]]
    assert query(athena, "SHOW TABLES", database="staging") == []
    described = [r[0].split("\t") for r in query(athena, "DESCRIBE shop.orders")]
    assert [(c[0].strip(), c[1].strip()) for c in described[:4]] == [
        ("order_id", "bigint"),
        ("region", "string"),
        ("amount", "double"),
        ("year", "int"),
    ]
    assert any(c[0].startswith("# Partition Information") for c in described)


def test_result_csv_lands_in_s3(aws, orders):
    glue_orders_table(aws["glue"])
    execution = run(aws["athena"], AGGREGATE)
    query_id = execution["QueryExecutionId"]
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{OUTPUT}{query_id}.csv"
    body = aws["s3"].get_object(Bucket="athena-results", Key=f"queries/{query_id}.csv")["Body"]
    text = body.read().decode()
    assert text.startswith('"region","n","total"\n')
    assert list(csv.reader(io.StringIO(text))) == query(aws["athena"], AGGREGATE)


def test_missing_output_location_is_rejected(aws):
    with pytest.raises(ClientError) as raised:
        aws["athena"].start_query_execution(QueryString="SELECT 1")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "No output location provided" in raised.value.response["Error"]["Message"]


def test_workgroup_output_location_is_used(aws):
    athena = aws["athena"]
    athena.create_work_group(
        Name="analysts",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://athena-results/wg/"}},
    )
    execution = run(athena, "SELECT 42 AS answer", output=None, WorkGroup="analysts")
    assert execution["WorkGroup"] == "analysts"
    key = f"wg/{execution['QueryExecutionId']}.csv"
    body = aws["s3"].get_object(Bucket="athena-results", Key=key)["Body"].read()
    assert body == b'"answer"\n"42"\n'
    listed = athena.list_query_executions(WorkGroup="analysts")["QueryExecutionIds"]
    assert listed == [execution["QueryExecutionId"]]


def test_batch_get_reports_unknown_ids(aws):
    execution = run(aws["athena"], "SELECT 1")
    answer = aws["athena"].batch_get_query_execution(
        QueryExecutionIds=[execution["QueryExecutionId"], "no-such-id"]
    )
    assert [e["QueryExecutionId"] for e in answer["QueryExecutions"]] == [
        execution["QueryExecutionId"]
    ]
    assert answer["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "no-such-id"


def test_drop_table_removes_it_from_the_catalog(aws, orders):
    glue_orders_table(aws["glue"])
    assert run(aws["athena"], "DROP TABLE orders")["Status"]["State"] == "SUCCEEDED"
    assert aws["glue"].get_tables(DatabaseName="shop")["TableList"] == []
    assert aws["s3"].list_objects_v2(Bucket="lake", Prefix="orders/")["KeyCount"] == 3


def test_alter_table_add_partition(aws, orders):
    athena = aws["athena"]
    run(athena, "CREATE DATABASE shop")
    run(athena, CREATE_ORDERS)
    added = run(athena, "ALTER TABLE orders ADD IF NOT EXISTS PARTITION (year=2023)")
    assert added["Status"]["State"] == "SUCCEEDED", added["Status"]
    assert query(athena, "SELECT DISTINCT year FROM orders") == [["year"], ["2023"]]


def test_presto_functions_and_integer_division(aws):
    table = query(
        aws["athena"],
        "SELECT 7 / 2 AS q, date_format(TIMESTAMP '2024-03-05 06:07:08', '%Y/%m/%d %H:%i') AS d, "
        "approx_distinct(x) AS a, regexp_replace('a-b-c', '-') AS r "
        "FROM UNNEST(ARRAY[1, 2, 2]) AS t(x)",
    )
    assert table == [["q", "d", "a", "r"], ["3", "2024/03/05 06:07", "2", "abc"]]


def test_ctas_writes_partitioned_parquet_and_registers_it(aws, orders):
    glue_orders_table(aws["glue"])
    athena = aws["athena"]
    execution = run(
        athena,
        "CREATE TABLE big_orders WITH (format = 'PARQUET', external_location = "
        "'s3://lake/big/', partitioned_by = ARRAY['year']) AS "
        "SELECT order_id, amount, year FROM orders WHERE amount > 300",
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    result = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    expected = orders[orders.amount > 300]
    assert result["UpdateCount"] == len(expected)
    listed = aws["s3"].list_objects_v2(Bucket="lake", Prefix="big/")["Contents"]
    assert {o["Key"].split("/")[1] for o in listed} == {f"year={y}" for y in expected.year.unique()}
    total = query(athena, "SELECT count(*), round(sum(amount), 2) FROM big_orders")[1]
    assert total == [str(len(expected)), str(round(expected.amount.sum(), 2))]
    again = run(
        athena, "CREATE TABLE again WITH (external_location = 's3://lake/big/') AS SELECT 1"
    )
    assert "HIVE_PATH_ALREADY_EXISTS" in again["Status"]["StateChangeReason"]


def test_insert_into_appends_rows_and_partitions(aws, orders):
    glue_orders_table(aws["glue"])
    athena = aws["athena"]
    inserted = run(athena, "INSERT INTO orders VALUES (1, 'eu', 10.5, 2025), (2, 'us', 1.5, 2025)")
    assert inserted["Status"]["State"] == "SUCCEEDED", inserted["Status"]
    assert query(athena, "SHOW PARTITIONS orders")[-1] == ["year=2025"]
    assert query(athena, "SELECT count(*), sum(amount) FROM orders WHERE year = 2025")[1] == [
        "2",
        "12.0",
    ]
    by_name = run(athena, "INSERT INTO orders (year, region, order_id) VALUES (2026, 'eu', 7)")
    assert by_name["Status"]["State"] == "SUCCEEDED", by_name["Status"]
    assert query(athena, "SELECT order_id, region, amount FROM orders WHERE year = 2026") == [
        ["order_id", "region", "amount"],
        ["7", "eu", None],
    ]


def test_views_are_stored_in_glue_and_queryable(aws, orders):
    glue_orders_table(aws["glue"])
    athena = aws["athena"]
    created = run(
        athena,
        "CREATE VIEW eu_orders AS SELECT order_id, amount, year FROM orders WHERE region = 'eu'",
    )
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"]
    view = aws["glue"].get_table(DatabaseName="shop", Name="eu_orders")["Table"]
    assert view["TableType"] == "VIRTUAL_VIEW"
    assert view["ViewOriginalText"].startswith("/* Presto View: ")
    eu = orders[orders.region == "eu"]
    assert query(athena, "SELECT count(*) FROM eu_orders WHERE year = 2023")[1] == [
        str(len(eu[eu.year == 2023]))
    ]
    assert run(athena, "DROP VIEW eu_orders")["Status"]["State"] == "SUCCEEDED"
    assert run(athena, "SELECT * FROM eu_orders")["Status"]["State"] == "FAILED"


def test_default_database_exists_as_in_athena(aws):
    execution = run(aws["athena"], "SHOW TABLES", database="default")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert "default" in [d["Name"] for d in aws["glue"].get_databases()["DatabaseList"]]


def test_plain_create_table_is_refused_as_athena_does(aws):
    aws["glue"].create_database(DatabaseInput={"Name": "shop"})
    execution = run(aws["athena"], "CREATE TABLE t (a int) LOCATION 's3://lake/t/'")
    assert execution["Status"]["State"] == "FAILED"
    assert "Only external table creation is supported" in execution["Status"]["StateChangeReason"]


def test_unsupported_serde_fails_naming_it(aws):
    aws["glue"].create_database(DatabaseInput={"Name": "shop"})
    aws["glue"].create_table(
        DatabaseName="shop",
        TableInput={
            "Name": "events",
            "StorageDescriptor": {
                "Columns": [{"Name": "a", "Type": "int"}],
                "Location": "s3://lake/events/",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
                },
            },
        },
    )
    execution = run(aws["athena"], "SELECT * FROM events")
    assert execution["Status"]["State"] == "FAILED"
    assert "AvroSerDe" in execution["Status"]["StateChangeReason"]


def test_stop_query_execution_cancels_it(aws):
    athena = aws["athena"]
    query_id = athena.start_query_execution(
        QueryString="SELECT count(*) FROM range(3000000000) AS a(x) WHERE x % 7 = 3",
        ResultConfiguration={"OutputLocation": OUTPUT},
    )["QueryExecutionId"]
    athena.stop_query_execution(QueryExecutionId=query_id)
    status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "CANCELLED"
    with pytest.raises(ClientError):
        athena.get_query_results(QueryExecutionId=query_id)


def test_list_query_executions_pages_newest_first(aws):
    first = run(aws["athena"], "SELECT 1")["QueryExecutionId"]
    second = run(aws["athena"], "SELECT 2")["QueryExecutionId"]
    page = aws["athena"].list_query_executions(MaxResults=1)
    assert page["QueryExecutionIds"] == [second]
    rest = aws["athena"].list_query_executions(MaxResults=1, NextToken=page["NextToken"])
    assert rest["QueryExecutionIds"] == [first]


def test_named_query_can_be_deleted(aws):
    athena = aws["athena"]
    query_id = athena.create_named_query(Name="q", Database="d", QueryString="SELECT 1")[
        "NamedQueryId"
    ]
    athena.delete_named_query(NamedQueryId=query_id)
    assert athena.list_named_queries()["NamedQueryIds"] == []
    with pytest.raises(ClientError) as err:
        athena.delete_named_query(NamedQueryId=query_id)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
