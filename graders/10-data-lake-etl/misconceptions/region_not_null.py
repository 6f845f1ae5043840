"""Customers without a region filtered out of the revenue view: the regions no longer add up to
the company's revenue."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "business-questions"
HINT = "null-region"


def apply(ctx):
    solves = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    athena = ctx.client("athena")
    sql = solves.VIEWS["churn_by_plan"].strip()
    solves.run_query(athena, f"CREATE OR REPLACE VIEW churn_by_plan AS {sql}")
    sql = solves.VIEWS["revenue_by_region"].replace(
        "FROM customers", "FROM customers\nWHERE region IS NOT NULL"
    )
    solves.run_query(athena, f"CREATE OR REPLACE VIEW revenue_by_region AS {sql.strip()}")
