"""What people see of others: registered names in the lists and on the invoice page (the
file's name beside them, flagged, only when it differs), and the search of both sides by
the other side's registered name or SIRET, engagement, mandate number and payment date."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from backend.invoices import workspace
from backend.invoices.tables import Invoice, InvoicePayment
from backend.processing import lifecycle
from backend.processing.lifecycle import Actor, Payment
from tests.integration.workspaces.conftest import make_invoice
from tests.integration.workspaces.test_supplier_workspace import numbers


async def _names_in_file(invoice: Invoice, *, seller: str | None = None, buyer: str | None = None) -> None:
    changes = {}
    if seller is not None:
        changes[Invoice.seller_name] = seller
    if buyer is not None:
        changes[Invoice.buyer_name] = buyer
    await Invoice.update(changes).where(Invoice.id == invoice.id)


def _row_html(page: str, invoice_id: int) -> str:
    found = re.search(rf'<li class="inv-row[^"]*" id="invoice-row-{invoice_id}".*?</li>', page, re.S)
    assert found, f"no row for invoice {invoice_id}"
    return found.group(0)


async def test_the_agent_sees_the_registered_supplier_name_and_the_files_only_when_it_differs(client, accounts, world):
    renamed = await make_invoice(world.s1, world.r1, number="N-DIFF")
    await _names_in_file(renamed, seller="DUPONT SARL (ancien nom)")
    same = await make_invoice(world.s2, world.r1, number="N-SAME")
    await _names_in_file(same, seller="PLOMBERIE  martin")  # the same name, case and spacing aside: no flag
    await accounts.login(world.agent)

    listing = (await client.get("/invoices")).text
    row = _row_html(listing, renamed.id)
    assert "de Menuiserie Dupont" in row and "nom dans la facture : DUPONT SARL (ancien nom)" in row
    other = _row_html(listing, same.id)
    assert "de Plomberie Martin" in other and "nom dans la facture" not in other
    live_row = (await client.get(f"/invoices/{renamed.id}/row")).text  # the row as the live refresh swaps it
    assert "de Menuiserie Dupont" in live_row and "nom dans la facture : DUPONT SARL (ancien nom)" in live_row

    page = (await client.get(f"/invoices/{renamed.id}")).text
    assert "de <strong>Menuiserie Dupont</strong>" in page
    assert "nom dans la facture : DUPONT SARL (ancien nom)" in page
    assert f"Menuiserie Dupont <span class=\"muted\">SIRET {world.s1.siret}</span>" in page
    assert "nom dans la facture" not in (await client.get(f"/invoices/{same.id}")).text


async def test_the_supplier_sees_the_registered_recipient_name(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, number="TO-LILLE")
    await _names_in_file(invoice, buyer="Mairie Lille service compta")
    await accounts.login(world.supplier)
    row = _row_html((await client.get("/invoices")).text, invoice.id)
    assert "à Commune de Lille" in row and "nom dans la facture : Mairie Lille service compta" in row
    page = (await client.get(f"/invoices/{invoice.id}")).text
    assert "à <strong>Commune de Lille</strong>" in page and "nom dans la facture : Mairie Lille service compta" in page


async def test_the_supplier_finds_invoices_by_the_recipients_registered_name_or_siret(client, accounts, world):
    to_lille = await make_invoice(world.s1, world.r1, number="S-1")
    await _names_in_file(to_lille, buyer="Mairie du Nord")  # the file does not say "Lille"
    await make_invoice(world.s1, world.r2, number="S-2")
    await make_invoice(world.s2, world.r1, number="OTHER-SUPPLIER")
    await accounts.login(world.supplier)

    async def found(q: str) -> list[str]:
        response = await client.get("/invoices", params={"q": q})
        assert response.status_code == 200
        return numbers(response.text)

    assert await found("lille") == ["S-1"]
    assert await found("LILLE commune") == ["S-1"]  # every word, any order and case
    assert await found("hopital nantes") == ["S-2"]  # accents never matter
    assert await found(world.r2.siret) == ["S-2"]
    assert await found(world.r2.siret[:9]) == ["S-2"]  # its SIREN
    assert await found("paris") == []  # the city of both: only names count
    assert await found("S-2") == ["S-2"]  # the number still


async def test_the_agent_finds_invoices_by_supplier_siret_engagement_mandate_and_payment_date(client, accounts, world):
    engaged = await make_invoice(world.s1, world.r1, number="A-ENG", issue_date=date(2026, 3, 3))
    await Invoice.update({Invoice.engagement: "EJ-2026-0042"}).where(Invoice.id == engaged.id)
    await _names_in_file(engaged, seller="Ancien Nom SARL")
    paid = await make_invoice(world.s2, world.r1, number="B-PAID", status="SERVICE_FAIT", amount="300.00", issue_date=date(2026, 3, 2))
    agent = await lifecycle_agent(world)
    await lifecycle.change_status(paid.id, agent, "MANDATEE", expected_version=None, mandate_number="M-2026-118")
    for day, amount in ((date(2026, 4, 15), "100.00"), (date(2026, 5, 2), "200.00")):  # a partial payment, then the rest
        await lifecycle.change_status(paid.id, agent, "MISE_EN_PAIEMENT", expected_version=None,
                                      payment=Payment(day, Decimal(amount)))
    await make_invoice(world.s1, world.r2, number="ELSEWHERE")  # another structure's: never listed
    assert (await Invoice.objects().get(Invoice.id == paid.id)).mandate_number == "M-2026-118"
    assert await InvoicePayment.count().where(InvoicePayment.invoice == paid.id) == 2
    await accounts.login(world.agent)

    async def found(q: str) -> list[str]:
        response = await client.get("/invoices", params={"q": q})
        assert response.status_code == 200
        return numbers(response.text)

    assert await found("menuiserie") == ["A-ENG"]  # the registered name, though the file says otherwise
    assert await found(world.s1.siret) == ["A-ENG"]
    assert await found("ej-2026-0042") == ["A-ENG"] and await found("0042") == ["A-ENG"]
    assert await found("M-2026-118") == ["B-PAID"] and await found("m-2026") == ["B-PAID"]
    assert await found("15/04/2026") == ["B-PAID"]  # the first, partial, payment
    assert await found("2026-05-02") == ["B-PAID"] and await found("02.05.2026") == ["B-PAID"]
    assert await found("16/04/2026") == []
    assert await found("31/02/2026") == []  # not a date: only searched as a number


async def lifecycle_agent(world) -> Actor:
    from backend.accounts.tables import User

    user = await User.objects().get(User.email == world.agent.email)
    return Actor(lifecycle.RECIPIENT, user.id)


async def test_a_search_keeps_keyset_pages(client, accounts, world):
    for day in range(1, 31):
        await make_invoice(world.s2, world.r1, number=f"P-{day:02d}", issue_date=date(2026, 1, day))
    await make_invoice(world.s1, world.r1, number="ANOTHER-15", issue_date=date(2026, 1, 15))
    first = await workspace.list_page(workspace.RECIPIENT, world.r1.id, workspace.Filters(q="plomberie"))
    assert len(first.rows) == workspace.PAGE_SIZE and first.next_cursor
    rest = await workspace.list_page(workspace.RECIPIENT, world.r1.id,
                                     workspace.with_cursor(workspace.Filters(q="plomberie"), first.next_cursor))
    listed = [r["number"] for r in first.rows + rest.rows]
    assert listed == [f"P-{day:02d}" for day in range(30, 0, -1)] and rest.next_cursor is None


async def test_a_new_invoice_row_is_given_only_to_the_lists_it_belongs_to(client, accounts, world):
    arrived = await make_invoice(world.s2, world.r1, number="NEW-1", issue_date=date(2026, 6, 1))
    elsewhere = await make_invoice(world.s1, world.r2, number="NOT-OURS")
    await accounts.login(world.agent)

    async def asked(invoice_id: int, query: str):
        return await client.get(f"/invoices/{invoice_id}/row?new=1&{query}", headers={"HX-Request": "true"})

    row = await asked(arrived.id, "status=a_traiter&q=plomberie")
    assert row.status_code == 200 and f'id="invoice-row-{arrived.id}"' in row.text
    assert f'data-key="2026-06-01_{arrived.id:012d}"' in row.text  # where the page puts it
    assert (await asked(arrived.id, "status=terminees")).status_code == 204  # not in that list
    assert (await asked(arrived.id, "q=menuiserie")).status_code == 204
    hidden = await asked(elsewhere.id, "")
    assert hidden.status_code == 204 and "NOT-OURS" not in hidden.text  # another structure's: nothing said
    listing = (await client.get("/invoices")).text
    assert 'data-live-query=""' in listing and "data-live-start" in listing
