"""Record an upload in the bucket and queue a job for it."""

import json
import os

import boto3


def main(event, context):
    key = f"uploads/{event['name']}"
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=event["body"])
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps({"key": key})
    )
    return {"stored": key, "queued": True}
