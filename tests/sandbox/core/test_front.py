"""HTTP keep-alive on the sandbox's front: one connection serves many requests, bodies included."""

from __future__ import annotations

import http.client

import pytest

from crosstrain import sandbox


@pytest.fixture(scope="module")
def kept_alive():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CROSSTRAIN_HTTP_KEEP_ALIVE", "true")
        sb = sandbox.start()
    yield sb
    sb.stop()


def _request(connection, method: str, path: str, body: bytes | None = None):
    connection.request(method, path, body=body, headers={"Host": "localhost"})
    response = connection.getresponse()
    return response, response.read()


def test_one_connection_serves_requests_with_and_without_bodies(kept_alive):
    connection = http.client.HTTPConnection("127.0.0.1", kept_alive.port, timeout=30)
    response, _ = _request(connection, "PUT", "/kept")
    assert response.status == 200 and response.getheader("Connection") != "close"
    first = connection.sock
    assert _request(connection, "PUT", "/kept/key", b"x" * 100_000)[0].status == 200
    response, body = _request(connection, "GET", "/_localstack/health")
    assert response.status == 200 and b"services" in body
    size = kept_alive.client("s3").head_object(Bucket="kept", Key="key")["ContentLength"]
    assert size == 100_000
    assert connection.sock is first  # the same TCP connection all along


def test_a_body_the_application_leaves_unread_does_not_leak_into_the_next_request(kept_alive):
    connection = http.client.HTTPConnection("127.0.0.1", kept_alive.port, timeout=30)
    response, _ = _request(connection, "GET", "/_localstack/health", b"GET /evil HTTP/1.1\r\n\r\n")
    assert response.status == 200
    response, body = _request(connection, "GET", "/_localstack/health")
    assert response.status == 200 and b"services" in body


def test_without_the_setting_each_answer_closes_its_connection(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=30)
    response, _ = _request(connection, "GET", "/_localstack/health")
    assert response.getheader("Connection") == "close"
