"""`facteur serve` sends every answer at once: Nagle's algorithm is off on each connection.

With several workers uvicorn binds the listening socket as `socket.socket(AF_INET)` (its
protocol number reads 0) and asyncio turns TCP_NODELAY on only for sockets that read
IPPROTO_TCP: the connections kept Nagle on, and an answer's body, written after its head,
waited up to 40 ms for the client's delayed acknowledgement (bench/deposit/RESULTS.md).
The test serves an app exactly that way — a socket bound as uvicorn binds it, handed to
uvicorn's server — and reads the option on the connection the server accepted.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn

from backend.lib.serving import HTTPProtocol


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _nagle_off_on_accepted_connection(http_protocol) -> bool:
    listening = socket.socket(family=socket.AF_INET)  # as uvicorn's Config.bind_socket, used with --workers
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app, http=http_protocol, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/")).text == "ok"
            [connection] = server.server_state.connections  # kept alive by the client
            accepted = connection.transport.get_extra_info("socket")
            return bool(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        listening.close()


async def test_connections_accepted_by_a_worker_send_at_once():
    assert await _nagle_off_on_accepted_connection(HTTPProtocol)


async def test_uvicorn_alone_leaves_nagle_on_there():
    """Why HTTPProtocol exists: if this starts failing, uvicorn fixed it and the class can go."""
    assert not await _nagle_off_on_accepted_connection("h11")
