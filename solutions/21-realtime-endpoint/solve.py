"""Solves for 21-realtime-endpoint: each moves the sandbox from "previous step done" to "done".

The helpers (``package``, ``deploy``, ``recreate_config``, ...) are shared with the
misconception cases, which deploy variants of the solution's ``code/inference.py``.
"""

import contextlib
import hashlib
import io
import json
import sys
import tarfile
import time
import types

from crosstrain.labs.catalog import load_module
from crosstrain.labs.solves import solve, teardown

BUCKET = "churn-endpoint-artifacts"
KEYS = {"v1": "models/churn/v1/model.tar.gz", "v2": "models/churn/v2/model.tar.gz"}
URIS = {version: f"s3://{BUCKET}/{key}" for version, key in KEYS.items()}
MODELS = {"v1": "churn-v1", "v2": "churn-v2"}
CONFIG_V1, CONFIG_CANARY = "churn-v1-config", "churn-canary-config"
ENDPOINT, ROLE = "churn-endpoint", "churn-endpoint-role"
CANARY_WEIGHTS = {"v1": 0.9, "v2": 0.1}
INSTANCE = "ml.m5.large"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
READ_MODELS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/models/*",
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/Endpoints/*",
        },
    ],
}


# -- the models ------------------------------------------------------------------------------


def model(ctx, version: str):
    """Model ``version`` trained by the solution's train.py, cached per process and per recipe:
    the checks train the same recipe (the lab's copy of train.py) under the same key."""
    source = ctx.solution_file("train.py")
    key = hashlib.sha256(source.read_bytes()).hexdigest()[:16] + version
    cache = sys.modules.setdefault("crosstrain_cache_21_models", types.ModuleType("cache"))
    objects = cache.__dict__.setdefault("objects", {})
    if key not in objects:
        recipe = load_module(source)
        if not hasattr(cache, "frame"):
            cache.frame = recipe.training_data()
        objects[key] = getattr(recipe, f"train_{version}")(cache.frame)
    return objects[key]


def trained(ctx, version: str) -> bytes:
    """Model ``version`` as joblib bytes."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model(ctx, version), buffer)
    return buffer.getvalue()


def inference_source(ctx) -> str:
    return ctx.solution_file("code/inference.py").read_text()


def replace(source: str, old: str, new: str) -> str:
    if old not in source:
        raise ValueError(f"the solution's inference.py no longer contains {old!r}; update solve.py")
    return source.replace(old, new)


def tgz(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def package(ctx, version: str, source: str | None = None, folder: str = "") -> None:
    """Upload model.tar.gz for ``version``: model.joblib and code/inference.py at its root."""
    s3 = ctx.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    files = {
        f"{folder}model.joblib": trained(ctx, version),
        f"{folder}code/inference.py": source if source is not None else inference_source(ctx),
    }
    s3.put_object(Bucket=BUCKET, Key=KEYS[version], Body=tgz(files))


# -- SageMaker -------------------------------------------------------------------------------


def role_arn(ctx) -> str:
    iam = ctx.client("iam")
    try:
        return iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(
            RoleName=ROLE, PolicyName="read-models", PolicyDocument=json.dumps(READ_MODELS)
        )
        return arn["Role"]["Arn"]


def recreate_model(ctx, version: str, environment: dict | None = None) -> None:
    sm = ctx.client("sagemaker")
    with contextlib.suppress(sm.exceptions.ClientError):
        sm.delete_model(ModelName=MODELS[version])
    container = {"Image": "sklearn", "ModelDataUrl": URIS[version]}
    if environment:
        container["Environment"] = environment
    sm.create_model(
        ModelName=MODELS[version], ExecutionRoleArn=role_arn(ctx), PrimaryContainer=container
    )


def recreate_config(ctx, name: str, weights: dict[str, float]) -> None:
    """An endpoint config with one variant per version (named like it), at ``weights``."""
    sm = ctx.client("sagemaker")
    with contextlib.suppress(sm.exceptions.ClientError):
        sm.delete_endpoint_config(EndpointConfigName=name)
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": version,
                "ModelName": MODELS[version],
                "InitialInstanceCount": 1,
                "InstanceType": INSTANCE,
                "InitialVariantWeight": weight,
            }
            for version, weight in weights.items()
        ],
    )


def wait(ctx, config: str | None = None, timeout: float = 180) -> dict:
    """Poll until the endpoint is InService (on ``config``); raise on Failed or a rollback."""
    sm = ctx.client("sagemaker")
    deadline = time.monotonic() + timeout
    while True:
        endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
        status = endpoint["EndpointStatus"]
        if status == "Failed":
            raise RuntimeError(f"{ENDPOINT} failed: {endpoint.get('FailureReason')}")
        if status == "InService":
            if config and endpoint["EndpointConfigName"] != config:
                raise RuntimeError(f"{ENDPOINT} did not switch: {endpoint.get('FailureReason')}")
            return endpoint
        if time.monotonic() > deadline:
            raise TimeoutError(f"{ENDPOINT} is still {status}")
        time.sleep(0.2)


def status(ctx) -> str | None:
    """The endpoint's status, or None when there is none."""
    sm = ctx.client("sagemaker")
    try:
        return sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    except sm.exceptions.ClientError:
        return None


def deploy(ctx, config: str) -> None:
    """Create the endpoint on ``config``, or update it (blue/green) if it exists; a Failed
    endpoint cannot be updated, so it is deleted first."""
    sm = ctx.client("sagemaker")
    if status(ctx) == "Failed":
        sm.delete_endpoint(EndpointName=ENDPOINT)
        while status(ctx) is not None:
            time.sleep(0.2)
    if status(ctx) is None:
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    else:
        wait(ctx)
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    wait(ctx, config)


# -- the steps -------------------------------------------------------------------------------


@solve("package-model", files=["code/inference.py"])
def package_model(ctx):
    ctx.write("code/inference.py", inference_source(ctx))
    package(ctx, "v1")


@solve("deploy-endpoint")
def deploy_endpoint(ctx):
    recreate_model(ctx, "v1")
    recreate_config(ctx, CONFIG_V1, {"v1": 1.0})
    deploy(ctx, CONFIG_V1)


@solve("canary-update")
def canary_update(ctx):
    package(ctx, "v2")
    recreate_model(ctx, "v2")
    recreate_config(ctx, CONFIG_CANARY, CANARY_WEIGHTS)
    deploy(ctx, CONFIG_CANARY)


@solve("shift-traffic")
def shift_traffic(ctx):
    ctx.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v1", "DesiredWeight": 0.0},
            {"VariantName": "v2", "DesiredWeight": 1.0},
        ],
    )
    wait(ctx)


@teardown
def remove_resources(ctx):
    """Delete the endpoint, its configs and models, the bucket, the role and the logs (and
    anything a check's probe left behind)."""
    sm, s3, iam, logs = (ctx.client(s) for s in ("sagemaker", "s3", "iam", "logs"))
    probes = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    for name in [ENDPOINT] + [p for p in probes if p.startswith("crosstrain-probe-")]:
        with contextlib.suppress(sm.exceptions.ClientError):
            sm.delete_endpoint(EndpointName=name)
    configs = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    for name in configs:
        if name in (CONFIG_V1, CONFIG_CANARY) or name.startswith("crosstrain-probe-"):
            sm.delete_endpoint_config(EndpointConfigName=name)
    for model in sm.list_models()["Models"]:
        name = model["ModelName"]
        if name in MODELS.values() or name.startswith("crosstrain-probe-"):
            sm.delete_model(ModelName=name)
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        if bucket == BUCKET or bucket.startswith("crosstrain-probe-"):
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
            iam.delete_role_policy(RoleName=ROLE, PolicyName=name)
        iam.delete_role(RoleName=ROLE)
    with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName=f"/aws/sagemaker/Endpoints/{ENDPOINT}")
