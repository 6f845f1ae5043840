"""The handler logs a sentence per request: readable, but nothing a query can filter on."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "structured-logs"
HINT = "default"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    helpers.redeploy_variant(
        ctx,
        "    print(json.dumps(record))\n",
        "    print(f\"scored {len(customers)} customers, status {answer['statusCode']}\")\n",
    )
