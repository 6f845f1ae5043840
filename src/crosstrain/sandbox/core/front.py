"""The sandbox's HTTP front: werkzeug's threaded server, with HTTP/1.1 keep-alive if asked.

werkzeug answers every request with ``Connection: close`` (Python's ``http.server`` cannot drain
a request body the application left unread), so each boto3 call opens a TCP connection and the
server starts a thread for it. :func:`keep_alive` makes a request handler that keeps the
connection (and its thread) for the client's next request: the body is handed to the
application through a stream that knows its length and is drained after the response, a chunked
request body still closes the connection, and a connection idle for :data:`IDLE_SECONDS` is
closed. Whether it is on is the ``http_keep_alive`` setting (measured in
``benchmarks/front.py``).
"""

from __future__ import annotations

import contextlib
import io
import socket

IDLE_SECONDS = 120.0


class _ServerView:
    """The server as one request's handler sees it, with the application wrapped so the end of
    the response is known (everything else is the real server's)."""

    def __init__(self, server, app):
        self._server, self.app = server, app

    def __getattr__(self, name: str):
        return getattr(self._server, name)


def keep_alive(base: type) -> type:
    """A subclass of werkzeug request handler ``base`` that keeps HTTP/1.1 connections open."""
    from werkzeug.wsgi import LimitedStream

    class KeepAlive(base):
        timeout = IDLE_SECONDS  # applies to each read and write on the connection
        _body: LimitedStream | None = None

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold the second one back ~40 ms on a kept connection.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def make_environ(self) -> dict:
            environ = super().make_environ()
            if environ.get("wsgi.input_terminated"):  # a chunked body: close after it
                self._body = None
                return environ
            try:
                length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
            except ValueError:
                self._body = None
                return environ
            self._body = environ["wsgi.input"] = LimitedStream(self.rfile, length)
            self.server = _ServerView(self.server, self._finishing(self.server.app))
            return environ

        def _finishing(self, app):
            """``app``, whose answer, once sent, drains the request body and then hides the
            connection from werkzeug, which would otherwise read (and lose) the next request
            while discarding what it takes for an unread body."""

            def finishing(environ, start_response):
                try:
                    answer = app(environ, start_response)
                except BaseException:
                    self.close_connection = True  # werkzeug's error page then says close
                    raise

                def chunks():
                    try:
                        yield from answer
                    finally:
                        if hasattr(answer, "close"):
                            answer.close()
                        try:
                            self._body.exhaust()
                        except (OSError, ValueError):
                            self.close_connection = True
                        self._rfile, self.rfile = self.rfile, io.BytesIO()

                return chunks()

            return finishing

        def send_header(self, keyword: str, value: str) -> None:
            closing = keyword.lower() == "connection" and value.lower() == "close"
            if closing and self._body is not None and not self.close_connection:
                return  # werkzeug's blanket Connection: close; this connection stays
            super().send_header(keyword, value)

        def run_wsgi(self) -> None:
            self._body, server, rfile = None, self.server, self.rfile
            try:
                super().run_wsgi()
            finally:
                self.server, self.rfile = server, rfile
            if self._body is None or not self._body.is_exhausted:
                self.close_connection = True

    return KeepAlive
