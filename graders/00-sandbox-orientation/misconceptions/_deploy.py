"""Shared by the Lambda cases: deploy ``source`` as the function ``revenue`` (not a case)."""

import io
import json
import zipfile

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


def deploy(ctx, source: str, **settings) -> None:
    role = ctx.client("iam").create_role(
        RoleName="orientation-lambda", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("handler.py", source)
    config = dict(Runtime="python3.12", Handler="handler.handler", Timeout=10, MemorySize=128)
    ctx.client("lambda").create_function(
        FunctionName="revenue",
        Role=role["Role"]["Arn"],
        Code={"ZipFile": archive.getvalue()},
        **(config | settings),
    )
