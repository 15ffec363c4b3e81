"""Live events through a Redis that goes away and comes back.

The channels of the app under test use a Redis server of this test's own (the machine's
redis-server binary on a free port), which the test stops and starts again; sessions and
everything else stay where the suite keeps them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import anyio
import msgspec
import pytest

from backend import app as app_module
from backend.app import create_app
from backend.processing.lifecycle import Actor, change_status
from backend.tracking.stream import UNAVAILABLE_RETRY_MS, make_channels
from backend.tracking.tables import Event
from tests.conftest import require_component
from tests.integration.tracking.conftest import KEEPALIVE, free_port, served
from tests.integration.tracking.sse_client import SSEReader


class RedisServer:
    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    require_component(binary is not None, "Le programme redis-server")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def live_on_own_redis(client, settings, own_redis, monkeypatch):
    monkeypatch.setattr(app_module, "make_channels",
                        lambda s: make_channels(msgspec.structs.replace(s, redis_url=own_redis.url)))
    app = create_app(msgspec.structs.replace(settings, sse_keepalive=KEEPALIVE), connection_pool=False)
    async with served(app, settings) as live:
        yield live


async def _last_event_id(invoice_id: int) -> int:
    return (await Event.select(Event.id).where(Event.invoice == invoice_id).order_by(Event.id, ascending=False).first())["id"]


async def test_streams_recover_what_an_outage_hid(client, live_on_own_redis, own_redis, invoice, agent_id):
    live, agent = live_on_own_redis, Actor("recipient", agent_id)
    async with live.client(client.cookies) as http:
        async with live.stream(http) as stream:
            await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
            first, _ = await stream.pair(timeout=3)
            assert first.json["payload"]["status"] == "PRISE_EN_CHARGE"
            seen = int(first.id)

            own_redis.stop()
            # The open stream is closed (after redis-py's own quick retries), not left hearing nothing.
            with pytest.raises(EOFError), anyio.fail_after(15):
                while True:
                    await stream.next(timeout=15)

        # While Redis is away: the change is committed all the same, and a new stream is told to come back.
        await change_status(invoice.id, agent, "SUSPENDUE", expected_version=None, reason_code="JUSTIF_ABS", comment="Bon manquant")
        async with http.stream("GET", "/events", headers={"Last-Event-ID": str(seen)}) as response:
            assert response.status_code == 200
            text = (await response.aread()).decode()
        assert f"retry: {UNAVAILABLE_RETRY_MS}" in text and "invoice-" not in text

        own_redis.start()
        async with live.stream(http, last_event_id=seen) as stream:
            missed, _ = await stream.pair(timeout=3)  # from the table
            assert missed.json["payload"]["status"] == "SUSPENDUE"
            await change_status(invoice.id, agent, "REJETEE", expected_version=None, reason_code="DOUBLON", comment="Doublon")
            started = time.monotonic()
            again, _ = await stream.pair(timeout=5)  # live through Redis again
            assert again.json["payload"]["status"] == "REJETEE" and int(again.id) == await _last_event_id(invoice.id)
            assert time.monotonic() - started < 2
