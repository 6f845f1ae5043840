"""The scoring function (given; do not edit): ask the endpoint about one customer and write the
answer where the retention team reads it, ``s3://<bucket>/scores/<id>.json``."""

import json
import os

import boto3

runtime = boto3.client("sagemaker-runtime")
s3 = boto3.client("s3")


def handler(event, context):
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/json",
        Body=json.dumps(event["customer"]),
    )
    score = json.loads(answer["Body"].read())
    key = f"scores/{event['id']}.json"
    s3.put_object(Bucket=os.environ["DATA_BUCKET"], Key=key, Body=json.dumps(score).encode())
    return {"id": event["id"], "key": key, **score}
