"""Solves for 22-infrastructure-as-code: each moves the sandbox from "previous step done" to
"done". The stack is deployed from the solution's template.yaml, the code from its handler."""

import contextlib
import io
import json
import sys
import types
import zipfile

from crosstrain.labs.solves import solve, teardown

STACK, DEPLOY_BUCKET, CODE_KEY = "churn-serving", "churn-iac-deploy", "code/churn-scorer.zip"
MODEL_KEY, CHANGE_SET = "models/churn/v1/model.joblib", "raise-memory-1024"
SAMPLE_ROWS = [0, 1, 2]


def learner_frame():
    """The learner-seed training frame (cached per process)."""
    cache = sys.modules.setdefault("crosstrain_cache_22_solve", types.ModuleType("cache"))
    if not hasattr(cache, "frame"):
        from crosstrain import datasets

        cache.frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    return cache.frame


def train_model() -> bytes:
    """The churn model of lab 20, as joblib bytes (cached per process)."""
    cache = sys.modules.setdefault("crosstrain_cache_22_solve", types.ModuleType("cache"))
    if not hasattr(cache, "model"):
        import joblib
        from sklearn.compose import make_column_transformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        from crosstrain import datasets

        categorical = list(datasets.CATEGORICAL_FEATURES)
        numeric = list(datasets.NUMERIC_FEATURES)
        frame = learner_frame()
        model = make_pipeline(
            make_column_transformer(
                (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                (
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
            ),
            LogisticRegression(max_iter=1000),
        )
        model.fit(frame[categorical + numeric], frame["churned"])
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        cache.model = buffer.getvalue()
    return cache.model


def replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise ValueError(f"the solution no longer contains {old!r}; update solve.py")
    return text.replace(old, new)


def code_zip(source: str) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("handler.py", source)
    return archive.getvalue()


def upload_code(ctx, source: str) -> None:
    s3 = ctx.client("s3")
    if DEPLOY_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=DEPLOY_BUCKET)
    s3.put_bucket_versioning(Bucket=DEPLOY_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=DEPLOY_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_object(Bucket=DEPLOY_BUCKET, Key=CODE_KEY, Body=code_zip(source))


def parameters(memory: int = 512) -> list[dict]:
    return [
        {"ParameterKey": "CodeBucket", "ParameterValue": DEPLOY_BUCKET},
        {"ParameterKey": "MemorySize", "ParameterValue": str(memory)},
    ]


def delete_stack(ctx) -> None:
    cfn = ctx.client("cloudformation")
    stacks = cfn.list_stacks()["StackSummaries"]
    if any(s["StackName"] == STACK and s["StackStatus"] != "DELETE_COMPLETE" for s in stacks):
        for resource in cfn.describe_stack_resources(StackName=STACK)["StackResources"]:
            if resource["ResourceType"] == "AWS::S3::Bucket":
                empty_bucket(ctx, resource["PhysicalResourceId"])
        cfn.delete_stack(StackName=STACK)


def create_stack(ctx, template: str) -> None:
    """(Re)create the stack from ``template`` with the code in the deploy bucket."""
    delete_stack(ctx)
    ctx.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=template,
        Parameters=parameters(),
        Capabilities=["CAPABILITY_IAM"],
    )


def outputs(ctx) -> dict:
    stack = ctx.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def empty_bucket(ctx, bucket: str) -> None:
    s3 = ctx.client("s3")
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        versions = s3.list_object_versions(Bucket=bucket)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


@solve("package-code", files=["function/handler.py"])
def package_code(ctx):
    source = ctx.solution_file("function/handler.py").read_text()
    ctx.write("function/handler.py", source)
    upload_code(ctx, source)


@solve("deploy-stack", files=["template.yaml"])
def deploy_stack(ctx):
    template = ctx.solution_file("template.yaml").read_text()
    ctx.write("template.yaml", template)
    create_stack(ctx, template)


def score_sample(ctx) -> dict:
    columns = ["customer_id", *features()]
    sample = json.loads(learner_frame().iloc[SAMPLE_ROWS][columns].to_json(orient="records"))
    response = ctx.client("lambda").invoke(
        FunctionName=outputs(ctx)["FunctionName"],
        Payload=json.dumps({"customers": sample}).encode(),
    )
    return json.loads(response["Payload"].read())


def features() -> list[str]:
    from crosstrain import datasets

    return [*datasets.CATEGORICAL_FEATURES, *datasets.NUMERIC_FEATURES]


@solve("log-predictions")
def log_predictions(ctx):
    bucket = outputs(ctx)["ModelBucketName"]
    ctx.client("s3").put_object(Bucket=bucket, Key=MODEL_KEY, Body=train_model())
    score_sample(ctx)


@solve("change-set")
def change_set(ctx):
    cfn = ctx.client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    memory = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    if memory.get("MemorySize") == "1024" and any(
        c["ExecutionStatus"] == "EXECUTE_COMPLETE"
        for c in cfn.list_change_sets(StackName=STACK)["Summaries"]
    ):
        return  # done already: a change set repeating the parameters would fail, as on AWS
    if CHANGE_SET in [
        c["ChangeSetName"] for c in cfn.list_change_sets(StackName=STACK)["Summaries"]
    ]:
        cfn.delete_change_set(StackName=STACK, ChangeSetName=CHANGE_SET)
    cfn.create_change_set(
        StackName=STACK,
        ChangeSetName=CHANGE_SET,
        ChangeSetType="UPDATE",
        TemplateBody=ctx.solution_file("template.yaml").read_text(),
        Parameters=parameters(memory=1024),
        Capabilities=["CAPABILITY_IAM"],
    )
    cfn.get_waiter("change_set_create_complete").wait(StackName=STACK, ChangeSetName=CHANGE_SET)
    cfn.execute_change_set(StackName=STACK, ChangeSetName=CHANGE_SET)
    cfn.get_waiter("stack_update_complete").wait(StackName=STACK)


@teardown
def remove_resources(ctx):
    """Delete the stack (after emptying its bucket) and the deploy bucket."""
    delete_stack(ctx)
    s3 = ctx.client("s3")
    if DEPLOY_BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        empty_bucket(ctx, DEPLOY_BUCKET)
        s3.delete_bucket(Bucket=DEPLOY_BUCKET)
