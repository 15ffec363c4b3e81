"""A real HTTP server in the test's event loop (uvicorn), so SSE streams are read as browsers read them.

The in-process test client buffers whole responses; an endless stream needs a socket.
The server app shares the test's settings (database, session store), so a session made
through `client` is valid on it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar

from backend.accounts.tables import Membership
from backend.tracking.stream import LiveChannels
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401  (re-exported fixtures)
from tests.integration.processing.conftest import agent_id, invoice, supplier_id  # noqa: F401
from tests.integration.tracking.sse_client import SSEReader
from tests.support.apps import app_for
from tests.support.accounts import AccountFactory

KEEPALIVE = 0.5  # seconds between comment lines in these tests (15 s in production)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    app: Litestar
    base_url: str
    settings: object

    @property
    def plugin(self) -> LiveChannels:
        return self.app.plugins.get(LiveChannels)

    def client(self, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, cookies=cookies, timeout=10)

    @contextlib.asynccontextmanager
    async def stream(self, http: httpx.AsyncClient, last_event_id: int | None = None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        async with http.stream("GET", "/events", headers=headers, timeout=httpx.Timeout(10, read=None)) as response:
            assert response.status_code == 200, response.status_code
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = SSEReader(response)
            opening = await reader.next()  # the server's first comment: the subscription is in place
            assert opening.comments
            yield reader

    @contextlib.asynccontextmanager
    async def agent(self, recipient):  # noqa: F811
        """An agent of the recipient structure with the processing right, signed in on this server."""
        async with self.client() as http:
            accounts = AccountFactory(http, self.settings)
            agent = accounts.person(siret=recipient.siret, company=recipient.name)
            await accounts.signup(agent)
            await accounts.confirm(agent)
            await Membership.update({Membership.status: "active", Membership.can_process: True}).where(
                (Membership.structure == recipient.id) & (Membership.status == "pending")
            )
            assert (await accounts.login(agent)).status_code in (200, 302)
            yield http


@pytest.fixture
async def live(client, settings):
    """The app behind uvicorn on 127.0.0.1; started after `client` so its publisher is the live one."""
    async with served(app_for(msgspec.structs.replace(settings, sse_keepalive=KEEPALIVE)), settings) as started:
        yield started


@contextlib.asynccontextmanager
async def served(app: Litestar, settings):
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(300):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield Live(app, f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)
