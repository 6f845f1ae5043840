"""Churn rate as SUM(churned) / COUNT(*): integer division in Athena, so every rate is 0."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "business-questions"
HINT = "integer-division"


def apply(ctx):
    solves = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    athena = ctx.client("athena")
    solves.run_query(
        athena,
        "CREATE OR REPLACE VIEW churn_by_plan AS SELECT plan, count(*) AS customers, "
        "sum(churned) / count(*) AS churn_rate FROM customers GROUP BY plan",
    )
    sql = solves.VIEWS["revenue_by_region"].strip()
    solves.run_query(athena, f"CREATE OR REPLACE VIEW revenue_by_region AS {sql}")
