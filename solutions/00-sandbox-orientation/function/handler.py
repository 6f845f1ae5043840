"""The `revenue` function: what a customer has paid so far.

Invoked with ``{"plan_price": 19.99, "months": 7}`` it returns ``{"revenue": 139.93}``.
"""


def handler(event, context):
    ### BEGIN SOLUTION
    revenue = round(float(event["plan_price"]) * int(event["months"]), 2)
    return {"revenue": revenue}
    ### END SOLUTION
