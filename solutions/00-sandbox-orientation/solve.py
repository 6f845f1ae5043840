"""Solves for 00-sandbox-orientation: each moves the sandbox from "previous step done" to "done"."""

import contextlib
import csv
import io
import json
import zipfile

from crosstrain.labs.solves import solve, teardown

BUCKET, KEY, TABLE, FUNCTION, ROLE = (
    "orientation-data",
    "raw/customers.csv",
    "customers",
    "revenue",
    "orientation-lambda",
)
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


@solve("store-dataset")
def store_dataset(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=ctx.starter_file("data/customers.csv").read_bytes())


@solve("dynamodb-item")
def dynamodb_item(ctx):
    ddb = ctx.client("dynamodb")
    if TABLE not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with ctx.starter_file("data/customers.csv").open(newline="") as fh:
        first = next(csv.DictReader(fh))
    ddb.put_item(
        TableName=TABLE,
        Item={
            "customer_id": {"S": first["customer_id"]},
            "plan": {"S": first["plan"]},
            "monthly_fee": {"N": first["monthly_fee"]},
        },
    )


@solve("deploy-function", files=["function/handler.py"])
def deploy_function(ctx):
    source = ctx.solution_file("function/handler.py").read_text()
    ctx.write("function/handler.py", source)
    iam, lam = ctx.client("iam"), ctx.client("lambda")
    try:
        role_arn = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
        role_arn = role["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("handler.py", source)
    settings = dict(Runtime="python3.12", Handler="handler.handler", Timeout=10, MemorySize=128)
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=FUNCTION)
    lam.create_function(
        FunctionName=FUNCTION, Role=role_arn, Code={"ZipFile": archive.getvalue()}, **settings
    )


@teardown
def remove_resources(ctx):
    """Delete the bucket (every version), the table, the function and its role."""
    s3, ddb, lam, iam = (ctx.client(s) for s in ("s3", "dynamodb", "lambda", "iam"))
    if BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        versions = s3.list_object_versions(Bucket=BUCKET)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=BUCKET)
    if TABLE in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=TABLE)
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=FUNCTION)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=ROLE)
