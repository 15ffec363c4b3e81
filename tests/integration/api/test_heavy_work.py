"""Heavy work per API key: a client sending many large invoices at once is told to wait (429),
and the process keeps its threads for everybody else. A real server: the in-process test
client handles one request at a time."""

from __future__ import annotations

import asyncio

import httpx

from backend.invoices.tables import Invoice
from backend.lib import heavy
from tests.integration.tracking.servers import start_server, stop
from tests.integration.api.test_endpoints import structured

LINES = [{"description": f"Fourniture {n}", "quantity": "1", "unit_price": "10.00", "vat_rate": "20"} for n in range(150)]


async def test_one_key_beyond_its_share_of_pdf_generation_gets_429(settings, supplier_api, tmp_path):
    server = start_server(settings, tmp_path / "server")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120,
                                     headers={"Authorization": f"Bearer {supplier_api.secret}"}) as http:
            await _send_too_many(http)
    finally:
        stop(server)


async def _send_too_many(http: httpx.AsyncClient) -> None:
    count = heavy.PER_CALLER + 1
    responses = await asyncio.gather(*(
        http.post("/api/v1/invoices", json=structured(number=f"GROS-{n}", lines=LINES)) for n in range(count)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * heavy.PER_CALLER + [429], codes
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "heavy_work_limit" and int(refused.headers["retry-after"]) > 0
    assert "traitements lourds en cours" in refused.json()["detail"]
    assert await Invoice.count() == heavy.PER_CALLER
    # Once the first ones are answered, the same key may go on.
    again = await http.post("/api/v1/invoices", json=structured(number="GROS-X", lines=LINES))
    assert again.status_code == 201
