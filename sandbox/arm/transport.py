"""HTTPS plumbing: a threading HTTP/1.1 server with TLS from a throw-away ``trustme`` CA.

azure-core refuses to send a bearer token over plain http, so the stand-in must speak TLS; clients
trust it through ``connection_verify=<ca.pem>``. HTTP/1.1 with exact Content-Length keeps the SDK's
pooled keep-alive connections working. Everything ARM-specific lives in ``server.py``; this module
only moves bytes.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import trustme

if TYPE_CHECKING:
    from .server import ArmStandIn

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def certificate_authority() -> trustme.CA:
    # One CA per process: generating keys is the slowest part of starting a stand-in.
    return trustme.CA()


class TlsServer(ThreadingHTTPServer):
    """A threading HTTP server that does each TLS handshake on the connection's own thread."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for a request stuck in a "hang"

    def __init__(self, address: tuple[str, int], handler: type, *, context: ssl.SSLContext, stand_in: ArmStandIn):
        super().__init__(address, handler)
        self.context = context
        self.stand_in = stand_in
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gave up during the handshake
        with self._connections_lock:
            self._connections.add(connection)
        try:
            super().finish_request(connection, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self) -> None:
        # Idle keep-alive connections would otherwise hold their threads until the client hangs up.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(2)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections are released after a minute
    # Headers and body leave in separate writes; with Nagle on, delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True
    server: TlsServer

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _serve(self) -> None:
        headers = dict(self.headers.items())
        reply = self.server.stand_in.answer(self.command, self.path, headers, self._read_body())
        payload = json.dumps(reply.body).encode("utf-8") if reply.body is not None else b""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        if reply.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and reply.status != 204:
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
