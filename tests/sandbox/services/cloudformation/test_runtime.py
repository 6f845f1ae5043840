"""CloudFormation in the sandbox never lies: the types labs need are created for real, any other
type fails the stack naming it, and TemplateURL is read from the sandbox's own S3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from crosstrain import sandbox as sandbox_api
from crosstrain.sandbox.services.cloudformation.runtime import s3_location
from crosstrain.sandbox.services.cloudformation.support import unsupported_types

ACCOUNT = {"Ref": "AWS::AccountId"}
QUEUE = {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "kept"}}}
FOO = {"Foo": {"Type": "AWS::Foo::Bar", "Properties": {}}}
UNSUPPORTED = "crosstrain sandbox does not support resource type AWS::Foo::Bar"


def template(resources: dict, outputs: dict | None = None) -> str:
    return json.dumps({"Resources": resources, **({"Outputs": outputs} if outputs else {})})


def create(cf, name: str, resources: dict, outputs: dict | None = None) -> dict:
    cf.create_stack(StackName=name, TemplateBody=template(resources, outputs))
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def glue_catalog() -> dict:
    return {
        "Db": {
            "Type": "AWS::Glue::Database",
            "Properties": {"CatalogId": ACCOUNT, "DatabaseInput": {"Name": "labdb"}},
        },
        "Events": {
            "Type": "AWS::Glue::Table",
            "Properties": {
                "CatalogId": ACCOUNT,
                "DatabaseName": {"Ref": "Db"},
                "TableInput": {
                    "Name": "events",
                    "TableType": "EXTERNAL_TABLE",
                    "StorageDescriptor": {
                        "Columns": [{"Name": "user_id", "Type": "string"}],
                        "Location": "s3://lake/events/",
                    },
                },
            },
        },
    }


def bucket_policy(bucket) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site-bucket/*",
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return {
        "SitePolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": bucket, "PolicyDocument": document},
        }
    }


def bucket_with_policy() -> dict:
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "site-bucket"}}
    return {"Site": bucket, **bucket_policy({"Ref": "Site"})}


def function_with_url() -> dict:
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": "fn-role", "AssumeRolePolicyDocument": assume},
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "hello",
                "Runtime": "python3.11",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return 'hi'\n"},
            },
        },
        "FnUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Ref": "Fn"}, "AuthType": "NONE"},
        },
    }


# -- the types crosstrain adds -------------------------------------------------------------------
def test_glue_database_is_created_in_the_catalog(sandbox):
    cf = sandbox.client("cloudformation")
    stack = create(cf, "catalog", glue_catalog(), {"Db": {"Value": {"Ref": "Db"}}})
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert sandbox.client("glue").get_database(Name="labdb")["Database"]["Name"] == "labdb"
    assert outputs(stack) == {"Db": "labdb"}


def test_glue_table_is_created_with_its_columns(sandbox):
    cf = sandbox.client("cloudformation")
    stack = create(cf, "catalog", glue_catalog(), {"Table": {"Value": {"Ref": "Events"}}})
    table = sandbox.client("glue").get_table(DatabaseName="labdb", Name="events")["Table"]
    assert table["StorageDescriptor"]["Columns"] == [{"Name": "user_id", "Type": "string"}]
    assert outputs(stack) == {"Table": "events"}


def test_bucket_policy_is_set_on_the_bucket(sandbox):
    cf = sandbox.client("cloudformation")
    stack = create(cf, "site", bucket_with_policy(), {"P": {"Value": {"Ref": "SitePolicy"}}})
    policy = json.loads(sandbox.client("s3").get_bucket_policy(Bucket="site-bucket")["Policy"])
    assert policy["Statement"][0]["Action"] == "s3:GetObject"
    assert outputs(stack) == {"P": "site-bucket"}


def test_lambda_url_is_created_for_the_function(sandbox):
    cf = sandbox.client("cloudformation")
    out = {
        "Url": {"Value": {"Fn::GetAtt": ["FnUrl", "FunctionUrl"]}},
        "Arn": {"Value": {"Ref": "FnUrl"}},
    }
    stack = create(cf, "fn", function_with_url(), out)
    config = sandbox.client("lambda").get_function_url_config(FunctionName="hello")
    assert config["AuthType"] == "NONE"
    assert outputs(stack) == {"Url": config["FunctionUrl"], "Arn": config["FunctionArn"]}


def test_deleting_the_stack_deletes_the_crosstrain_resources(sandbox):
    cf = sandbox.client("cloudformation")
    resources = {**glue_catalog(), **function_with_url(), **bucket_policy("site-bucket")}
    sandbox.client("s3").create_bucket(Bucket="site-bucket")  # outlives the stack
    create(cf, "all", resources)
    cf.delete_stack(StackName="all")
    assert sandbox.client("glue").get_databases()["DatabaseList"] == []
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        sandbox.client("s3").get_bucket_policy(Bucket="site-bucket")


def test_lambda_url_is_deleted_with_its_stack_when_the_function_stays(sandbox):
    cf = sandbox.client("cloudformation")
    create(cf, "fn", {k: v for k, v in function_with_url().items() if k != "FnUrl"})
    url_only = {"FnUrl": function_with_url()["FnUrl"]}
    url_only["FnUrl"]["Properties"]["TargetFunctionArn"] = "hello"
    create(cf, "url", url_only)
    cf.delete_stack(StackName="url")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sandbox.client("lambda").get_function_url_config(FunctionName="hello")


def test_cdk_metadata_is_accepted(sandbox):
    cf = sandbox.client("cloudformation")
    meta = {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2"}}}
    assert create(cf, "cdk", {**QUEUE, **meta})["StackStatus"] == "CREATE_COMPLETE"


def test_resources_a_stack_created_survive_a_restart(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        create(sb.client("cloudformation"), "catalog", glue_catalog())  # no Glue call before
        sb.flush()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert sb.client("glue").get_table(DatabaseName="labdb", Name="events")["Table"]


# -- any other type fails the stack ------------------------------------------------------------
def test_unsupported_type_fails_the_stack_naming_the_type(sandbox):
    cf = sandbox.client("cloudformation")
    stack = create(cf, "bad", {**QUEUE, **FOO})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert UNSUPPORTED in stack["StackStatusReason"]


def test_unsupported_type_is_reported_as_a_failed_resource_event(sandbox):
    cf = sandbox.client("cloudformation")
    create(cf, "bad", {**QUEUE, **FOO})
    events = cf.describe_stack_events(StackName="bad")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [(e["LogicalResourceId"], e["ResourceType"]) for e in failed] == [
        ("Foo", "AWS::Foo::Bar")
    ]
    assert failed[0]["ResourceStatusReason"] == UNSUPPORTED


def test_failed_create_leaves_no_resources(sandbox):
    cf = sandbox.client("cloudformation")
    create(cf, "bad", {**QUEUE, **FOO}, {"Q": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}})
    assert sandbox.client("sqs").list_queues().get("QueueUrls", []) == []
    assert cf.list_stack_resources(StackName="bad")["StackResourceSummaries"] == []


def test_failed_stack_can_be_deleted_and_created_again(sandbox):
    cf = sandbox.client("cloudformation")
    create(cf, "bad", {**QUEUE, **FOO})
    cf.delete_stack(StackName="bad")
    assert create(cf, "bad", QUEUE)["StackStatus"] == "CREATE_COMPLETE"


def test_unsupported_type_in_an_update_rolls_back_and_keeps_the_stack(sandbox):
    cf = sandbox.client("cloudformation")
    create(cf, "app", QUEUE)
    cf.update_stack(StackName="app", TemplateBody=template({**QUEUE, **FOO}))
    stack = cf.describe_stacks(StackName="app")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert UNSUPPORTED in stack["StackStatusReason"]
    assert cf.get_template(StackName="app")["TemplateBody"] == {"Resources": QUEUE}


@pytest.mark.parametrize("kind", ["CREATE", "UPDATE"])
def test_unsupported_type_fails_an_executed_change_set(sandbox, kind):
    cf = sandbox.client("cloudformation")
    if kind == "UPDATE":
        create(cf, "app", QUEUE)
    cf.create_change_set(
        StackName="app",
        ChangeSetName="cs",
        ChangeSetType=kind,
        TemplateBody=template({**QUEUE, **FOO}),
    )
    cf.execute_change_set(StackName="app", ChangeSetName="cs")
    stack = cf.describe_stacks(StackName="app")["Stacks"][0]
    expected = "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
    assert (stack["StackStatus"], UNSUPPORTED in stack["StackStatusReason"]) == (expected, True)


def test_failing_nested_stack_fails_its_parent(sandbox):
    sandbox.client("s3").create_bucket(Bucket="tpl")
    sandbox.client("s3").put_object(Bucket="tpl", Key="child.json", Body=template(FOO))
    cf = sandbox.client("cloudformation")
    child = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://tpl.s3.amazonaws.com/child.json"},
    }
    stack = create(cf, "parent", {**QUEUE, "Child": child})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert UNSUPPORTED in stack["StackStatusReason"]


def test_unsupported_types_lists_what_fails_and_not_what_works():
    listed = set(unsupported_types())
    assert "AWS::Foo::Bar" not in listed and "AWS::CloudWatch::Alarm" in listed
    assert not listed & {"AWS::S3::Bucket", "AWS::Glue::Table", "AWS::Lambda::Url"}


# -- TemplateURL -------------------------------------------------------------------------------
URL_FORMS = [
    "https://tpl.s3.amazonaws.com/stacks/queue.yaml",
    "https://tpl.s3.us-east-1.amazonaws.com/stacks/queue.yaml",
    "https://s3.amazonaws.com/tpl/stacks/queue.yaml",
    "https://s3.us-east-1.amazonaws.com/tpl/stacks/queue.yaml",
    "http://127.0.0.1:{port}/tpl/stacks/queue.yaml",
    "http://localhost:{port}/tpl/stacks/queue.yaml",
    "http://s3.localhost.localstack.cloud:4566/tpl/stacks/queue.yaml",
    "http://tpl.s3.localhost.localstack.cloud:4566/stacks/queue.yaml",
]
QUEUE_YAML = (
    "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: q\n"
)


@pytest.fixture
def template_in_s3(sandbox):
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="tpl")
    s3.put_object(Bucket="tpl", Key="stacks/queue.yaml", Body=QUEUE_YAML.encode())
    return sandbox


@pytest.mark.parametrize("form", URL_FORMS)
def test_create_stack_reads_template_url_from_sandbox_s3(template_in_s3, form):
    cf = template_in_s3.client("cloudformation")
    cf.create_stack(StackName="u", TemplateURL=form.format(port=template_in_s3.port))
    assert cf.describe_stacks(StackName="u")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert template_in_s3.client("sqs").get_queue_url(QueueName="q")["QueueUrl"]


def test_update_stack_reads_template_url(template_in_s3):
    cf = template_in_s3.client("cloudformation")
    create(cf, "u", QUEUE)
    cf.update_stack(StackName="u", TemplateURL=URL_FORMS[0])
    assert "QueueName: q" in cf.get_template(StackName="u")["TemplateBody"]


def test_create_change_set_reads_template_url(template_in_s3):
    cf = template_in_s3.client("cloudformation")
    cf.create_change_set(
        StackName="u",
        ChangeSetName="cs",
        ChangeSetType="CREATE",
        TemplateURL=URL_FORMS[4].format(port=template_in_s3.port),
    )
    changes = cf.describe_change_set(StackName="u", ChangeSetName="cs")["Changes"]
    assert [c["ResourceChange"]["LogicalResourceId"] for c in changes] == ["Queue"]


def test_validate_template_reads_template_url(template_in_s3):
    cf = template_in_s3.client("cloudformation")
    assert "Parameters" in cf.validate_template(TemplateURL=URL_FORMS[6])


def test_get_template_summary_reads_template_url(template_in_s3):
    cf = template_in_s3.client("cloudformation")
    summary = cf.get_template_summary(TemplateURL=URL_FORMS[7])
    assert summary["ResourceTypes"] == ["AWS::SQS::Queue"]


def test_missing_template_object_names_bucket_and_key(template_in_s3):
    cf = template_in_s3.client("cloudformation")
    with pytest.raises(ClientError) as error:
        cf.create_stack(StackName="u", TemplateURL="https://tpl.s3.amazonaws.com/nope.yaml")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "bucket 'tpl' has no key 'nope.yaml'" in error.value.response["Error"]["Message"]


def test_missing_template_bucket_is_named(sandbox):
    cf = sandbox.client("cloudformation")
    with pytest.raises(ClientError, match="there is no bucket 'absent'"):
        cf.validate_template(TemplateURL="https://s3.amazonaws.com/absent/t.yaml")


def test_template_url_off_s3_is_refused_without_network(sandbox):
    cf = sandbox.client("cloudformation")
    with pytest.raises(ClientError, match="is not an S3 object URL"):
        cf.create_stack(StackName="u", TemplateURL="https://example.com/t.yaml")


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (
            "https://my.dotted.bucket.s3.eu-west-1.amazonaws.com/a/b.yaml",
            ("my.dotted.bucket", "a/b.yaml", None),
        ),
        ("https://s3-us-west-2.amazonaws.com/b/k%20x.json", ("b", "k x.json", None)),
        ("http://b.localhost:4566/k.json?versionId=v1", ("b", "k.json", "v1")),
    ],
)
def test_s3_location_parses_url_styles(url, location):
    assert s3_location(url) == location
