"""Two `facteur serve` processes sharing the database and Redis: a change made through one
reaches the SSE stream held by the other (Redis Pub/Sub carries the event).

Redis is the one FACTEUR_REDIS_URL names, else 127.0.0.1:6379/0 as in the other component
tests; without Redis the test skips on a laptop and fails under CI=true.
"""

from __future__ import annotations

import re
import time

import httpx

from backend.accounts.passwords import hash_password
from backend.accounts.tables import Membership, User
from backend.lib.common import utcnow
from tests.conftest import require_component
from tests.integration.test_components import REDIS_URL, _redis_answers
from tests.integration.tracking.servers import running
from tests.integration.tracking.sse_client import SSEReader
from tests.support.web import csrf_from

PASSWORD = "un-mot-de-passe-solide"


async def _agent_of(structure_id: int) -> str:
    email = "agent.crossprocess@mairie.fr"
    user = User(email=email, password_hash=await hash_password(PASSWORD), first_name="Agent", last_name="Redis",
                email_confirmed_at=utcnow())
    await user.save()
    await Membership.insert(Membership(user=user.id, structure=structure_id, status="active", can_process=True))
    return email


async def _log_in(http: httpx.AsyncClient, email: str, password: str) -> None:
    page = await http.get("/login")
    response = await http.post("/login", data={"email": email, "password": password, "_csrf_token": csrf_from(page.text)})
    assert response.status_code in (200, 302, 303), response.text[:300]
    assert re.search(r"Bonjour", (await http.get("/")).text)


async def test_a_status_change_on_one_process_reaches_a_stream_on_another(settings, invoice, supplier, recipient, tmp_path):
    redis_url = settings.redis_url or REDIS_URL
    require_component(await _redis_answers(redis_url), f"Redis ({redis_url})")
    agent_email = await _agent_of(recipient.id)
    with running(settings, tmp_path / "a", tmp_path / "b", redis_url=redis_url) as (one, other):
        async with httpx.AsyncClient(base_url=one.base_url, timeout=10) as agent_http, \
                httpx.AsyncClient(base_url=other.base_url, timeout=10) as supplier_http:
            await _log_in(agent_http, agent_email, PASSWORD)
            await _log_in(supplier_http, supplier.email, supplier.password)
            async with supplier_http.stream("GET", "/events", timeout=httpx.Timeout(10, read=None)) as response:
                assert response.status_code == 200
                stream = SSEReader(response)
                assert (await stream.next()).comments  # subscribed on the other process
                page = await agent_http.get(f"/invoices/{invoice.id}")
                changed = await agent_http.post(f"/invoices/{invoice.id}/status", data={
                    "target": "PRISE_EN_CHARGE", "version": str(invoice.version), "_csrf_token": csrf_from(page.text),
                })
                assert changed.status_code in (200, 302, 303)
                committed = time.monotonic()
                first, _ = await stream.pair(timeout=5)
                assert time.monotonic() - committed < 1.0
    assert first.event == f"invoice-{invoice.id}"
    assert first.json["payload"]["status"] == "PRISE_EN_CHARGE"
