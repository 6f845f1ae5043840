"""Representative calls for every service the sandbox emulates or serves, in plain boto3.

Run by ``tests/sandbox/test_sdk_drift.py`` with the newest and with the oldest botocore the
project supports, as ``python scenarios.py ENDPOINT``; prints one JSON object: the botocore
version, the wire protocol each service spoke, and per service ``"ok"`` or the error seen.
It imports nothing from crosstrain, so it runs in a venv that has only boto3.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile

import boto3
import botocore
from botocore.config import Config

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py", "def handler(event, context):\n    return {'twice': event['n'] * 2}\n"
        )
    return buffer.getvalue()


def s3(c):
    c.create_bucket(Bucket="drift")
    c.put_object(Bucket="drift", Key="a/b.txt", Body=b"hello")
    assert c.get_object(Bucket="drift", Key="a/b.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in c.list_objects_v2(Bucket="drift")["Contents"]] == ["a/b.txt"]


def iam(c):
    c.create_role(RoleName="drift-role", AssumeRolePolicyDocument=TRUST)
    assert c.get_role(RoleName="drift-role")["Role"]["RoleName"] == "drift-role"


def sts(c):
    assert c.get_caller_identity()["Account"].isdigit()


def dynamodb(c):
    c.create_table(
        TableName="drift",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    c.put_item(TableName="drift", Item={"pk": {"S": "u1"}, "v": {"N": "3"}})
    assert c.get_item(TableName="drift", Key={"pk": {"S": "u1"}})["Item"]["v"] == {"N": "3"}


def sqs(c):
    url = c.create_queue(QueueName="drift")["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="m1")
    assert c.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m1"


def sns(c):
    arn = c.create_topic(Name="drift")["TopicArn"]
    assert c.publish(TopicArn=arn, Message="hi")["MessageId"]


def kinesis(c):
    c.create_stream(StreamName="drift", ShardCount=1)
    assert (
        c.describe_stream_summary(StreamName="drift")["StreamDescriptionSummary"]["OpenShardCount"]
        == 1
    )


def firehose(c):
    assert "DeliveryStreamNames" in c.list_delivery_streams()


def events(c):
    c.put_rule(Name="drift", EventPattern=json.dumps({"source": ["drift"]}))
    assert [r["Name"] for r in c.list_rules()["Rules"]] == ["drift"]
    assert (
        c.put_events(Entries=[{"Source": "drift", "DetailType": "t", "Detail": "{}"}])[
            "FailedEntryCount"
        ]
        == 0
    )


def secretsmanager(c):
    c.create_secret(Name="drift", SecretString="s3cret")
    assert c.get_secret_value(SecretId="drift")["SecretString"] == "s3cret"


def ssm(c):
    c.put_parameter(Name="/drift/p", Value="v", Type="String")
    assert c.get_parameter(Name="/drift/p")["Parameter"]["Value"] == "v"


def kms(c):
    key = c.create_key()["KeyMetadata"]["KeyId"]
    blob = c.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert c.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def logs(c):
    c.create_log_group(logGroupName="/drift")
    assert any(g["logGroupName"] == "/drift" for g in c.describe_log_groups()["logGroups"])


def cloudwatch(c):
    c.put_metric_data(Namespace="Drift", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert [m["MetricName"] for m in c.list_metrics(Namespace="Drift")["Metrics"]] == ["m"]


def awslambda(c, clients):
    role = clients("iam").get_role(RoleName="drift-role")["Role"]["Arn"]
    c.create_function(
        FunctionName="drift",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": handler_zip()},
    )
    answer = c.invoke(FunctionName="drift", Payload=json.dumps({"n": 21}))
    assert json.loads(answer["Payload"].read()) == {"twice": 42}, answer


def apigateway(c):
    api = c.create_rest_api(name="drift")["id"]
    assert any(a["id"] == api for a in c.get_rest_apis()["items"])


def apigatewayv2(c):
    api = c.create_api(Name="drift", ProtocolType="HTTP")["ApiId"]
    assert any(a["ApiId"] == api for a in c.get_apis()["Items"])


def sagemaker(c):
    assert c.list_endpoints()["Endpoints"] == []
    assert c.list_training_jobs()["TrainingJobSummaries"] == []


def athena(c):
    query = c.start_query_execution(
        QueryString="SELECT 6 * 7 AS answer",
        ResultConfiguration={"OutputLocation": "s3://drift/athena/"},
    )["QueryExecutionId"]
    for _ in range(400):
        state = c.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]["State"]
        if state not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.025)
    assert state == "SUCCEEDED", state
    rows = c.get_query_results(QueryExecutionId=query)["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "42", rows
    assert query in c.list_query_executions()["QueryExecutionIds"]
    assert [g["Name"] for g in c.list_work_groups()["WorkGroups"]] == ["primary"]
    named = c.create_named_query(Name="n", Database="default", QueryString="SELECT 1")
    assert c.list_named_queries()["NamedQueryIds"] == [named["NamedQueryId"]]
    try:
        c.get_query_execution(QueryExecutionId="no-such-query")
    except botocore.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidRequestException", exc.response
    else:
        raise AssertionError("an unknown query id was accepted")


def glue(c):
    c.create_database(DatabaseInput={"Name": "drift"})
    assert "drift" in [d["Name"] for d in c.get_databases()["DatabaseList"]]


def stepfunctions(c, clients):
    role = clients("iam").get_role(RoleName="drift-role")["Role"]["Arn"]
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    c.create_state_machine(name="drift", definition=definition, roleArn=role)
    assert [m["name"] for m in c.list_state_machines()["stateMachines"]] == ["drift"]


def cloudformation(c):
    template = json.dumps(
        {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "drift-cfn"}}}}
    )
    c.create_stack(StackName="drift", TemplateBody=template)
    assert c.describe_stacks(StackName="drift")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def ecr(c):
    c.create_repository(repositoryName="drift")
    assert [r["repositoryName"] for r in c.describe_repositories()["repositories"]] == ["drift"]


ORDER = [
    ("s3", s3), ("iam", iam), ("sts", sts), ("dynamodb", dynamodb), ("sqs", sqs), ("sns", sns),
    ("kinesis", kinesis), ("firehose", firehose), ("events", events),
    ("secretsmanager", secretsmanager), ("ssm", ssm), ("kms", kms), ("logs", logs),
    ("cloudwatch", cloudwatch), ("lambda", awslambda), ("apigateway", apigateway),
    ("apigatewayv2", apigatewayv2), ("sagemaker", sagemaker), ("athena", athena), ("glue", glue),
    ("stepfunctions", stepfunctions), ("cloudformation", cloudformation), ("ecr", ecr),
]  # fmt: skip


def main(endpoint: str) -> dict:
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    config = Config(retries={"max_attempts": 1}, read_timeout=60)

    def clients(name):
        return session.client(name, endpoint_url=endpoint, config=config)

    report = {"botocore": botocore.__version__, "protocols": {}, "results": {}}
    for service, scenario in ORDER:
        client = clients(service)
        report["protocols"][service] = client.meta.service_model.protocol
        try:
            if scenario.__code__.co_argcount == 2:
                scenario(client, clients)
            else:
                scenario(client)
            report["results"][service] = "ok"
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the run
            report["results"][service] = f"{type(exc).__name__}: {exc}"
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
