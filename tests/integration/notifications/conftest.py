"""A loopback push service, an app that accepts http://127.0.0.1 endpoints, and helpers to drain the outbox."""

from __future__ import annotations

import msgspec
import pytest

from backend.processing import worker
from backend.notifications import delivery as push_delivery
from tests.support.apps import app_for
from tests.integration.conftest import _forget_sessions_and_counters
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401  (re-exported fixtures)
from tests.integration.processing.conftest import agent_id, empty_database, invoice, supplier_id  # noqa: F401
from tests.support.push_service import PushService
from tests.support.web import csrf_from

PUSH_CHANNELS = ["push", "push_delivery"]


@pytest.fixture
async def app(clean_db, settings, monkeypatch):
    # Push endpoints on http://127.0.0.1 are for tests and development only (FACTEUR_PUSH_ALLOW_LOCAL);
    # the worker these tests drive runs with the same setting.
    await _forget_sessions_and_counters(settings)
    local = msgspec.structs.replace(settings, push_allow_local=True)
    monkeypatch.setattr(push_delivery, "get_settings", lambda: local)
    return app_for(local)


@pytest.fixture
def push_service(settings):
    service = PushService(settings.vapid_public_key).start()
    yield service
    service.stop()


@pytest.fixture(autouse=True)
def push_handlers():
    worker.load_handlers()


async def drain(rounds: int = 6) -> None:
    """Run the worker until nothing is due on the push channels (fan-out, then each delivery)."""
    for _ in range(rounds):
        if not await worker.run_once(PUSH_CHANNELS):
            return


async def subscribe(client, sub, *, page: str = "/account"):
    """What push.js does: POST the subscription as JSON with the page's CSRF token in the header."""
    token = csrf_from((await client.get(page)).text)
    return await client.post("/push/subscriptions", json=sub.subscription_json(),
                             headers={"X-CSRFToken": token, "Accept": "application/json"})
