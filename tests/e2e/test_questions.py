"""At 390×844 in Chromium against the real server: a supplier asks a public structure a question
from its directory page (no invoice); the structure's agent finds it in Notifications and
answers; the supplier's open page shows the answer live, without a reload."""

from __future__ import annotations

import pytest

from backend.directory.tables import Structure
from backend.lib.common import fold
from backend.messages.tables import Message, MessageThread
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

SUBJECT = "Quel code service pour la voirie ?"


async def test_supplier_asks_from_the_directory_and_sees_the_answer_live(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Questionville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    supplier = new_person("Léa", "Martin", "Martin Électricité")
    agent = new_person("Paul", "Bernard", name, siret=siret)

    # No agent yet: the page says so before anything is typed, and offers no form.
    supplier_page, supplier_watch = await _person_in(phone, server, supplier)
    await supplier_page.goto(f"/directory/{siret}")
    question_card = supplier_page.locator("#question")
    await expect(question_card).to_contain_text("Cette structure n'a encore aucun agent inscrit sur Facteur")
    await expect(question_card.get_by_role("button", name="Envoyer la question")).to_have_count(0)

    # The agent registers; the supplier asks from the directory page.
    agent_page, agent_watch = await _person_in(phone, server, agent)
    await supplier_page.reload()
    await expect(question_card).to_contain_text("1 agent de la structure est inscrit sur Facteur")
    await question_card.get_by_label("Objet").fill(SUBJECT)
    await question_card.get_by_label("Votre question").fill("Bonjour,\nquel code service indiquer pour les travaux de voirie ?")
    await assert_fits_phone(supplier_page)
    await question_card.scroll_into_view_if_needed()
    await supplier_page.screenshot(path=shots / "question-ask.png", full_page=False)
    await question_card.get_by_role("button", name="Envoyer la question").click()
    await expect(supplier_page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    await expect(supplier_page.locator(".message-mine")).to_contain_text("quel code service indiquer")
    question = await MessageThread.objects().where(MessageThread.recipient == town.id).first()
    assert supplier_page.url.endswith(f"/questions/{question.id}")
    await supplier_page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # The agent: the badge, then the question under Notifications, then the answer.
    await expect(agent_page.locator(".bottom-nav .nav-badge")).to_contain_text("1")
    await agent_page.get_by_role("link", name="Notifications").click()
    await expect(agent_page.get_by_role("link", name=SUBJECT)).to_be_visible()
    await assert_fits_phone(agent_page)
    await agent_page.get_by_role("link", name=SUBJECT).click()
    await expect(agent_page.locator(".messages-new")).to_contain_text("1 nouveau message")
    await expect(agent_page.locator(".message-theirs")).to_contain_text("quel code service indiquer")
    await expect(agent_page.locator(".bottom-nav .nav-badge")).to_have_count(0)
    await agent_page.get_by_label("Votre message au fournisseur").fill("Indiquez VOIRIE-01, sans engagement.")
    await agent_page.get_by_role("button", name="Envoyer le message").click()
    await expect(agent_page.locator(".message-mine")).to_contain_text("Indiquez VOIRIE-01")
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "question-answer.png", full_page=False)

    # The supplier's open page shows the answer live (SSE → htmx), in the same document.
    await expect(supplier_page.locator(".message-theirs")).to_contain_text("Indiquez VOIRIE-01, sans engagement.")
    assert await supplier_page.evaluate("window.__sameDocument === true")
    await assert_fits_phone(supplier_page)
    assert await Message.count().where(Message.thread == question.id) == 2

    for watch in (supplier_watch, agent_watch):
        assert watch.page_errors == [], watch.page_errors
        assert watch.console_errors == [], watch.console_errors
    for page in (supplier_page, agent_page):
        assert await page.evaluate("window.__cspViolations") == []
