"""What `facteur serve` gives uvicorn beyond its defaults.

With several workers, uvicorn binds the listening socket itself as `socket.socket(AF_INET)`,
whose protocol number reads 0; asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
sockets whose protocol reads IPPROTO_TCP, so the connections those workers accept kept
Nagle on. A response goes out in two writes (head, then body): the body waited for the
client to acknowledge the head, which Linux delays by up to 40 ms. Every page and API
answer of a multi-worker server came 40 ms late (bench/deposit/RESULTS.md, 2026-12-07:
43 ms between the app's last write and the client's read, a third of the cores idle).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on a TCP connection (nothing for a Unix socket)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HTTPProtocol(H11Protocol):
    """uvicorn's h11 protocol, each connection's writes sent at once."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
