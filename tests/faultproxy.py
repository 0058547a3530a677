"""A TCP-level HTTP proxy on 127.0.0.1 that injects faults between a client and a server.

Per request, with probability ``rate``: answer 503 SlowDown (or 500), reset the connection,
cut the response body short, or stall. Seeded, bounded, and it stops by itself.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field

FAULTS = ("503", "500", "reset", "truncate", "stall")
SLOWDOWN = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: 109\r\n"
            b"Connection: close\r\n\r\n<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")
ERR500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@dataclass
class FaultProxy:
    upstream_port: int
    rate: float
    seed: int = 0
    faults: tuple[str, ...] = FAULTS
    stall_s: float = 2.0
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()

    def _pick(self) -> str | None:
        with self.lock:
            self.requests += 1
            if self.rng.random() >= self.rate:
                return None
            f = self.rng.choice(self.faults)
            self.counts[f] = self.counts.get(f, 0) + 1
            return f

    @property
    def faulted(self) -> int:
        return sum(self.counts.values())

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        """One request per connection (we force Connection: close upstream)."""
        client.settimeout(30)
        try:
            head, body = self._read_request(client)
            if head is None:
                return
            fault = self._pick()
            if fault == "503":
                client.sendall(SLOWDOWN)
                return
            if fault == "500":
                client.sendall(ERR500)
                return
            if fault == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                                  b"\x00\x00\x00\x00")
                return
            if fault == "stall":
                time.sleep(self.stall_s)
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            try:
                up.sendall(self._force_close(head) + body)
                data = b""
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            finally:
                up.close()
            if fault == "truncate" and len(data) > 200:
                cut = data.find(b"\r\n\r\n") + 4
                body_len = len(data) - cut
                data = data[:cut + max(1, body_len // 2)] if body_len > 2 else data[:cut]
            client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()

    @staticmethod
    def _force_close(head: bytes) -> bytes:
        lines = [ln for ln in head.split(b"\r\n") if ln and not ln.lower().startswith(
            b"connection:")]
        return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"

    @staticmethod
    def _read_request(client: socket.socket) -> tuple[bytes | None, bytes]:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = client.recv(65536)
            if not chunk:
                return None, b""
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        if b"\r\nexpect: 100-continue" in head.lower():
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            head = b"\r\n".join(ln for ln in head.split(b"\r\n")
                                 if not ln.lower().startswith(b"expect:"))
        length = 0
        chunked = False
        for ln in head.split(b"\r\n")[1:]:
            k, _, v = ln.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
            if k.strip().lower() == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        if chunked:
            while not rest.endswith(b"0\r\n\r\n"):
                chunk = client.recv(65536)
                if not chunk:
                    break
                rest += chunk
            return head, rest
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head, rest
