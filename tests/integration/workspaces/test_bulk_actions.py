"""Grouped actions on the agent's list: each invoice through the lifecycle, with the same
checks as one at a time, one history row each, a French summary; never another structure's."""

from __future__ import annotations

from backend.accounts.tables import Membership, User
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.tracking.tables import Event
from tests.integration.workspaces.conftest import make_invoice, person
from tests.support.web import csrf_from


async def _bulk(client, target: str, ids: list[int], confirmed: bool = True, **extra):
    token = csrf_from((await client.get("/invoices")).text)
    data = {"target": target, "invoice": [str(i) for i in ids], "_csrf_token": token, "back": "status=a_traiter", **extra}
    if confirmed:
        data["confirmed"] = "1"
    return await client.post("/invoices/bulk", data=data, follow_redirects=False)


async def _statuses(*invoices) -> list[str]:
    return [(await Invoice.objects().get(Invoice.id == i.id)).status for i in invoices]


async def _history(invoice_id: int, status: str) -> list[dict]:
    return await InvoiceHistory.select().where((InvoiceHistory.invoice == invoice_id) & (InvoiceHistory.status == status))


async def test_the_list_offers_boxes_and_the_action_bar_to_agents_who_process_only(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1)
    await accounts.login(world.agent)
    page = (await client.get("/invoices")).text
    assert f'<input type="checkbox" class="bulk-check" form="bulk-form" name="invoice" value="{invoice.id}">' in page
    assert '<form id="bulk-form" class="bulk-bar" method="post" action="/invoices/bulk"' in page
    for target in ("PRISE_EN_CHARGE", "SERVICE_FAIT", "MANDATEE"):
        assert f'name="target" value="{target}"' in page
    assert "?selectable=1" in (await client.get(f"/invoices/{invoice.id}/row?selectable=1")).text  # the live refresh keeps it
    await accounts.logout()
    await accounts.login(world.supplier)
    assert "bulk-check" not in (await client.get("/invoices")).text


async def test_the_agent_takes_several_invoices_in_charge_after_a_confirmation(client, accounts, world):
    first = await make_invoice(world.s1, world.r1, number="G-1")
    second = await make_invoice(world.s2, world.r1, number="G-2", status="COMPLETEE")
    rejected = await make_invoice(world.s1, world.r1, number="G-3", status="REJETEE")
    await accounts.login(world.agent)

    asked = await _bulk(client, "PRISE_EN_CHARGE", [first.id, second.id, rejected.id], confirmed=False)
    assert asked.status_code == 200
    assert "Prendre en charge : 3 factures" in asked.text and all(n in asked.text for n in ("G-1", "G-2", "G-3"))
    assert f'name="version_{first.id}" value="1"' in asked.text
    assert await _statuses(first, second, rejected) == ["MISE_A_DISPOSITION", "COMPLETEE", "REJETEE"]  # not yet

    done = await _bulk(client, "PRISE_EN_CHARGE", [first.id, second.id, rejected.id],
                       **{f"version_{i.id}": "1" for i in (first, second, rejected)})
    assert done.status_code in (302, 303) and done.headers["location"] == "/invoices?status=a_traiter"
    assert await _statuses(first, second, rejected) == ["PRISE_EN_CHARGE", "PRISE_EN_CHARGE", "REJETEE"]
    agent = await User.objects().get(User.email == world.agent.email)
    for invoice in (first, second):
        rows = await _history(invoice.id, "PRISE_EN_CHARGE")
        assert len(rows) == 1 and rows[0]["actor"] == agent.id and rows[0]["actor_kind"] == "recipient"
    assert await _history(rejected.id, "PRISE_EN_CHARGE") == []
    assert await Event.count().where(Event.kind == "invoice.status_changed") == 2  # each seen live, as one by one
    # The live events refresh fragments (chips, badges) before the browser follows the redirect:
    # they must leave the summary to the page.
    assert (await client.get("/invoices/counters", headers={"HX-Request": "true"})).status_code == 200
    listing = await client.get(done.headers["location"])
    assert ("2 factures prises en charge, 1 refusée : n° G-3 — Cette facture a été rejetée : "
            "son traitement est terminé.") in listing.text


async def test_the_mandate_number_is_asked_once_or_per_invoice(client, accounts, world):
    a, b, c = [await make_invoice(world.s1, world.r1, number=f"M-{n}", status="SERVICE_FAIT") for n in (1, 2, 3)]
    await accounts.login(world.agent)
    asked = await _bulk(client, "MANDATEE", [a.id, b.id, c.id], confirmed=False)
    assert 'name="mandate_number"' in asked.text and f'name="mandate_number_{c.id}"' in asked.text

    done = await _bulk(client, "MANDATEE", [a.id, b.id, c.id], mandate_number="MD-ALL", **{f"mandate_number_{c.id}": "MD-OWN"})
    assert done.status_code in (302, 303)
    assert [(await Invoice.objects().get(Invoice.id == i.id)).mandate_number for i in (a, b, c)] == ["MD-ALL", "MD-ALL", "MD-OWN"]
    for invoice, number in ((a, "MD-ALL"), (c, "MD-OWN")):
        rows = await InvoiceHistory.select().where(
            (InvoiceHistory.invoice == invoice.id) & (InvoiceHistory.status == "MANDATEE")).output(load_json=True)
        assert len(rows) == 1 and rows[0]["details"]["mandate_number"] == number
    assert "3 factures mandatées." in (await client.get("/invoices")).text


async def test_each_invoice_gets_the_checks_of_one_at_a_time(client, accounts, world):
    a = await make_invoice(world.s1, world.r1, number="C-1", status="SERVICE_FAIT")
    b = await make_invoice(world.s1, world.r1, number="C-2", status="SERVICE_FAIT")
    await accounts.login(world.agent)
    await _bulk(client, "MANDATEE", [a.id, b.id])  # no mandate number: refused for each, by the lifecycle's rule
    assert await _statuses(a, b) == ["SERVICE_FAIT", "SERVICE_FAIT"]
    assert ("Aucune facture mandatée, 2 refusées : n° C-1 — Indiquez le numéro de mandat ; "
            "n° C-2 — Indiquez le numéro de mandat.") in (await client.get("/invoices")).text

    # A colleague moved C-2 after the agent saw it: the version the agent saw is stale.
    await Invoice.update({Invoice.version: 2}).where(Invoice.id == b.id)
    await _bulk(client, "MANDATEE", [a.id, b.id], mandate_number="MD-9", **{f"version_{a.id}": "1", f"version_{b.id}": "1"})
    assert await _statuses(a, b) == ["MANDATEE", "SERVICE_FAIT"]
    assert "1 facture mandatée, 1 refusée : n° C-2 — La facture a été modifiée entre-temps" in (await client.get("/invoices")).text


async def test_another_structures_invoice_makes_the_whole_request_404_and_nothing_changes(client, accounts, world):
    ours = await make_invoice(world.s1, world.r1, number="OURS")
    theirs = await make_invoice(world.s1, world.r2, number="THEIRS")  # received by another public structure
    await accounts.login(world.agent)
    for ids in ([ours.id, theirs.id], [theirs.id], [ours.id, 999_999]):
        response = await _bulk(client, "PRISE_EN_CHARGE", ids)
        assert response.status_code == 404 and "THEIRS" not in response.text
        asked = await _bulk(client, "PRISE_EN_CHARGE", ids, confirmed=False)  # not even the confirmation page
        assert asked.status_code == 404 and "THEIRS" not in asked.text
    token = csrf_from((await client.get("/invoices")).text)
    garbled = await client.post("/invoices/bulk", data={"target": "PRISE_EN_CHARGE", "invoice": [str(ours.id), "1;2"],
                                                        "_csrf_token": token, "confirmed": "1"})
    assert garbled.status_code == 404
    assert await _statuses(ours, theirs) == ["MISE_A_DISPOSITION", "MISE_A_DISPOSITION"]
    assert await InvoiceHistory.count().where(InvoiceHistory.status == "PRISE_EN_CHARGE") == 0
    assert await Event.count() == 0

    # The invoice's supplier, and an agent of the structure without the processing right: 404 too.
    for who in (world.supplier, await person(world.r1.id)):
        await accounts.logout()
        await accounts.login(who)
        assert (await _bulk(client, "PRISE_EN_CHARGE", [ours.id])).status_code == 404
    assert await _statuses(ours) == ["MISE_A_DISPOSITION"]


async def test_unusable_requests_get_a_french_422(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1)
    await accounts.login(world.agent)
    cases = [("PRISE_EN_CHARGE", [], "Cochez au moins une facture."),
             ("REJETEE", [invoice.id], "Cette action ne se fait pas sur plusieurs factures à la fois"),
             ("PRISE_EN_CHARGE", list(range(1, 102)), "Sélectionnez au plus 100 factures à la fois.")]
    for target, ids, message in cases:
        response = await _bulk(client, target, ids)
        assert response.status_code == 422 and message in response.text, (target, response.text[:300])
    assert await _statuses(invoice) == ["MISE_A_DISPOSITION"]


async def test_membership_removed_means_nothing_happens(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1)
    await accounts.login(world.agent)
    token = csrf_from((await client.get("/invoices")).text)
    user = await User.objects().get(User.email == world.agent.email)
    await Membership.update({Membership.can_process: False}).where(Membership.user == user.id)
    response = await client.post("/invoices/bulk", data={"target": "PRISE_EN_CHARGE", "invoice": [str(invoice.id)],
                                                         "_csrf_token": token, "confirmed": "1"})
    assert response.status_code == 404
    assert await _statuses(invoice) == ["MISE_A_DISPOSITION"]
    assert await InvoiceHistory.count().where(InvoiceHistory.status == "PRISE_EN_CHARGE") == 0
