"""State survives stop/start and a crash; reset clears it; a corrupt file is moved aside."""

from __future__ import annotations

import io
import json
import os
import signal
import time
import zipfile

import pytest
from support import lambda_role

from crosstrain import sandbox as sandbox_api

BINARY = bytes(range(256)) * 64


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def populate(sb) -> None:
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="persist-bucket")
    s3.put_object(Bucket="persist-bucket", Key="data/blob.bin", Body=BINARY)
    upload = s3.create_multipart_upload(Bucket="persist-bucket", Key="big.bin")
    part = s3.upload_part(
        Bucket="persist-bucket",
        Key="big.bin",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"m" * (5 * 1024 * 1024),
    )
    s3.complete_multipart_upload(
        Bucket="persist-bucket",
        Key="big.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    ddb = sb.client("dynamodb")
    ddb.create_table(
        TableName="persist-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="persist-table", Item={"pk": {"S": "u1"}, "score": {"N": "0.75"}})
    iam = sb.client("iam")
    role_arn = lambda_role(sb, "persist-role")
    iam.put_role_policy(
        RoleName="persist-role",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName="persist-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    sb.client("lambda").create_function(
        FunctionName="persist-fn",
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": _lambda_zip()},
    )


def assert_populated(sb) -> None:
    s3 = sb.client("s3")
    assert s3.get_object(Bucket="persist-bucket", Key="data/blob.bin")["Body"].read() == BINARY
    big = s3.get_object(Bucket="persist-bucket", Key="big.bin")["Body"].read()
    assert big == b"m" * (5 * 1024 * 1024)
    item = sb.client("dynamodb").get_item(TableName="persist-table", Key={"pk": {"S": "u1"}})
    assert item["Item"]["score"] == {"N": "0.75"}
    iam = sb.client("iam")
    assert iam.get_role(RoleName="persist-role")["Role"]["RoleName"] == "persist-role"
    assert iam.list_role_policies(RoleName="persist-role")["PolicyNames"] == ["read"]
    sqs = sb.client("sqs")
    url = sqs.get_queue_url(QueueName="persist-queue")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert messages[0]["Body"] == "hello"
    fn = sb.client("lambda").get_function(FunctionName="persist-fn")
    assert fn["Configuration"]["Handler"] == "app.handler"
    code = sb.client("lambda").get_function(FunctionName="persist-fn")["Configuration"]
    assert code["CodeSize"] == len(_lambda_zip())


def wait_persisted(sb, timeout: float = 10.0) -> None:
    """Wait until the state writer has nothing pending (readiness awaited, not slept for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = sb.health()["state"]
        if not state["pending"] and state["generation"] > 0:
            return
        time.sleep(0.05)
    raise AssertionError("state was not written in time")


def test_state_survives_stop_and_start(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        populate(sb)
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert_populated(sb)


def test_state_survives_a_crash(tmp_path):
    sb = sandbox_api.start(state_dir=tmp_path)
    try:
        populate(sb)
        wait_persisted(sb)
        os.kill(sb.pid, signal.SIGKILL)
        sb.process.wait(timeout=10)
    finally:
        sb.stop()
    with sandbox_api.start(state_dir=tmp_path) as again:
        assert_populated(again)


def test_ephemeral_keeps_nothing():
    with sandbox_api.start() as sb:
        sb.client("s3").create_bucket(Bucket="gone-bucket")
        assert sb.health()["state"] == {"persistent": False}
    with sandbox_api.start() as sb:
        assert sb.client("s3").list_buckets()["Buckets"] == []


def test_reset_clears_state_on_disk(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        populate(sb)
        wait_persisted(sb)
        result = sb.reset()
        assert result["reset"] is True
        assert sb.client("s3").list_buckets()["Buckets"] == []
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert sb.client("s3").list_buckets()["Buckets"] == []
        assert sb.client("dynamodb").list_tables()["TableNames"] == []


@pytest.mark.parametrize("garbage", [b"not a pickle", b""])
def test_corrupt_state_file_is_moved_aside(tmp_path, garbage):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.client("s3").create_bucket(Bucket="kept-bucket")
        sb.client("sqs").create_queue(QueueName="kept-queue")
    (tmp_path / "moto" / "s3.pkl").write_bytes(garbage)
    with sandbox_api.start(state_dir=tmp_path) as sb:
        notices = sb.health()["notices"]
        assert sb.client("s3").list_buckets()["Buckets"] == []
        assert sb.client("sqs").list_queues()["QueueUrls"]  # other services restored
    assert len(notices) == 1 and "s3.pkl" in notices[0] and "moved it to" in notices[0]
    moved = list((tmp_path / "corrupt").iterdir())
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
