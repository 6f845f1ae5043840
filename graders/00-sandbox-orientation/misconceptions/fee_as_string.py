"""Every CSV value written as a string, so monthly_fee cannot be compared or summed."""

STEP = "dynamodb-item"
HINT = "types"


def apply(ctx):
    ddb = ctx.client("dynamodb")
    ddb.create_table(
        TableName="customers",
        KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"customer_id": "C0001", "plan": "pro", "monthly_fee": "49.00"}
    ddb.put_item(TableName="customers", Item={k: {"S": v} for k, v in item.items()})
