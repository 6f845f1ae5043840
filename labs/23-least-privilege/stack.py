"""The churn service's three workloads and how the team deploys them (given: read it, do not edit).

- the **training job** runs ``workloads/train.py``;
- the **endpoint** serves the model with ``workloads/inference.py``;
- the **scoring function** (Lambda) runs ``workloads/score.py``: it asks the endpoint and writes
  the answer to S3.

Today all three share one role, ``churn-ml-role``, that may do anything in S3 and SageMaker.
Every function here is safe to run again.
"""

import contextlib
import csv
import io
import json
import tarfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import boto3

ACCOUNT, REGION = "000000000000", "us-east-1"
BUCKET = "churn-lp-data"
SHARED_ROLE = "churn-ml-role"
FUNCTION, ENDPOINT = "churn-score", "churn-endpoint"
TRAINING_JOB = "churn-train"  # + "-1", "-2", ...: one name per run
# The three roles you create in step 2, and the service that assumes each.
ROLES = {
    "training": "churn-training-role",
    "endpoint": "churn-endpoint-role",
    "scoring": "churn-scoring-role",
}
SERVICES = {
    "training": "sagemaker.amazonaws.com",
    "endpoint": "sagemaker.amazonaws.com",
    "scoring": "lambda.amazonaws.com",
}
HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"
DATA = HERE / "data" / "customers.csv"

s3 = boto3.client("s3", region_name=REGION)
iam = boto3.client("iam", region_name=REGION)
sm = boto3.client("sagemaker", region_name=REGION)
lam = boto3.client("lambda", region_name=REGION)


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def endpoint_arn() -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"


def trust_for(*services: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def replace_role(name: str, trust: dict) -> str:
    """Create role ``name`` with the trust policy ``trust``, deleting one of that name first
    (with its policies); return its ARN."""
    try:
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def training_rows() -> list[dict]:
    """The learner's customers (``data/customers.csv``): id, contract type, failed payments,
    churned."""
    with DATA.open(newline="") as f:
        return list(csv.DictReader(f))


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def setup() -> list[dict]:
    """The bucket with the training table, the offer threshold and the code; the shared role.
    Returns three sample customers to score."""
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    rows = training_rows()
    s3.put_object(Bucket=BUCKET, Key="train/customers.csv", Body=DATA.read_bytes())
    s3.put_object(Bucket=BUCKET, Key="config/threshold.json", Body=b'{"threshold": 0.3}')
    for script in ("train.py", "inference.py"):
        source = (WORKLOADS / script).read_bytes()
        s3.put_object(Bucket=BUCKET, Key=f"code/{script}.tar.gz", Body=tar_gz({script: source}))
    replace_role(SHARED_ROLE, trust_for(SERVICES["training"], SERVICES["scoring"]))
    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sagemaker:*"], "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName=SHARED_ROLE, PolicyName="everything", PolicyDocument=json.dumps(broad)
    )
    return sample_customers(rows)


def sample_customers(rows: list[dict] | None = None) -> list[dict]:
    """Three customers to score, as the function receives them."""
    rows = rows if rows is not None else training_rows()
    return [
        {
            "contract_type": r["contract_type"],
            "failed_payments_12m": float(r["failed_payments_12m"]),
        }
        for r in rows[:3]
    ]


def train(run: int, role: str) -> str:
    """Run training job ``churn-train-<run>`` as ``role`` (a role name); return its model URL."""
    name = f"{TRAINING_JOB}-{run}"
    try:
        sm.describe_training_job(TrainingJobName=name)
        sm.delete_training_job(TrainingJobName=name)
    except sm.exceptions.ClientError:
        pass
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=role_arn(role),
        AlgorithmSpecification={"TrainingImage": "python", "TrainingInputMode": "File"},
        HyperParameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"s3://{BUCKET}/code/train.py.tar.gz",
        },
        Environment={"DATA_BUCKET": BUCKET},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    job = wait(lambda: sm.describe_training_job(TrainingJobName=name), "TrainingJobStatus")
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(
            f"training job {name} {job['TrainingJobStatus']}: {job.get('FailureReason')}"
        )
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def deploy_endpoint(run: int, role: str, model_url: str) -> None:
    """Serve ``model_url`` from the endpoint as ``role``: model and config ``churn-<run>``."""
    name = f"churn-{run}"
    for delete, key in (
        (sm.delete_endpoint_config, "EndpointConfigName"),
        (sm.delete_model, "ModelName"),
    ):
        with contextlib.suppress(sm.exceptions.ClientError):
            delete(**{key: name})
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=role_arn(role),
        PrimaryContainer={
            "Image": "python",
            "ModelDataUrl": model_url,
            "Environment": {
                "DATA_BUCKET": BUCKET,
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{BUCKET}/code/inference.py.tar.gz",
            },
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    existing = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    if ENDPOINT in existing:
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
    else:
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
    described = wait(lambda: sm.describe_endpoint(EndpointName=ENDPOINT), "EndpointStatus")
    if described["EndpointStatus"] != "InService" or described["EndpointConfigName"] != name:
        raise RuntimeError(f"endpoint {ENDPOINT}: {described.get('FailureReason')}")


def deploy_function(role: str) -> None:
    """Deploy (or re-point) the scoring function to run as ``role``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("score.py", (WORKLOADS / "score.py").read_text())
    settings = dict(
        Role=role_arn(role),
        Handler="score.handler",
        Environment={"Variables": {"DATA_BUCKET": BUCKET, "ENDPOINT_NAME": ENDPOINT}},
        Timeout=30,
    )
    try:
        lam.update_function_code(FunctionName=FUNCTION, ZipFile=buffer.getvalue())
        lam.update_function_configuration(FunctionName=FUNCTION, **settings)
    except lam.exceptions.ResourceNotFoundException:
        lam.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Code={"ZipFile": buffer.getvalue()},
            **settings,
        )


def score(customer_id: str, customer: dict) -> dict:
    """Invoke the scoring function for one customer; raise what it raised."""
    event = {"id": customer_id, "customer": customer}
    answer = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps(event).encode())
    result = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        raise RuntimeError(f"{FUNCTION} failed: {result.get('errorMessage')}")
    return result


def run_all(run: int, roles: dict[str, str], customers: list[dict]) -> list[dict]:
    """Train, deploy and score with ``roles`` (workload -> role name); return the scores."""
    model_url = train(run, roles["training"])
    deploy_endpoint(run, roles["endpoint"], model_url)
    deploy_function(roles["scoring"])
    return [score(f"run{run}-customer{i}", c) for i, c in enumerate(customers, 1)]


def call_log(**filters) -> list[dict]:
    """The sandbox's call log (every permission decision on a non-admin caller), oldest first.
    ``role=``, ``action=`` (substrings) and ``allowed=True/False`` filter it."""
    query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
    url = f"{iam.meta.endpoint_url}/_crosstrain/decisions?{query}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        found = json.load(answer)
    if not found["enforce_iam"]:
        print("warning: the sandbox does not enforce IAM; restart it with --enforce-iam")
    return found["calls"]


def workload_of(principal: str) -> str | None:
    """Which workload made a call, from the caller's session name (the job, endpoint or
    function name), e.g. ``arn:aws:sts::...:assumed-role/churn-ml-role/churn-score``."""
    session = principal.rsplit("/", 1)[-1]
    if session.startswith(TRAINING_JOB):
        return "training"
    return {ENDPOINT: "endpoint", FUNCTION: "scoring"}.get(session)


def wait(describe, key: str, timeout: float = 120.0) -> dict:
    """Poll ``describe()`` until ``key`` leaves its in-progress values."""
    deadline = time.monotonic() + timeout
    while True:
        found = describe()
        if found[key] not in ("InProgress", "Creating", "Updating", "Stopping"):
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"still {found[key]} after {timeout:g} s")
        time.sleep(0.5)
