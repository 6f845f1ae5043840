"""`crosstrain sandbox events` and `advance-time`: thin commands over the sandbox's delivery log
and clock."""

from __future__ import annotations

import json

from click.testing import CliRunner

from crosstrain.cli import main


def test_events_lists_a_delivery_and_advance_time_moves_the_clock(sandbox):
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    topic = sns.create_topic(Name="news")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="hello")
    sandbox.advance_time(0)  # let deliveries settle

    runner = CliRunner()
    listed = runner.invoke(main, ["sandbox", "events", "--port", str(sandbox.port), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert any("news" in row["source"] and "inbox" in row["target"] for row in rows), rows
    table = runner.invoke(main, ["sandbox", "events", "--port", str(sandbox.port)])
    assert table.exit_code == 0 and "delivered" in table.output, table.output

    before = sandbox.advance_time(0)["now"]
    moved = runner.invoke(main, ["sandbox", "advance-time", "3600", "--port", str(sandbox.port)])
    assert moved.exit_code == 0, moved.output
    assert "sandbox clock now" in moved.output and before not in moved.output
