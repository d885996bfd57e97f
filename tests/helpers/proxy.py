"""A TCP proxy in front of a Redis server that can lose a reply: the command reaches Redis and
is executed, but the client's connection is closed before the answer comes back (what a network
failure or a timeout at the wrong moment does); or lose a request: the command never reaches
Redis and the client's connection is closed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class ReplyDroppingProxy:
    """Forwards loopback connections to ``127.0.0.1:target_port``.

    After :meth:`drop_next_reply_to` ``command``, the first client request containing that
    command name is forwarded, its reply is swallowed and both sockets are closed; after
    :meth:`drop_next_request` it is not forwarded at all.  ``dropped`` is set once that
    happened.  Call :meth:`close` when done.
    """

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed: bytes | None = None
        self._forward = True
        self.dropped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def drop_next_reply_to(self, command: str) -> None:
        self._arm(command, forward=True)

    def drop_next_request(self, command: str) -> None:
        self._arm(command, forward=False)

    def _arm(self, command: str, *, forward: bool) -> None:
        with self._lock:
            self._armed = command.upper().encode()
            self._forward = forward
        self.dropped.clear()

    def close(self) -> None:
        self._listener.close()
        for sock in list(self._sockets):
            _close(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            swallow = threading.Event()
            threading.Thread(target=self._up, args=(client, server, swallow), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, swallow), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, swallow: threading.Event) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    hit = self._armed is not None and self._armed in data.upper()
                    forward = self._forward or not hit
                    if hit:
                        self._armed = None
                        swallow.set()
                if forward:
                    server.sendall(data)
                if hit:
                    time.sleep(0.3)  # let Redis execute the command, then cut the client off
                    self.dropped.set()
                    break
        except OSError:
            pass
        _close(client)
        _close(server)

    def _down(self, server: socket.socket, client: socket.socket, swallow: threading.Event) -> None:
        try:
            while data := server.recv(65536):
                if not swallow.is_set():
                    client.sendall(data)
        except OSError:
            pass
        _close(client)
        _close(server)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
