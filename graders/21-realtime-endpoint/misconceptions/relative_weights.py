"""Only v2's weight is raised to 1, as if weights were shares: v2 gets half the traffic.

v1 keeps its weight 0.9, so v2 gets 1 / 1.9 of the requests, not all of them.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "shift-traffic"
HINT = "relative"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    ctx.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=lab.ENDPOINT,
        DesiredWeightsAndCapacities=[{"VariantName": "v2", "DesiredWeight": 1.0}],
    )
    lab.wait(ctx)
