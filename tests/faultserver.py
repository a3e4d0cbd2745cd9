"""An HTTP(S) server on 127.0.0.1 whose routes misbehave on purpose, and a tiny proxy.

Every connection carries one request (``Connection: close``), so a handler thread never
waits for a keep-alive client; handler threads are joined when the server stops, and every
wait inside a handler ends when the server stops. Routes take their parameters from the
query string; ``hits`` counts requests per full path (with the query), so a test that
wants a fresh counter uses a fresh query (``/flaky?fail=2&id=test-name``).

Routes:

``/ok``                       200 ``hello`` (text/plain) with an ETag and Last-Modified
``/flaky?fail=N&status=S``    S (500) for the first N requests, then 200 ``recovered``
``/retry-after?secs=X&fail=N`` 503 (or ``status=``) with ``Retry-After: X`` N times, then 200
``/status?code=C``            C with a short body
``/drop?times=N``             ``Content-Length: 1000``, 10 bytes, close; N times then 200
``/big?size=N&mode=M``        N bytes: M is ``length``, ``chunked`` or ``close``
``/lying-length?size=N``      ``Content-Length: 5`` but N bytes (then close)
``/stall?secs=X``             wait X seconds before answering
``/stall-body?secs=X``        headers and 5 bytes of 10, then wait X seconds
``/html``, ``/json``          an HTML page / a PEP 691 JSON page
``/conditional``              ETag ``"v1"`` + Last-Modified; 304 when the request matches
``/redirect?to=URL&code=C``   C (302) to URL
``/loop``                     302 to itself
``/chain?n=K``                K redirects (``/chain?n=K-1`` ...), then 200 ``end of chain``
``/echo``                     200 JSON of the request headers
``/gzip?size=N``              N bytes gzip-compressed (``Content-Encoding: gzip``)
``/drip?every=X&size=N&where=W`` one byte every X seconds, N bytes in all, in the ``body``
                              (announced length N) or in a ``header`` value; ``dripped``
                              counts the bytes sent per path
``/auth?realm=R``             200 when the request carries ``Authorization`` (echoed), else 401
``/bad-gzip``                 ``Content-Encoding: gzip`` over bytes that are not gzip
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
ETAG = '"v1"'
HTML = b"<!DOCTYPE html><html><body><a href='x-1.0.tar.gz'>x-1.0.tar.gz</a></body></html>"
JSON = b'{"meta": {"api-version": "1.0"}, "name": "x", "files": []}'
#: no handler wait outlives this, even if the stop event is never set
MAX_WAIT = 5.0


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close(): no thread outlives a test
    block_on_close = True

    def __init__(self, owner: FaultServer, handler: type[BaseHTTPRequestHandler]) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request, client_address):
        # a client that gave up (timeout, size cap) resets the connection: expected here
        with self.owner.lock:
            self.owner.errors += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = MAX_WAIT
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    # -- helpers -------------------------------------------------------------------------

    @property
    def owner(self) -> FaultServer:
        return self.server.owner

    def reply(self, status, body=b"", content_type="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def head(self, status, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()

    def wait(self, seconds):
        """Sleep, but wake up when the server stops; True when stopped."""
        return self.owner.stopping.wait(min(seconds, MAX_WAIT))

    # -- routes --------------------------------------------------------------------------

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        with self.owner.lock:
            self.owner.hits[self.path] += 1
            count = self.owner.hits[self.path]
            self.owner.headers.append((self.path, dict(self.headers.items())))
        route = getattr(self, "route_" + parts.path.strip("/").replace("-", "_"), None)
        if route is None:
            self.reply(404, b"no such route")
            return
        route(query, count)

    def route_ok(self, query, count):
        self.reply(200, b"hello", headers=[("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)])

    def route_flaky(self, query, count):
        if count <= int(query.get("fail", "1")):
            self.reply(int(query.get("status", "500")), b"try again")
        else:
            self.reply(200, b"recovered")

    def route_retry_after(self, query, count):
        if count <= int(query.get("fail", "1")):
            headers = [("Retry-After", query.get("secs", "1"))]
            self.reply(int(query.get("status", "503")), b"busy", headers=headers)
        else:
            self.reply(200, b"recovered")

    def route_status(self, query, count):
        self.reply(int(query["code"]), b"status page")

    def route_drop(self, query, count):
        if count <= int(query.get("times", "1")):
            self.head(200, [("Content-Type", "text/plain"), ("Content-Length", "1000")])
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        else:
            self.reply(200, b"x" * 1000)

    def route_big(self, query, count):
        size = int(query["size"])
        mode = query.get("mode", "length")
        if mode == "length":
            self.reply(200, b"x" * size)
            return
        if mode == "chunked":
            self.head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])
            sent = 0
            while sent < size:
                piece = min(4096, size - sent)
                self.wfile.write(b"%x\r\n%s\r\n" % (piece, b"x" * piece))
                sent += piece
            self.wfile.write(b"0\r\n\r\n")
            return
        # close-delimited: no length, the end of the body is the end of the connection
        self.head(200, [("Content-Type", "text/plain")])
        self.wfile.write(b"x" * size)
        self.close_connection = True

    def route_lying_length(self, query, count):
        self.head(200, [("Content-Type", "text/plain"), ("Content-Length", "5")])
        self.wfile.write(b"x" * int(query["size"]))
        self.close_connection = True

    def route_stall(self, query, count):
        if not self.wait(float(query.get("secs", "1"))):
            self.reply(200, b"too late")

    def route_stall_body(self, query, count):
        self.head(200, [("Content-Type", "text/plain"), ("Content-Length", "10")])
        self.wfile.write(b"01234")
        self.wfile.flush()
        if not self.wait(float(query.get("secs", "1"))):
            self.wfile.write(b"56789")

    def route_html(self, query, count):
        self.reply(200, HTML, content_type="text/html; charset=utf-8")

    def route_json(self, query, count):
        self.reply(200, JSON, content_type="application/vnd.pypi.simple.v1+json")

    def route_conditional(self, query, count):
        headers = [("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)]
        if (
            self.headers.get("If-None-Match") == ETAG
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.head(304, headers)
            return
        self.reply(200, b"fresh", headers=headers)

    def route_odd_validators(self, query, count):
        """200 with an oversized or binary ETag and Last-Modified; a conditional request
        whose validators are over 1 KiB gets 431, as real servers answer it."""
        etag = query.get("etag", "x" * 4000)
        sent = self.headers.get("If-None-Match", "") + self.headers.get("If-Modified-Since", "")
        if len(sent) > 1024:
            self.reply(431, b"request header fields too large")
            return
        self.reply(200, b"body", headers=[("ETag", etag), ("Last-Modified", etag)])

    def route_redirect(self, query, count):
        self.reply(int(query.get("code", "302")), b"moved", headers=[("Location", query["to"])])

    def route_loop(self, query, count):
        self.reply(302, b"again", headers=[("Location", "/loop")])

    def route_chain(self, query, count):
        n = int(query["n"])
        if n <= 0:
            self.reply(200, b"end of chain")
        else:
            self.reply(302, b"next", headers=[("Location", f"/chain?n={n - 1}")])

    def route_echo(self, query, count):
        body = json.dumps(dict(self.headers.items())).encode()
        self.reply(200, body, content_type="application/json")

    def route_gzip(self, query, count):
        body = gzip.compress(b"x" * int(query["size"]), mtime=0)
        self.reply(200, body, headers=[("Content-Encoding", "gzip")])

    def route_bad_gzip(self, query, count):
        self.reply(200, b"this is not gzip at all", headers=[("Content-Encoding", "gzip")])

    def route_drip(self, query, count):
        every, size = float(query.get("every", "0.05")), int(query.get("size", "1000"))
        if query.get("where", "body") == "body":
            self.head(200, [("Content-Type", "text/plain"), ("Content-Length", str(size))])
        else:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        for _ in range(size):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:  # the client cut the connection: what the test wants
                return
            with self.owner.lock:
                self.owner.dripped[self.path] += 1
            if self.wait(every):
                return
        if query.get("where", "body") != "body":
            self.wfile.write(b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def route_auth(self, query, count):
        authorization = self.headers.get("Authorization")
        if authorization is None:
            self.reply(401, b"who are you", headers=[("WWW-Authenticate", 'Basic realm="x"')])
        else:
            self.reply(200, authorization.encode())


class _ProxyHandler(_Handler):
    """A forward proxy for absolute-URI GETs: answers ``index.test`` itself, relays 127.0.0.1."""

    def do_GET(self):
        target = urlsplit(self.path)
        with self.owner.lock:
            self.owner.hits[self.path] += 1
            self.owner.headers.append((self.path, dict(self.headers.items())))
        if target.scheme != "http" or not target.hostname:
            self.reply(400, b"absolute http URI expected")
            return
        if target.hostname == "index.test":
            self.reply(200, b"answered by the proxy for " + self.path.encode())
            return
        if target.hostname != "127.0.0.1":
            self.reply(502, b"this proxy only relays to 127.0.0.1")
            return
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream = http.client.HTTPConnection("127.0.0.1", target.port, timeout=MAX_WAIT)
        try:
            upstream.request("GET", path, headers={"Via": "1.1 faultproxy"})
            answer = upstream.getresponse()
            body = answer.read()
            content_type = answer.getheader("Content-Type", "application/octet-stream")
            self.reply(
                answer.status, body, content_type=content_type, headers=[("Via", "1.1 faultproxy")]
            )
        finally:
            upstream.close()


class FaultServer:
    """Start with :meth:`start` (or ``with``); ``url`` is ``http(s)://127.0.0.1:PORT``."""

    def __init__(self, *, ssl_context=None, proxy=False):
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.dripped: Counter[str] = Counter()
        self.headers: list[tuple[str, dict[str, str]]] = []
        self.errors = 0
        self.stopping = threading.Event()
        self._server = _Server(self, _ProxyHandler if proxy else _Handler)
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"faultserver-{self.port}",
            daemon=True,
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join(MAX_WAIT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def count(self, path):
        with self.lock:
            return self.hits[path]


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
