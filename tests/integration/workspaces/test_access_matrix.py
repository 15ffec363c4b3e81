"""Who sees what, on every workspace page, fragment and action: outsiders get 404, nothing leaks."""

from __future__ import annotations

import pytest

from backend.invoices.tables import Invoice, InvoiceDraft
from tests.integration.workspaces.conftest import make_invoice
from tests.integration.workspaces.test_supplier_workspace import numbers
from tests.support.web import csrf_from

READS = ["/invoices/{id}", "/invoices/{id}/row", "/invoices/{id}/live/status", "/invoices/{id}/live/history",
         "/invoices/{id}/original"]


@pytest.mark.parametrize("who, sees", [
    ("supplier", True), ("agent", True), ("other_supplier", False), ("other_agent", False),
])
async def test_every_page_fragment_and_action(client, accounts, world, who, sees):
    invoice = await make_invoice(world.s1, world.r1, status="REJETEE", number="SECRET-1")
    await accounts.login(getattr(world, who))
    for url in READS:
        response = await client.get(url.format(id=invoice.id))
        if url.endswith("/original"):  # the test rows point at no file on disk: only the refusal is checked
            if not sees:
                assert response.status_code == 404, (who, url)
            continue
        assert response.status_code == (200 if sees else 404), (who, url, response.status_code)
    listing = await client.get("/invoices")
    assert ("SECRET-1" in numbers(listing.text)) == sees
    assert ("SECRET-1" in (await client.get("/")).text) == (who == "supplier")  # a rejection to acknowledge
    token = csrf_from((await client.get("/account")).text)
    status = await client.post(f"/invoices/{invoice.id}/status", data={"target": "ACCUSE_REJET", "version": "1", "_csrf_token": token})
    reissue = await client.post(f"/invoices/{invoice.id}/reissue", data={"_csrf_token": token}, follow_redirects=False)
    if not sees:
        assert status.status_code == 404 and reissue.status_code == 404
    elif who == "agent":
        assert status.status_code == 403 and reissue.status_code == 404  # the supplier's steps
    else:
        assert status.status_code == 200 and reissue.status_code in (302, 303)
    assert await InvoiceDraft.count() == (1 if who == "supplier" else 0)
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "REJETEE"


async def test_an_agent_of_the_supplier_side_structure_only_sees_their_side(client, accounts, world):
    """The list follows the active structure: a supplier never gets another supplier's row fragment."""
    mine = await make_invoice(world.s1, world.r1)
    theirs = await make_invoice(world.s2, world.r1)
    await accounts.login(world.supplier)
    assert (await client.get(f"/invoices/{mine.id}/row")).status_code == 200
    assert (await client.get(f"/invoices/{theirs.id}/row")).status_code == 404
    assert (await client.get(f"/invoices/{mine.id}/live/nope")).status_code == 404
