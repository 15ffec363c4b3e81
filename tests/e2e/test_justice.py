"""At 390×844 in Chromium against the real server: an expert captures a mémoire de frais de justice
on the phone, with a photo of the ordonnance, and sends it; the juridiction's agent finds it among
the mémoires received, with the decision, the mission and the photo, and takes it in charge: the
expert's open list of mémoires shows the new status live."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend.accounts.tables import Membership, User
from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.lib.common import fold
from tests.e2e.conftest import new_person
from tests.e2e.test_capture import _vat_of
from tests.e2e.test_draft_attachments import PNG
from tests.e2e.test_messages import _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e


async def test_an_expert_sends_a_memoire_with_a_photo_of_the_ordonnance_and_the_court_sees_it(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Tribunal judiciaire de Mémoireville {siret[:4]}"
    court = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True,
                      address_line1="1 place du Palais", postal_code="69003", city="Lyon")
    await court.save()
    await juridictions.register(court.id, "tribunal_judiciaire", f"TJ{siret[:6]}")
    expert = new_person("Claire", "Lefèvre", "Lefèvre Expertises")
    number = f"MJ-{expert.siret[:6]}"
    today = date.today()

    page, _ = await _person_in(phone, server, expert)
    await Structure.update({Structure.address_line1: "8 rue Mercière", Structure.postal_code: "69002", Structure.city: "Lyon",
                            Structure.vat_number: _vat_of(expert.siret[:9]), Structure.iban: "FR7630006000011234567890189"}
                           ).where(Structure.siret == expert.siret)
    await page.goto("/justice")
    await page.get_by_role("button", name="Nouveau mémoire").click()
    await expect(page).to_have_url(re.compile(r"/justice/drafts/\d+$"))
    await expect(page.get_by_text("dans l'année qui suit la fin de la mission")).to_be_visible()  # the form says so
    await page.get_by_label("Juridiction nommée sur la décision").select_option(siret)
    await page.get_by_label("Numéro du mémoire").fill(number)
    await page.get_by_role("radio", name="Ordonnance").check()
    await page.get_by_label("Référence de la décision").fill("ORD-2026-77")
    await page.get_by_label("Date de la décision").fill((today - timedelta(days=40)).isoformat())
    await page.get_by_label("Magistrat ou officier").fill("Mme Girard, juge d'instruction")
    await page.get_by_label("Début").fill((today - timedelta(days=30)).isoformat())
    await page.get_by_label("Fin", exact=True).fill((today - timedelta(days=10)).isoformat())
    await page.get_by_label("Lieu").fill("Lyon")
    await page.get_by_label("Désignation").fill("Expertise comptable")
    await page.get_by_label("Quantité").fill("6")
    await page.get_by_label("Prix unitaire HT (€)").fill("95")
    await page.get_by_label("La décision (photo ou PDF").set_input_files(files=[{"name": "ordonnance.png", "mimeType": "image/png", "buffer": PNG}])
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "justice-capture.png", full_page=True)
    await page.get_by_role("button", name="Envoyer le mémoire").click()
    await expect(page).to_have_url(re.compile(r"/invoices/\d+$"), timeout=30_000)
    await expect(page.get_by_role("heading", name=f"Mémoire n° {number}")).to_be_visible()
    await expect(page.locator("#memoire")).to_contain_text("Ordonnance n° ORD-2026-77")
    await assert_fits_phone(page)
    await page.goto("/justice")  # the expert's list stays open while the court processes the mémoire
    await expect(page.locator("#justice-live")).to_contain_text("Mise à disposition")
    await page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    agent = new_person("Nadia", "Perret", name, siret=siret)
    agent_page, _ = await _person_in(phone, server, agent)
    user = await User.objects().get(User.email == agent.email)
    await Membership.update({Membership.can_process: True}).where(Membership.user == user.id)
    await agent_page.goto("/justice")
    await expect(agent_page.get_by_role("heading", name=re.compile("Mémoires reçus"))).to_be_visible()
    await agent_page.get_by_role("link", name=f"Mémoire n° {number}").click()
    await expect(agent_page.locator("#memoire")).to_contain_text("Mme Girard, juge d'instruction")
    await expect(agent_page.get_by_role("link", name="ordonnance.png")).to_be_visible()
    await expect(agent_page.locator("#actions")).to_contain_text("Prendre en charge")
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "justice-received.png", full_page=False)

    # The agent takes it in charge: the expert's open list says so live (SSE → htmx), without a reload.
    await agent_page.locator("#actions summary", has_text="Prendre en charge").click()
    await agent_page.locator("#actions").get_by_role("button", name="Prendre en charge").click()
    await expect(page.locator("#justice-live")).to_contain_text("Prise en charge", timeout=15_000)
    assert await page.evaluate("window.__sameDocument === true")
