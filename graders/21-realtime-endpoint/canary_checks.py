"""Checks of 21-realtime-endpoint's steps 3 and 4: the canary update in place, both variants
serving, and the traffic shifted to v2."""

from crosstrain.labs.checks import Fail, check

from .endpoint import (
    CANARY_SHARE,
    CONFIG_CANARY,
    CONFIG_V1,
    ENDPOINT,
    JSON,
    MODELS,
    SHARE_TOLERANCE,
    URIS,
    compare,
    config,
    customers,
    describe,
    in_service,
    invoke,
    json_body,
    model_url,
    names,
)

# -- step 3 ----------------------------------------------------------------------------------


@check(
    "canary-update",
    points=2,
    hint=f"Package model v2 to {URIS['v2']}, create the model {MODELS['v2']} and the endpoint "
    f"config {CONFIG_CANARY} with two variants, v1 (model {MODELS['v1']}, weight 0.9) and v2 "
    f"(model {MODELS['v2']}, weight 0.1), then update_endpoint({ENDPOINT}) to it.",
    hints={
        "canary": "A canary keeps the old model and sends a small share to the new one: the new "
        "config needs both variants, v1 at weight 0.9 and v2 at weight 0.1. Weights are relative "
        "(v2's share is 0.1 / (0.9 + 0.1)); v2 alone, or at weight 0, is no canary.",
    },
    timeout=60,
)
def canary_config(ctx):
    canary = config(ctx, CONFIG_CANARY)
    if canary is None:
        found = [
            c["EndpointConfigName"]
            for c in ctx.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
        ]
        raise Fail(f"there is no endpoint config {CONFIG_CANARY} (configs: {names(found)})")
    variants = {v["VariantName"]: v for v in canary["ProductionVariants"]}
    if set(variants) != set(MODELS):
        raise Fail(
            f"{CONFIG_CANARY} has the variants {sorted(variants)}, not v1 and v2", hint="canary"
        )
    for version, model in MODELS.items():
        if variants[version]["ModelName"] != model:
            raise Fail(f"variant {version} serves {variants[version]['ModelName']}, not {model}")
    url = model_url(ctx, MODELS["v2"])
    if url != URIS["v2"]:
        raise Fail(f"model {MODELS['v2']} serves {url!r}, not {URIS['v2']}")
    weights = {v: float(variants[v].get("InitialVariantWeight", 1.0)) for v in MODELS}
    total = sum(weights.values())
    share = weights["v2"] / total if total else 0.0
    if abs(share - CANARY_SHARE) > SHARE_TOLERANCE:
        raise Fail(
            f"{CONFIG_CANARY} weighs v1 {weights['v1']:g} and v2 {weights['v2']:g}: v2 would get "
            f"{share:.0%} of the traffic, not {CANARY_SHARE:.0%}",
            hint="canary",
        )
    endpoint = in_service(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        reason = endpoint.get("FailureReason")
        raise Fail(
            f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}"
            + (f" ({reason})" if reason else "")
        )
    return f"{ENDPOINT} runs {CONFIG_CANARY}: v1 {weights['v1']:g}, v2 {weights['v2']:g}"


@check(
    "canary-update",
    points=1,
    hint=f"Move {ENDPOINT} to {CONFIG_CANARY} with update_endpoint(EndpointName=..., "
    "EndpointConfigName=...), then wait until it is InService again.",
    hints={
        "recreated": "Update the endpoint, do not delete and recreate it: between delete_endpoint "
        "and InService every request fails (minutes on AWS), and clients lose the endpoint. "
        "update_endpoint starts the new variants while the old ones keep serving. Delete the "
        f"endpoint, create it again on {CONFIG_V1}, then update it to {CONFIG_CANARY}.",
    },
    timeout=60,
)
def updated_in_place(ctx):
    canary = config(ctx, CONFIG_CANARY)
    if canary is None:
        raise Fail(f"there is no endpoint config {CONFIG_CANARY} yet")
    endpoint = describe(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        raise Fail(f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}")
    created, made = endpoint["CreationTime"], canary["CreationTime"]
    if created >= made:
        raise Fail(
            f"{ENDPOINT} was created at {created:%H:%M:%S}, after {CONFIG_CANARY} "
            f"({made:%H:%M:%S}): it was created on the canary config, not updated to it",
            hint="recreated",
        )
    return (
        f"{ENDPOINT} (created {created:%H:%M:%S}) was updated in place to {CONFIG_CANARY} "
        f"(created {made:%H:%M:%S})"
    )


@check(
    "canary-update",
    points=1,
    hint=f"Both variants must answer: v1 with model v1, v2 with model v2 (package train_v2's "
    f"model to {URIS['v2']} with the same code/inference.py).",
    timeout=60,
)
def both_variants_serve(ctx):
    in_service(ctx)
    rows = customers(ctx, "variants", 4)
    seen = []
    for version in MODELS:
        answer = invoke(ctx, json_body(rows), JSON, target=version)
        if answer.error and "ValidationError" in answer.error:
            raise Fail(f"{ENDPOINT} has no variant {version} to invoke: {answer.error[:160]}")
        compare(ctx, answer, rows, f"a JSON request to variant {version}")
        if answer.variant != version:
            raise Fail(f"TargetVariant {version} was answered by {answer.variant}")
        seen.append(version)
    return f"variants {' and '.join(seen)} answer with their own model (InvokedProductionVariant)"


# -- step 4 ----------------------------------------------------------------------------------


@check(
    "shift-traffic",
    points=2,
    hint=f"Send all traffic to v2 with update_endpoint_weights_and_capacities({ENDPOINT}): "
    "DesiredWeight 0 for v1 and 1 for v2, on the canary config (v1 stays deployed, ready for a "
    "rollback).",
    hints={
        "relative": "Weights are relative, not percentages: v2's share is its weight divided by "
        "the sum. Raising v2 to 1 while v1 keeps 0.9 gives v2 about half; set v1's "
        "DesiredWeight to 0 as well.",
    },
    timeout=60,
)
def traffic_shifted(ctx):
    endpoint = in_service(ctx)
    if endpoint["EndpointConfigName"] != CONFIG_CANARY:
        raise Fail(
            f"{ENDPOINT} runs {endpoint['EndpointConfigName']}, not {CONFIG_CANARY}: shift the "
            "canary's traffic with update_endpoint_weights_and_capacities, without a new config"
        )
    weights = {
        v["VariantName"]: float(v.get("CurrentWeight", v.get("DesiredWeight", 0)) or 0)
        for v in endpoint["ProductionVariants"]
    }
    shown = ", ".join(f"{name} {weight:g}" for name, weight in weights.items())
    if weights.get("v2", 0) <= 0 or weights.get("v1", 0) > 0:
        total = sum(weights.values())
        share = weights.get("v2", 0) / total if total else 0
        seen = f"{ENDPOINT} weighs {shown}: v2 gets {share:.0%} of the traffic"
        canary = config(ctx, CONFIG_CANARY) or {"ProductionVariants": []}
        initial = {
            v["VariantName"]: v.get("InitialVariantWeight") for v in canary["ProductionVariants"]
        }
        moved = any(float(initial.get(n) or 0) != w for n, w in weights.items())
        raise Fail(seen, hint="relative" if moved and weights.get("v2", 0) > 0 else None)
    rows = customers(ctx, "shifted", 2)
    answered = [invoke(ctx, json_body(rows), JSON).variant or "an error" for _ in range(4)]
    if set(answered) != {"v2"}:
        raise Fail(f"weights {shown}, yet 4 requests were answered by {answered}")
    return f"{ENDPOINT} weighs {shown}: 4 of 4 requests were answered by v2"
