"""Checks for 23-least-privilege: they read the roles, the sandbox's call log (what each workload
really called, under --enforce-iam), IAM's policy simulator and the live workloads.

The simulator is the sandbox's SimulatePrincipalPolicy, the same statement evaluation the
enforcement uses. Hidden data: the live proof scores a customer drawn from the course secret
under a fresh key, and the simulator is asked about object keys and forbidden calls the learner
cannot know in advance (on the learner's path: fixed ones).
"""

import fnmatch
import json
import secrets

from crosstrain.labs.checkkit import as_list, error_code
from crosstrain.labs.checks import Fail, check

from .facts import grants, role_documents, simulate, trusted_services, used_calls, workspace_json
from .names import (
    ADMIN_HINT,
    BUCKET,
    ENDPOINT,
    FORBIDDEN,
    FUNCTION,
    OBJECT_ARN_HINT,
    ROLES,
    S3,
    SERVICES,
    TRAINING_JOB,
    TRUST_HINT,
    WILDCARD_HINT,
)

# -- what the learner wrote, and what the sandbox saw ------------------------------------------


@check(
    "observe-calls",
    points=3,
    hint="Run the three workloads (the step's first cell), then write observed.json: for each of "
    'training, endpoint and scoring, the distinct {"action", "resource"} pairs the call log '
    "shows for it (stack.call_log(allowed=True), grouped with stack.workload_of).",
    hints={
        "rerun": "The sandbox's call log has no calls by the workloads: it is kept in memory, so "
        "a restart or a reset empties it. Start the sandbox with --enforce-iam and run the "
        "step's cells again.",
    },
)
def calls_observed(ctx):
    used = used_calls(ctx)
    if not any(used.values()):
        raise Fail("the call log holds no call by the training job, endpoint or function", "rerun")
    observed = workspace_json(ctx, "observed.json")
    problems, counts = [], []
    for workload in ROLES:
        entries = observed.get(workload)
        if not isinstance(entries, list) or not entries:
            problems.append(f"{workload}: no calls listed")
            continue
        pairs = {
            (str(e.get("action")), str(e.get("resource"))) for e in entries if isinstance(e, dict)
        }
        invented = sorted(pairs - used[workload])
        missing = sorted({a for a, _ in used[workload]} - {a for a, _ in pairs})
        if invented:
            problems.append(f"{workload}: {invented[0][0]} on {invented[0][1]} is not in the log")
        if missing:
            problems.append(f"{workload}: the log shows {', '.join(missing)}, which is not listed")
        counts.append(f"{workload} {len(pairs)}")
    if problems:
        raise Fail("observed.json: " + "; ".join(problems))
    return "observed.json matches the call log (" + ", ".join(counts) + " distinct calls)"


# -- scope-roles --------------------------------------------------------------------------------


@check(
    "scope-roles",
    points=2,
    hint="Create churn-training-role, churn-endpoint-role and churn-scoring-role "
    "(stack.replace_role) with a trust policy for the service that runs each workload.",
    hints={"trust": TRUST_HINT},
)
def roles_trust_their_service(ctx):
    seen = []
    for workload, role in ROLES.items():
        _, _, trust = role_documents(ctx, workload)
        services = trusted_services(trust)
        if services != {SERVICES[workload]}:
            shown = ", ".join(sorted(services)) or "no service"
            raise Fail(f"{role} trusts {shown}; it runs on {SERVICES[workload]}", hint="trust")
        seen.append(f"{role} ← {SERVICES[workload]}")
    return "; ".join(seen)


@check(
    "scope-roles",
    points=2,
    hint="Give each role one inline policy with specific actions on specific resource ARNs.",
    hints={"wildcard": WILDCARD_HINT, "admin": ADMIN_HINT},
)
def no_wildcards(ctx):
    for workload, role in ROLES.items():
        inline, attached, _ = role_documents(ctx, workload)
        if attached:
            raise Fail(f"{role} has managed policies attached: {', '.join(attached)}", "admin")
        if not inline:
            raise Fail(f"{role} has no inline policy")
        for name, document in inline:
            for statement in as_list(document.get("Statement", [])):
                if "NotAction" in statement or "NotResource" in statement:
                    raise Fail(f"{role}/{name} uses NotAction or NotResource", hint="wildcard")
        for name, action, resource in grants(inline):
            if "*" in action:
                raise Fail(f"{role}/{name} allows the action {action!r}", hint="wildcard")
            if "*" in resource and not (
                resource.startswith(f"{S3}/")
                and resource.endswith("/*")
                and resource.count("*") == 1
            ):
                raise Fail(f"{role}/{name} allows {action} on {resource!r}", hint="wildcard")
    return "every role names its actions and resources"


@check(
    "scope-roles",
    points=2,
    hint="Grant each role exactly the calls its workload made (observed.json): every call "
    "allowed, nothing else.",
    hints={
        "unused": "Remove what the workload never used: every action and resource in a role's "
        "policy must match a call in observed.json for that workload.",
        "missing": "A call the workload makes is not allowed by its role: add it (the action on "
        "the resource from observed.json, object keys as their prefix with /*).",
        "object-arn": OBJECT_ARN_HINT,
        "too-wide": "A wildcard reaches objects the workload never touched: end the ARN of "
        "the folder the workload used with /* (arn:aws:s3:::churn-lp-data/scores/*), not the "
        "bucket or a parent folder.",
    },
)
def exactly_what_is_used(ctx):
    used = used_calls(ctx)
    counts = []
    for workload, role in ROLES.items():
        inline, _, _ = role_documents(ctx, workload)
        calls = used[workload]
        for name, action, resource in grants(inline):
            hits = [r for a, r in calls if a == action and fnmatch.fnmatchcase(r, resource)]
            folders = {r.rsplit("/", 1)[0] + "/*" for r in hits}
            if hits and "*" in resource and resource not in folders:
                raise Fail(
                    f"{role}/{name} allows {action} on {resource}; the {workload} used only "
                    f"{', '.join(sorted(folders))}",
                    hint="too-wide",
                )
            if hits:
                continue
            if any(a == action and r.startswith(resource + "/") for a, r in calls):
                raise Fail(
                    f"{role}/{name} allows {action} on {resource}: no object has that ARN; "
                    f"the workload wrote {sorted(r for a, r in calls if a == action)[0]}",
                    hint="object-arn",
                )
            raise Fail(f"{role}/{name} allows {action} on {resource}, never used", hint="unused")
        for action, resource in sorted(calls):
            decision = simulate(ctx, workload, action, resource)
            if decision != "allowed":
                raise Fail(
                    f"{role}: {action} on {resource} (used by the {workload}) is {decision}",
                    hint="missing",
                )
        counts.append(f"{role}: {len(calls)} calls")
    return "each role allows exactly what its workload used (" + "; ".join(counts) + ")"


# -- prove-it -----------------------------------------------------------------------------------


def current_roles(ctx) -> list[str]:
    """What runs as which role now: the function, the endpoint's model, the latest training job."""
    wrong = []
    lam, sm = ctx.client("lambda"), ctx.client("sagemaker")
    try:
        role = lam.get_function_configuration(FunctionName=FUNCTION)["Role"]
    except lam.exceptions.ResourceNotFoundException:
        raise Fail(f"there is no function {FUNCTION}") from None
    if not role.endswith(f"/{ROLES['scoring']}"):
        wrong.append(f"{FUNCTION} runs as {role}")
    try:
        endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
    except sm.exceptions.ClientError:
        raise Fail(f"there is no endpoint {ENDPOINT}") from None
    if endpoint["EndpointStatus"] != "InService":
        wrong.append(f"{ENDPOINT} is {endpoint['EndpointStatus']}: {endpoint.get('FailureReason')}")
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    for variant in config["ProductionVariants"]:
        model = sm.describe_model(ModelName=variant["ModelName"])
        if not model["ExecutionRoleArn"].endswith(f"/{ROLES['endpoint']}"):
            wrong.append(
                f"{ENDPOINT} serves model {variant['ModelName']} as {model['ExecutionRoleArn']}"
            )
    jobs = sm.list_training_jobs(
        NameContains=TRAINING_JOB, SortBy="CreationTime", SortOrder="Descending"
    )["TrainingJobSummaries"]
    if not jobs:
        raise Fail("there is no training job")
    job = sm.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])
    if not job["RoleArn"].endswith(f"/{ROLES['training']}"):
        wrong.append(f"the latest training job {job['TrainingJobName']} ran as {job['RoleArn']}")
    elif job["TrainingJobStatus"] != "Completed":
        wrong.append(
            f"the latest training job {job['TrainingJobName']} is {job['TrainingJobStatus']}: "
            f"{job.get('FailureReason')}"
        )
    return wrong


def probe_customer(ctx) -> tuple[str, dict]:
    """A customer for the live proof: drawn from the course secret when grading."""
    rng = ctx.hidden.rng("customer") if ctx.hidden else None
    contract = rng.choice(["Monthly", "Annual", "Two-year"]) if rng else "Monthly"
    failed = rng.randint(0, 3) if rng else 1
    key_id = f"crosstrain-check-{secrets.token_hex(4)}"
    return key_id, {"contract_type": contract, "failed_payments_12m": failed}


@check(
    "prove-it",
    points=3,
    timeout=90,
    hint="Run the workloads again as their own roles: stack.run_all(2, stack.ROLES, customers) "
    "re-points the training job, the endpoint's model and the function at them.",
    hints={
        "denied": "A workload was denied a call it needs as its own role: read the call log "
        "(stack.call_log(allowed=False)) and add the action on its resource to that role.",
        "too-narrow": "The function could not score a new customer: a policy that lists the "
        "exact object keys seen so far breaks on the next one. Allow the key prefix with /*.",
    },
)
def every_role_works(ctx):
    wrong = current_roles(ctx)
    if wrong:
        raise Fail("; ".join(wrong))
    key_id, customer = probe_customer(ctx)
    lam, s3 = ctx.client("lambda"), ctx.client("s3")
    answer = lam.invoke(
        FunctionName=FUNCTION, Payload=json.dumps({"id": key_id, "customer": customer}).encode()
    )
    result = json.loads(answer["Payload"].read() or b"null")
    try:
        s3.delete_object(Bucket=BUCKET, Key=f"scores/{key_id}.json")
    except Exception as exc:  # noqa: BLE001 - nothing to clean up
        if error_code(exc) not in ("NoSuchKey", "404"):
            raise
    if answer.get("FunctionError"):
        message = str((result or {}).get("errorMessage", ""))[:300]
        hint = "too-narrow" if "PutObject" in message and "AccessDenied" in message else "denied"
        raise Fail(f"{FUNCTION} failed for a new customer: {message}", hint=hint)
    if not isinstance(result, dict) or "churn_probability" not in result:
        raise Fail(f"{FUNCTION} answered {result!r}, not a score")
    return (
        f"{FUNCTION}, {ENDPOINT} and the latest training job run as their roles; a new customer "
        f"scored {result['churn_probability']}"
    )


def forbidden_probes(ctx, workload: str) -> list[tuple[str, str]]:
    """Calls ``workload`` must be denied: the fixed list (a sample of it when grading) and, when
    grading, keys drawn from the course secret under the prefixes other workloads use."""
    probes = list(FORBIDDEN)
    if ctx.hidden:
        rng = ctx.hidden.rng(f"forbidden/{workload}")
        key = rng.randrange(10**6)
        probes = (
            rng.sample(probes, 4)
            + {
                "training": [("s3:GetObject", f"{S3}/scores/{key}.json")],
                "endpoint": [("s3:GetObject", f"{S3}/train/{key}.csv")],
                "scoring": [("s3:GetObject", f"{S3}/train/{key}.csv")],
            }[workload]
        )
        probes.append(("s3:PutObject", f"{S3}/config/{key}.json"))
    return probes


@check(
    "prove-it",
    points=2,
    hint="Write proof.json: for each role, the simulator's decision for every call its workload "
    "used (allowed) and for one call it must never make (implicitDeny), and the error of one "
    'forbidden call made for real ("live").',
    hints={
        "too-broad": "A role allows a call none of its workload's calls needs: the simulator "
        "does not deny it. Narrow that role's resources to what observed.json shows.",
        "proof": "Every decision in proof.json must be the simulator's answer for that role, "
        'action and resource, each role needs at least one denied case, and "live" must hold '
        "the AccessDenied of a real call.",
    },
)
def forbidden_is_denied(ctx):
    for workload in ROLES:
        for action, resource in forbidden_probes(ctx, workload):
            decision = simulate(ctx, workload, action, resource)
            if decision == "allowed":
                raise Fail(f"{ROLES[workload]} is allowed {action} on {resource}", "too-broad")
    proof = workspace_json(ctx, "proof.json", hint="proof")
    cases = [c for c in proof.get("simulations") or [] if isinstance(c, dict)]
    by_role = {role: [c for c in cases if c.get("role") == role] for role in ROLES.values()}
    for workload, role in ROLES.items():
        denied = [c for c in by_role[role] if c.get("decision") != "allowed"]
        if not by_role[role] or not denied:
            raise Fail(f"proof.json has no denied case for {role}", hint="proof")
        for case in by_role[role]:
            fresh = simulate(ctx, workload, str(case.get("action")), str(case.get("resource")))
            if fresh != case.get("decision"):
                raise Fail(
                    f"proof.json says {case.get('action')} on {case.get('resource')} is "
                    f"{case.get('decision')} for {role}; the simulator says {fresh}",
                    hint="proof",
                )
    live = proof.get("live") or {}
    if live.get("error") not in ("AccessDenied", "AccessDeniedException"):
        raise Fail(f"proof.json's live call ended with {live.get('error')!r}", hint="proof")
    return f"{len(cases)} simulated decisions confirmed; the live call was denied"
