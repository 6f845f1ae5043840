"""What the call log costs per AWS call, against the same router with the log off, in one run.

Drives the sandbox's router in-process (no sockets, so the log's cost is not lost in the noise
of a network round trip) with signed-looking S3 ``PutObject`` and DynamoDB ``GetItem``
requests, alternating blocks with the log on and off, and prints the medians, the difference
per call and the ratio. Target: the log adds <= 0.1 ms per call.

    .venv/bin/python benchmarks/calllog.py [--calls 2000] [--blocks 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from werkzeug.test import Client

from crosstrain.sandbox.core.router import Router

SCOPE = "AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/{}/aws4_request, Signature=x"
ITEM = b'{"TableName": "scores", "Key": {"id": {"S": "c-1"}}}'


def requests(client: Client, n: int) -> float:
    """Seconds per call for ``n`` calls, half S3 PutObject, half DynamoDB GetItem."""
    began = time.perf_counter()
    for i in range(n // 2):
        client.put(
            f"/bench/key-{i % 50}",
            data=b"x" * 100,
            headers={"Authorization": SCOPE.format("s3"), "User-Agent": "Boto3/1.40"},
        )
        client.post(
            "/",
            data=ITEM,
            headers={
                "Authorization": SCOPE.format("dynamodb"),
                "X-Amz-Target": "DynamoDB_20120810.GetItem",
                "Content-Type": "application/x-amz-json-1.0",
                "User-Agent": "Boto3/1.40",
            },
        )
    return (time.perf_counter() - began) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=7)
    args = parser.parse_args()
    router = Router(endpoint_url="http://127.0.0.1:4566")
    client = Client(router)
    client.put("/bench", headers={"Authorization": SCOPE.format("s3")})
    client.post(
        "/",
        data=b'{"TableName": "scores", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],'
        b' "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],'
        b' "BillingMode": "PAY_PER_REQUEST"}',
        headers={
            "Authorization": SCOPE.format("dynamodb"),
            "X-Amz-Target": "DynamoDB_20120810.CreateTable",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    requests(client, 200)  # warm up both paths
    on, off = [], []
    for _ in range(args.blocks):
        router.calls.enabled = False
        off.append(requests(client, args.calls))
        router.calls.enabled = True
        router.calls.clear()
        on.append(requests(client, args.calls))
    off_ms, on_ms = statistics.median(off) * 1000, statistics.median(on) * 1000
    print(f"per call, log off: {off_ms:.3f} ms   log on: {on_ms:.3f} ms")
    added = on_ms - off_ms
    print(f"call log adds {added:+.3f} ms per call (target <= 0.1 ms); ratio {on_ms / off_ms:.3f}")
    rows = router.calls.query(limit=2)
    print("last records:", [(r["service"], r["operation"], r["resource"]) for r in rows])
    began = time.perf_counter()
    kept = len(router.calls.query())
    print(f"reading back {kept} records: {(time.perf_counter() - began) * 1000:.1f} ms")
    print(f"record() alone: {record_cost(router) * 1e6:.1f} us per call")


def record_cost(router: Router, n: int = 20000) -> float:
    """Seconds per :meth:`CallLog.record` of a prepared request (the log's own share)."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    headers = {
        "Authorization": SCOPE.format("dynamodb"),
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
    }
    environ = EnvironBuilder(path="/", method="POST", data=ITEM, headers=headers).get_environ()
    scope = ("test", "us-east-1", "dynamodb")
    prepared = [Request({**environ, "wsgi.input": io.BytesIO(ITEM)}) for _ in range(n)]
    for request in prepared:
        request.get_data()  # as the router leaves it: the body already read for moto
    began = time.perf_counter()
    for request in prepared:
        router.calls.record(request, scope, 200, began)
    return (time.perf_counter() - began) / n


if __name__ == "__main__":
    main()
