"""SNS subscriptions deliver to Lambda, SQS (raw and enveloped) and HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from events_support import allow, deliveries, deploy, drain, log_text, queue, settled


def topic(sandbox, name="alerts") -> str:
    return sandbox.client("sns").create_topic(Name=name)["TopicArn"]


def test_lambda_subscriber_gets_the_sns_event(sandbox):
    arn = topic(sandbox)
    fn = deploy(
        sandbox, "sns-fn", "import json\ndef handler(e, c):\n    print('EV', json.dumps(e))\n"
    )
    allow(sandbox, "sns-fn", "sns.amazonaws.com")
    sns = sandbox.client("sns")
    sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn)
    sns.publish(TopicArn=arn, Message="hello", Subject="greeting")
    deliveries(sandbox, settled, target="sns-fn")
    line = next(x for x in log_text(sandbox, "sns-fn").splitlines() if "EV " in x)
    (record,) = json.loads(line.split("EV ", 1)[1])["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Message"] == "hello" and record["Sns"]["Subject"] == "greeting"
    assert record["Sns"]["TopicArn"] == arn


def test_lambda_without_permission_fails_at_delivery(sandbox):
    arn = topic(sandbox)
    fn = deploy(sandbox, "sns-denied", "def handler(e, c):\n    return 1\n")
    sns = sandbox.client("sns")
    sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn)
    sns.publish(TopicArn=arn, Message="hello")
    (entry,) = deliveries(sandbox, settled, target="sns-denied")
    assert entry["result"] == "failed" and "AccessDeniedException" in entry["error"]


def test_sqs_enveloped_and_raw(sandbox):
    arn = topic(sandbox)
    sns = sandbox.client("sns")
    env_url, env_arn = queue(sandbox, "enveloped")
    raw_url, raw_arn = queue(sandbox, "raw")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=env_arn)
    sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"}
    )
    sns.publish(TopicArn=arn, Message="payload")
    (enveloped,) = drain(sandbox, env_url, 1)
    assert json.loads(enveloped["Body"])["Message"] == "payload"
    (raw,) = drain(sandbox, raw_url, 1)
    assert raw["Body"] == "payload"
    assert len(sandbox.events(source="alerts")) == 2


def test_filter_policy_is_honoured(sandbox):
    arn = topic(sandbox)
    sns = sandbox.client("sns")
    url, qarn = queue(sandbox, "only-big")
    policy = {"amount": [{"numeric": [">=", 100]}], "kind": ["order"]}
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=qarn,
        Attributes={"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "true"},
    )
    for amount, kind in ((50, "order"), (150, "order"), (500, "refund")):
        sns.publish(
            TopicArn=arn,
            Message=f"{kind}-{amount}",
            MessageAttributes={
                "amount": {"DataType": "Number", "StringValue": str(amount)},
                "kind": {"DataType": "String", "StringValue": kind},
            },
        )
    (message,) = drain(sandbox, url, 1)
    assert message["Body"] == "order-150"
    filtered = [e for e in sandbox.events(source="alerts") if e["detail"].get("filtered")]
    assert len(filtered) == 2


def test_http_subscriber_on_loopback(sandbox):
    received: list[dict] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"type": self.headers["x-amz-sns-message-type"], "body": body})
            self.send_response(200)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        arn = topic(sandbox)
        sns = sandbox.client("sns")
        endpoint = f"http://127.0.0.1:{server.server_port}/hook"
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
        sns.publish(TopicArn=arn, Message="ping")
        assert arrived.wait(10)
    finally:
        server.shutdown()
    assert received[0]["type"] == "Notification"
    assert json.loads(received[0]["body"])["Message"] == "ping"
    (entry,) = deliveries(sandbox, settled, target="/hook")
    assert entry["result"] == "delivered"


def test_http_outside_this_machine_is_refused_at_delivery(sandbox):
    arn = topic(sandbox)
    sns = sandbox.client("sns")
    sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="https://example.com/hook")
    sns.publish(TopicArn=arn, Message="ping")
    (entry,) = deliveries(sandbox, settled, target="example.com")
    assert entry["result"] == "failed" and "127.0.0.1" in entry["error"]
