"""Solves for 23-least-privilege: each moves the sandbox from "previous step done" to "done",
with the solution's own stack.py and the answers of its notebook."""

import json

from crosstrain.labs.catalog import load_module
from crosstrain.labs.solves import solve, teardown


def stack(ctx):
    """The solution's stack.py, its clients bound to this sandbox."""
    module = load_module(ctx.solution_file("stack.py"))
    for name, service in (("s3", "s3"), ("iam", "iam"), ("sm", "sagemaker"), ("lam", "lambda")):
        setattr(module, name, ctx.client(service))
    module.DATA = ctx.starter_file("data/customers.csv")  # the kit's copy, not the learner's
    return module


def observed_calls(st) -> dict:
    observed = {workload: [] for workload in st.ROLES}
    for call in st.call_log(allowed=True):
        workload = st.workload_of(call["principal"])
        entry = {"action": call["action"], "resource": call["resource"]}
        if workload and entry not in observed[workload]:
            observed[workload].append(entry)
    return observed


def trust(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def generalise(resource: str) -> str:
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        return resource.rsplit("/", 1)[0] + "/*"
    return resource


def least_privilege(calls: list[dict]) -> dict:
    grants: dict[str, set] = {}
    for call in calls:
        grants.setdefault(call["action"], set()).add(generalise(call["resource"]))
    statements = [
        {"Effect": "Allow", "Action": action, "Resource": sorted(resources)}
        for action, resources in sorted(grants.items())
    ]
    return {"Version": "2012-10-17", "Statement": statements}


@solve("observe-calls", files=["observed.json"])
def observe_calls(ctx):
    st = stack(ctx)
    customers = st.setup()
    st.run_all(1, {workload: st.SHARED_ROLE for workload in st.ROLES}, customers)
    ctx.write("observed.json", json.dumps(observed_calls(st), indent=2))


def scope(ctx, policies: dict | None = None, trusts: dict | None = None) -> None:
    """Create the three roles from observed.json (``policies``/``trusts`` override some)."""
    st = stack(ctx)
    observed = json.loads((ctx.workspace / "observed.json").read_text())
    iam = ctx.client("iam")
    for workload, role in st.ROLES.items():
        st.replace_role(role, (trusts or {}).get(workload) or trust(st.SERVICES[workload]))
        policy = (policies or {}).get(workload) or least_privilege(observed[workload])
        iam.put_role_policy(
            RoleName=role, PolicyName="least-privilege", PolicyDocument=json.dumps(policy)
        )


@solve("scope-roles")
def scope_roles(ctx):
    scope(ctx)


FORBIDDEN = {
    "training": ("sagemaker:InvokeEndpoint", "endpoint"),
    "endpoint": ("s3:PutObject", "config/threshold.json"),
    "scoring": ("s3:GetObject", "train/customers.csv"),
}


@solve("prove-it", files=["proof.json"])
def prove_it(ctx):
    st = stack(ctx)
    observed = json.loads((ctx.workspace / "observed.json").read_text())
    st.run_all(2, st.ROLES, st.sample_customers())
    iam = ctx.client("iam")
    proof = {"simulations": []}
    for workload, role in st.ROLES.items():
        action, where = FORBIDDEN[workload]
        resource = st.endpoint_arn() if where == "endpoint" else f"arn:aws:s3:::{st.BUCKET}/{where}"
        cases = [(c["action"], c["resource"], "allowed") for c in observed[workload]]
        for action_name, arn, expected in [*cases, (action, resource, "denied")]:
            answer = iam.simulate_principal_policy(
                PolicySourceArn=st.role_arn(role), ActionNames=[action_name], ResourceArns=[arn]
            )
            decision = answer["EvaluationResults"][0]["EvalDecision"]
            proof["simulations"].append(
                {
                    "role": role,
                    "action": action_name,
                    "resource": arn,
                    "decision": decision,
                    "expected": expected,
                }
            )
    keys = ctx.client("sts").assume_role(
        RoleArn=st.role_arn(st.ROLES["scoring"]), RoleSessionName="probe"
    )["Credentials"]
    import boto3

    as_scoring = boto3.client(
        "s3",
        endpoint_url=ctx.sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    try:
        as_scoring.get_object(Bucket=st.BUCKET, Key="train/customers.csv")
        error = None
    except as_scoring.exceptions.ClientError as exc:
        error = exc.response["Error"]["Code"]
    proof["live"] = {"role": st.ROLES["scoring"], "error": error}
    ctx.write("proof.json", json.dumps(proof, indent=2))


@teardown
def remove_resources(ctx):
    """Delete the function, the endpoint, models, configs, jobs, roles and the bucket."""
    st = stack(ctx)
    lam, sm, iam, s3 = st.lam, st.sm, st.iam, st.s3
    if st.FUNCTION in [f["FunctionName"] for f in lam.list_functions()["Functions"]]:
        lam.delete_function(FunctionName=st.FUNCTION)
    if st.ENDPOINT in [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]:
        sm.delete_endpoint(EndpointName=st.ENDPOINT)
    for config in sm.list_endpoint_configs()["EndpointConfigs"]:
        if config["EndpointConfigName"].startswith("churn-"):
            sm.delete_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    for model in sm.list_models()["Models"]:
        if model["ModelName"].startswith("churn-"):
            sm.delete_model(ModelName=model["ModelName"])
    for job in sm.list_training_jobs(NameContains=st.TRAINING_JOB)["TrainingJobSummaries"]:
        sm.delete_training_job(TrainingJobName=job["TrainingJobName"])
    for role in [st.SHARED_ROLE, *st.ROLES.values()]:
        try:
            for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role, PolicyName=policy)
            for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=role)
        except iam.exceptions.NoSuchEntityException:
            pass
    if st.BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=st.BUCKET):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=st.BUCKET, Key=item["Key"])
        s3.delete_bucket(Bucket=st.BUCKET)
