"""An invoice is visible to its supplier's and its recipient's members only; rights are checked."""

from __future__ import annotations

from backend.accounts.tables import Membership
from backend.invoices.tables import Deposit, Invoice
from tests.integration.invoices.test_deposit import post_files
from tests.support.web import post_form
from tests.unit.validation.invoice_builders import cii_bytes


async def _deposited(client) -> tuple[Invoice, Deposit]:
    assert (await post_files(client, [("f.xml", cii_bytes())])).status_code == 201
    return await Invoice.objects().first(), await Deposit.objects().first()


async def test_another_structure_gets_404_everywhere(client, accounts, supplier):
    invoice, deposit = await _deposited(client)
    await accounts.logout()
    await accounts.registered()  # someone else, another structure
    for url in (f"/invoices/{invoice.id}", f"/invoices/{invoice.id}/original", f"/deposits/{deposit.id}"):
        assert (await client.get(url)).status_code == 404, url
    assert invoice.number not in (await client.get("/invoices")).text


async def test_recipient_agent_sees_the_invoice(client, accounts, supplier, recipient):
    invoice, _ = await _deposited(client)
    await accounts.logout()
    agent = accounts.person(siret=recipient.siret)
    await accounts.signup(agent)  # a join request to the public structure…
    await accounts.confirm(agent)
    await Membership.update({Membership.status: "active", Membership.can_process: True}).where(Membership.status == "pending")
    await accounts.login(agent)
    page = await client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and invoice.number in page.text
    assert invoice.number in (await client.get("/invoices")).text


async def test_member_without_deposit_right_cannot_deposit(client, accounts, supplier):
    await Membership.update({Membership.can_deposit: False, Membership.is_manager: False}).where(Membership.id > 0)
    response = await post_files(client, [("f.xml", cii_bytes())])
    assert response.status_code == 404
    assert await Invoice.count() == 0


async def test_anonymous_deposit_is_refused(client, recipient):
    response = await post_form(client, "/login", "/deposits", {}, follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].startswith("/login")
    assert await Deposit.count() == 0
