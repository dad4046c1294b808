"""A door in front of a loopback service that a test can shut, as if the service's process stopped.

Open, it forwards every connection to the service byte for byte. Shut, it closes its listening
socket (new connections are refused: ECONNREFUSED, what a client meets when Azurite is not running)
and resets the connections it carries (what a client in mid-request meets when the process dies).
Opened again, it listens on the same port, so clients reach the service with the settings they had.
"""

from __future__ import annotations

import socket
import threading


class Door:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def open(self) -> Door:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def shut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            live, self._live = self._live, set()
        for conn in live:
            try:  # SO_LINGER 0: a reset, as a killed process's sockets give; shutdown wakes the pipe's recv
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # shut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live |= {client, upstream}
            for source, sink, inbound in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(source, sink, inbound), daemon=True).start()

    def passing(self, chunk: bytes, *, toward_service: bool) -> None:
        """Called with every chunk before it is forwarded; a subclass may hold it here (a slow service)."""

    def _pipe(self, source: socket.socket, sink: socket.socket, toward_service: bool) -> None:
        try:
            while data := source.recv(65536):
                self.passing(data, toward_service=toward_service)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._live -= {source, sink}
