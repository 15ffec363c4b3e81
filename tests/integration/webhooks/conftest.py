"""Webhooks end to end: API keys of both parties, a receiver on 127.0.0.1, the worker driven pass by pass."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.api.keys import create_key
from backend.lib.common import utcnow
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.processing import worker
from backend.processing.tables import Outbox
from backend.webhooks import delivery  # noqa: F401  (registers the "webhook" channels)
from tests.support.apps import app_for
from tests.integration.conftest import _forget_sessions_and_counters
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401  (re-exported fixtures)
from tests.integration.invoices.test_deposit import post_files
from tests.support.webhook_receiver import Receiver
from tests.unit.validation.invoice_builders import SELLER_SIRET, facturx_pdf

CHANNELS = ["webhook", "webhook_delivery"]
ALL_EVENTS = ["invoice.status_changed", "invoice.received", "invoice.rejection_acknowledged", "message.created"]


@pytest.fixture
async def app(clean_db, settings, monkeypatch):
    """The application as in production, but webhooks may call http://127.0.0.1 (the test
    receiver); the worker these tests drive runs with the same setting."""
    await _forget_sessions_and_counters(settings)
    local = msgspec.structs.replace(settings, webhook_allow_local=True)
    monkeypatch.setattr(delivery, "get_settings", lambda: local)
    return app_for(local)


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@dataclass
class Api:
    client: AsyncTestClient
    secret: str
    structure_id: int

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    async def get(self, path: str, **kw):
        return await self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def post(self, path: str, **kw):
        return await self.client.post(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def delete(self, path: str, **kw):
        return await self.client.delete(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def subscribe(self, receiver: Receiver, path: str, events=ALL_EVENTS) -> dict:
        """A webhook to the receiver at `path`; the receiver learns its secret."""
        response = await self.post("/api/v1/webhooks", json={"url": receiver.url(path), "events": list(events)})
        assert response.status_code == 201, response.text
        body = response.json()
        receiver.secrets[path] = body["secret"]
        return body


async def api_for(client, structure_id: int, scopes=("read",)) -> Api:
    structure = await Structure.objects().get(Structure.id == structure_id)
    key = await create_key(structure, "ERP", tuple(scopes), None)
    return Api(client, key.secret, structure_id)


@pytest.fixture
async def invoice(client, supplier, recipient) -> Invoice:
    response = await post_files(client, [("facture.pdf", facturx_pdf())])
    assert response.status_code == 201, response.text
    return await Invoice.objects().first()


@pytest.fixture
async def supplier_api(client, supplier) -> Api:
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    return await api_for(client, structure.id)


@pytest.fixture
async def recipient_api(client, recipient) -> Api:
    return await api_for(client, recipient.id)


async def pending(channels=CHANNELS) -> int:
    return await Outbox.count().where(
        Outbox.channel.is_in(channels) & Outbox.delivered_at.is_null() & Outbox.failed_at.is_null())


async def worker_pass() -> int:
    """One pass of the worker as if every retry delay had run out (time travel, not waiting)."""
    await Outbox.update({Outbox.next_attempt_at: utcnow()}).where(
        Outbox.channel.is_in(CHANNELS) & Outbox.delivered_at.is_null() & Outbox.failed_at.is_null())
    return await worker.run_once(CHANNELS)


async def drain(max_passes: int = 40) -> int:
    """Worker passes until nothing is pending; returns how many passes it took."""
    for n in range(1, max_passes + 1):
        await worker_pass()
        if not await pending():
            return n
    raise AssertionError(f"still {await pending()} webhook rows pending after {max_passes} passes")
