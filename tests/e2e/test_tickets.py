"""At 390×844 in Chromium against the real server: a supplier asks a public structure a question
through a ticket (category "Factures émises → Question pour une entité publique"); the structure's
agent takes it and answers; the supplier's open ticket page shows the answer live, without a reload."""

from __future__ import annotations

import pytest

from backend.directory.tables import Structure
from backend.lib.common import fold
from backend.tickets.tables import Ticket, TicketEntry
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

SUBJECT = "Quel code service pour la cantine ?"


async def test_supplier_asks_a_structure_through_a_ticket_and_sees_the_answer_live(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Ticketville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    supplier = new_person("Léa", "Martin", "Martin Traiteur")
    agent = new_person("Paul", "Bernard", name, siret=siret)
    agent_page, agent_watch = await _person_in(phone, server, agent)
    supplier_page, supplier_watch = await _person_in(phone, server, supplier)

    # The supplier opens a ticket to the structure, chosen by its SIRET.
    await supplier_page.goto("/tickets/new")
    await supplier_page.get_by_label("Catégorie").select_option(label="Factures émises → Question pour une entité publique")
    await supplier_page.get_by_label("SIRET de la structure publique").fill(siret)
    await supplier_page.get_by_label("Objet").fill(SUBJECT)
    await supplier_page.get_by_label("Votre demande").fill("Bonjour,\nquel code service pour les repas de la cantine ?")
    await assert_fits_phone(supplier_page)
    await supplier_page.get_by_role("button", name="Envoyer le ticket").click()
    await expect(supplier_page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    await expect(supplier_page.locator("#ticket-status")).to_have_text("En attente de prise en charge")
    ticket = await Ticket.objects().where(Ticket.receiver_structure == town.id).first()
    assert supplier_page.url.endswith(f"/tickets/{ticket.id}")
    await supplier_page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # The agent finds it among the received tickets, takes it, answers.
    await agent_page.goto("/tickets/received")
    await agent_page.get_by_role("link", name=SUBJECT).click()
    await agent_page.get_by_role("button", name="Prendre en charge").click()
    await expect(agent_page.locator("#ticket-status")).to_have_text("Pris en charge")
    await expect(supplier_page.locator("#ticket-status")).to_have_text("Pris en charge")  # live already
    await agent_page.get_by_label("Message").fill("Indiquez CANTINE-02.")
    await assert_fits_phone(agent_page)
    await agent_page.get_by_role("button", name="Répondre").click()
    await expect(agent_page.locator("#ticket-status")).to_have_text("Répondu")
    await agent_page.screenshot(path=shots / "ticket-answer.png", full_page=False)

    # The supplier's open page shows the answer live (SSE → htmx), in the same document.
    await expect(supplier_page.locator("#ticket-steps")).to_contain_text("Indiquez CANTINE-02.")
    await expect(supplier_page.locator("#ticket-status")).to_have_text("Répondu")
    assert await supplier_page.evaluate("window.__sameDocument === true")
    await expect(supplier_page.get_by_role("button", name="Rouvrir")).to_be_visible()
    await assert_fits_phone(supplier_page)
    assert await TicketEntry.count().where(TicketEntry.ticket == ticket.id) == 3

    for watch in (supplier_watch, agent_watch):
        assert watch.page_errors == [], watch.page_errors
        assert watch.console_errors == [], watch.console_errors
    for page in (supplier_page, agent_page):
        assert await page.evaluate("window.__cspViolations") == []
