"""An HTTP proxy between a storage and a real S3 server that injects failures.

Requests pass through unchanged (the ``Host`` header too, so SigV4 still
verifies upstream) unless a rule matches: then the proxy answers with an S3
error (500, 503 SlowDown...), stalls, or drops the connection mid-request,
as a server that dies would, or cuts a response's body short. Responses are
streamed, not held: it counts what it injected and forwarded, and the bytes
of response bodies it sent (a counting proxy, for tests and benchmarks).
"""

from __future__ import annotations

import http.client
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Rule:
    matches: Callable[[str, str], bool]  # (method, path with query) -> bool
    status: int | None = None  # None: drop the connection
    code: str = ""
    times: int = 1_000_000
    delay: float = 0.0  # seconds to stall before answering (or forwarding)
    header: str = ""  # match only requests that carry this header (any case)
    #: With status None: forward the request first (the server acts on it), then drop
    #: the connection before answering: a response lost on the way back.
    forward: bool = False
    #: Forward, answer with the server's status and headers, send this many bytes
    #: of the body, then drop the connection: a stream broken mid-body.
    cut_after: int | None = None


@dataclass
class FaultProxy:
    upstream: str  # host:port
    rules: list[Rule] = field(default_factory=list)
    injected: int = 0
    forwarded: int = 0
    #: Bytes of response bodies sent back to clients.
    bytes_out: int = 0
    #: (method, path) of every request forwarded upstream.
    seen: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                rule = proxy._take(self.command, self.path, self.headers)
                if rule is not None and rule.delay:
                    time.sleep(rule.delay)
                    if rule.status is None:  # a slow server: then answer normally
                        rule = None
                if rule is not None and rule.status is None and rule.forward:
                    response = proxy._forward(
                        self.command, self.path, self.rfile.read(length), self.headers
                    )
                    response.close()
                    self.close_connection = True
                    self.connection.close()
                    return
                if rule is not None and rule.cut_after is not None:
                    body = self.rfile.read(length) if length else b""
                    response = proxy._forward(self.command, self.path, body, self.headers)
                    self._answer(response, limit=rule.cut_after)
                    self.close_connection = True
                    self.connection.close()
                    return
                if rule is not None and rule.status is None:
                    self.rfile.read(min(length, 64 * 1024))  # part of the body, then gone
                    self.close_connection = True
                    self.connection.close()
                    return
                body = self.rfile.read(length) if length else b""
                if rule is not None:
                    payload = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{rule.code}</Code>'
                        f"<Message>injected by the test</Message></Error>"
                    ).encode()
                    self.send_response(rule.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                self._answer(proxy._forward(self.command, self.path, body, self.headers))

            def _answer(self, response: Any, limit: int | None = None) -> None:
                """Stream the server's response back (at most ``limit`` body bytes)."""
                try:
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    if response.getheader("Content-Length") is None:
                        # A chunked answer (Ceph RGW's listings) is sent unframed:
                        # its end is the end of the connection.
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    left = float("inf") if limit is None else limit
                    while self.command != "HEAD" and left > 0:
                        piece = response.read(int(min(left, 1024 * 1024)))
                        if not piece:
                            break
                        self.wfile.write(piece)
                        left -= len(piece)
                        with proxy._lock:
                            proxy.bytes_out += len(piece)
                finally:
                    response.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_OPTIONS = handle_any  # noqa: N815

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def _forward(self, method: str, path: str, body: bytes, headers: Any) -> Any:
        """Send one request upstream: its response, the body not read yet (the
        connection closes with it)."""
        upstream = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            sent["Connection"] = "close"  # so the response owns the socket
            upstream.request(method, path, body=body, headers=sent)
            response = upstream.getresponse()
        except BaseException:
            upstream.close()
            raise
        with self._lock:
            self.forwarded += 1
            self.seen.append((method, path))
        return response

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _take(self, method: str, path: str, headers: Any) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.header and rule.header not in headers:
                    continue
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    self.injected += 1
                    return rule
        return None

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a reader that stopped after 1 KiB,
        a killed process) is no error of the proxy's: print nothing."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)
