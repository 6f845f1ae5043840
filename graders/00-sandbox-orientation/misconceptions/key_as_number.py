"""The table's key declared as a number (N) because the ids look numeric-ish."""

STEP = "dynamodb-item"
HINT = "key"


def apply(ctx):
    ctx.client("dynamodb").create_table(
        TableName="customers",
        KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
