"""Solves for 20-serverless-inference: each moves the sandbox from "previous step done" to "done".

The handler grows step by step as the lab does: predictions first, then input validation, then
one JSON log line per request. ``handler_source`` derives those stages from the solution.
"""

import contextlib
import io
import json
import sys
import types
import zipfile

from crosstrain.labs.solves import solve, teardown

BUCKET = "churn-serving-artifacts"
MODEL_KEY = "models/churn/v1/model.joblib"
CODE_KEY = "code/churn-predict.zip"
FUNCTION, ROLE, API = "churn-predict", "churn-predict-role", "churn-api"
MODEL_URI = f"s3://{BUCKET}/{MODEL_KEY}"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def policy(role_arn: str) -> dict:
    """Write the function's own logs and read this one model object: nothing more."""
    account = role_arn.split(":")[4]
    logs = f"arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/{FUNCTION}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [logs, f"{logs}:*"],
            },
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/{MODEL_KEY}",
            },
        ],
    }


NAIVE_PARSE = 'customers = json.loads(event["body"])["customers"]'
LOG_LINE = "    print(json.dumps(record))\n"
SETTINGS = dict(Runtime="python3.12", Handler="handler.handler", MemorySize=1024, Timeout=30)


def train_model() -> bytes:
    """The lab's model, as joblib bytes (cached per process: the self-test trains it once)."""
    cache = sys.modules.setdefault("crosstrain_cache_20_serverless", types.ModuleType("cache"))
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
        frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
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


def replace(source: str, old: str, new: str) -> str:
    if old not in source:
        raise ValueError(f"the solution handler no longer contains {old!r}; update solve.py")
    return source.replace(old, new)


def handler_source(ctx, validation: bool = True, logging: bool = True) -> str:
    """The solution handler, optionally without input validation or its JSON log line."""
    source = ctx.solution_file("function/handler.py").read_text()
    if not validation:
        source = replace(source, "customers = parse(event)", NAIVE_PARSE)
    if not logging:
        source = replace(source, LOG_LINE, "")
    return source


def code_zip(source: str, folder: str = "") -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}handler.py", source)
    return archive.getvalue()


def ensure_bucket(s3) -> None:
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def upload_code(ctx, source: str, write: bool = True) -> None:
    """Write the handler to the workspace (unless ``write`` is false); zip it to CODE_KEY."""
    if write:
        ctx.write("function/handler.py", source)
    ctx.client("s3").put_object(Bucket=BUCKET, Key=CODE_KEY, Body=code_zip(source))


def redeploy(ctx, source: str, write: bool = True) -> None:
    """Upload a new version of the code and point the function at it."""
    upload_code(ctx, source, write)
    lam = ctx.client("lambda")
    lam.update_function_code(FunctionName=FUNCTION, S3Bucket=BUCKET, S3Key=CODE_KEY)
    lam.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION)


def deploy(ctx, **overrides) -> None:
    """(Re)create the role and the function from the code zip in S3."""
    iam, lam = ctx.client("iam"), ctx.client("lambda")
    try:
        role_arn = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]
        iam.put_role_policy(
            RoleName=ROLE, PolicyName="serve-model", PolicyDocument=json.dumps(policy(role_arn))
        )
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=FUNCTION)
    lam.create_function(
        FunctionName=FUNCTION,
        Role=role_arn,
        Code={"S3Bucket": BUCKET, "S3Key": CODE_KEY},
        Environment={"Variables": {"MODEL_URI": MODEL_URI}},
        **(SETTINGS | overrides),
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=FUNCTION)


@solve("package-artifacts", files=["function/handler.py"])
def package_artifacts(ctx):
    s3 = ctx.client("s3")
    ensure_bucket(s3)
    s3.put_object(Bucket=BUCKET, Key=MODEL_KEY, Body=train_model())
    upload_code(ctx, handler_source(ctx, validation=False, logging=False))


@solve("deploy-function")
def deploy_function(ctx):
    deploy(ctx)


def create_api(ctx) -> str:
    """An HTTP API with POST /predict proxied to the function, on the $default stage."""
    gw, lam = ctx.client("apigatewayv2"), ctx.client("lambda")
    for api in gw.get_apis()["Items"]:
        if api["Name"] == API:
            gw.delete_api(ApiId=api["ApiId"])
    function_arn = lam.get_function_configuration(FunctionName=FUNCTION)["FunctionArn"]
    api_id = gw.create_api(Name=API, ProtocolType="HTTP")["ApiId"]
    region, account = function_arn.split(":")[3:5]
    integration = gw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=function_arn,
        PayloadFormatVersion="2.0",
    )
    gw.create_route(
        ApiId=api_id,
        RouteKey="POST /predict",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    with contextlib.suppress(lam.exceptions.ResourceConflictException):
        lam.add_permission(
            FunctionName=FUNCTION,
            StatementId="churn-api-invoke",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}/*/*/predict",
        )
    return api_id


@solve("http-api")
def http_api(ctx):
    create_api(ctx)


@solve("validate-input", files=["function/handler.py"])
def validate_input(ctx):
    redeploy(ctx, handler_source(ctx, logging=False))


@solve("structured-logs", files=["function/handler.py"])
def structured_logs(ctx):
    redeploy(ctx, handler_source(ctx))


@teardown
def remove_resources(ctx):
    """Delete the API, the function, its role and the bucket (every version)."""
    s3, lam, iam, gw = (ctx.client(s) for s in ("s3", "lambda", "iam", "apigatewayv2"))
    for api in gw.get_apis()["Items"]:
        if api["Name"] == API:
            gw.delete_api(ApiId=api["ApiId"])
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=FUNCTION)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        for attached in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=ROLE, PolicyArn=attached["PolicyArn"])
        for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
            iam.delete_role_policy(RoleName=ROLE, PolicyName=name)
        iam.delete_role(RoleName=ROLE)
    if BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        versions = s3.list_object_versions(Bucket=BUCKET)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=BUCKET)
    with contextlib.suppress(ctx.client("logs").exceptions.ResourceNotFoundException):
        ctx.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{FUNCTION}")
