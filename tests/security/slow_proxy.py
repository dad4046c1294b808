"""A loopback TCP proxy that can hold one request: Table Storage answering one request slowly."""

from __future__ import annotations

import socket
import threading


class SlowProxy:
    """Forwards every connection to ``upstream_port``; holds every request containing ``marker`` until released
    (a client's retry of the held request is held too)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.marker: bytes | None = None
        self.holding = threading.Event()  # the marked request has arrived and is being held
        self.released = threading.Event()
        self._closed = False

    def start(self) -> SlowProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def hold(self, marker: bytes) -> None:
        self.marker = marker

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self._closed = True
        self.released.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, requests: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if requests and self.marker is not None and self.marker in chunk:
                    self.holding.set()
                    self.released.wait()
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
