"""For every route with an id: a key of another structure gets 404 (never 403) and nothing changes."""

from __future__ import annotations

import base64

import pytest

from backend.invoices.tables import Attachment, Deposit, Invoice, InvoiceHistory
from backend.processing.tables import Outbox
from tests.integration.api.conftest import key_for
from tests.integration.processing.conftest import public_structure
from tests.unit.validation.invoice_builders import BUYER_SIRET, blank_pdf

PDF64 = base64.b64encode(blank_pdf()).decode()

# route, method, JSON body, the status the invoice is put in first (so the owner could act)
ROUTES = [
    ("/api/v1/deposits/{deposit}", "get", None, None),
    ("/api/v1/invoices/{invoice}", "get", None, None),
    ("/api/v1/invoices/{invoice}/file", "get", None, None),
    ("/api/v1/invoices/{invoice}/attachments/{attachment}", "get", None, None),
    ("/api/v1/received/{invoice}", "get", None, None),
    ("/api/v1/invoices/{invoice}/completion", "post", {"comment": "x", "attachments": [{"filename": "a.pdf", "content": PDF64}]},
     {"status": "SUSPENDUE", "reason_code": "JUSTIF_ABS", "comment": "?"}),
    ("/api/v1/invoices/{invoice}/recycling", "post", {"recipient_siret": BUYER_SIRET, "service_code": "SERVICE-COMPTA"},
     {"status": "A_RECYCLER", "comment": "service"}),
    ("/api/v1/invoices/{invoice}/acknowledgement", "post", {}, {"status": "REJETEE", "reason_code": "DOUBLON", "comment": "double"}),
    ("/api/v1/received/{invoice}/status", "post", {"status": "PRISE_EN_CHARGE"}, None),
]


async def snapshot() -> tuple:
    invoices = await Invoice.select().order_by(Invoice.id)
    return (invoices, await InvoiceHistory.count(), await Attachment.count(), await Outbox.count(), await Deposit.count())


@pytest.mark.parametrize("route, method, body, setup", ROUTES, ids=[f"{m} {r}" for r, m, _, _ in ROUTES])
async def test_other_structures_get_404_and_nothing_changes(client, supplier_api, recipient_api, stranger_api, route, method, body, setup):
    from tests.integration.api.conftest import invoice_file

    deposited = (await supplier_api.deposit(invoice_file(), attachments=[("devis.pdf", blank_pdf())])).json()
    invoice_id = deposited["invoices"][0]["id"]
    if setup:
        assert (await recipient_api.post(f"/api/v1/received/{invoice_id}/status", json=setup)).status_code == 200
    attachment = await Attachment.objects().first()
    path = route.format(deposit=deposited["id"], invoice=invoice_id, attachment=attachment.id)
    other_public = await key_for(client, await public_structure())  # a public entity with every scope, process included
    before = await snapshot()
    # A company key has no "process" scope at all: its 403 says so about the key, for any id.
    apis = (other_public,) if route.endswith("/status") else (stranger_api, other_public)
    for api in apis:
        response = await (api.get(path) if method == "get" else api.post(path, json=body))
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not_found"
        # Same answer as for an id that does not exist: existence does not leak.
        missing = path.replace(f"/{invoice_id}", "/999999").replace(f"/{deposited['id']}", "/999999")
        if missing != path:
            absent = await (api.get(missing) if method == "get" else api.post(missing, json=body))
            assert absent.status_code == 404 and absent.json()["detail"] == response.json()["detail"]
    assert await snapshot() == before


async def test_each_side_only_acts_on_its_own_side(invoice, supplier_api, recipient_api):
    """The supplier's key is not the recipient (404 on /received), the recipient's not the supplier."""
    before = await snapshot()
    assert (await supplier_api.post(f"/api/v1/received/{invoice.id}/status", json={"status": "PRISE_EN_CHARGE"})).status_code in (403, 404)
    assert (await supplier_api.get(f"/api/v1/received/{invoice.id}")).status_code == 404
    assert (await recipient_api.post(f"/api/v1/invoices/{invoice.id}/acknowledgement", json={})).status_code == 404
    assert (await recipient_api.get(f"/api/v1/deposits/{invoice.deposit}")).status_code == 404
    assert await snapshot() == before
    listed = (await recipient_api.get("/api/v1/invoices")).json()["items"]
    assert listed == []  # /invoices lists what the key's structure issued
