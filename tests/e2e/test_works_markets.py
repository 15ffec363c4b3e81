"""At 390×844 in Chromium against the real server: a titulaire declares a works market from its
phone (a French error under the field first), then the MOA's gestionnaire finds it under
"Travaux" → "À confirmer" and confirms it."""

from __future__ import annotations

import pytest

from backend.accounts.tables import Membership, User
from backend.directory.tables import Service, Structure
from backend.lib.common import fold
from backend.works.tables import Market
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e


async def _public(name: str, *, services: tuple[str, ...] = ()) -> Structure:
    siret = valid_siret()
    row = Structure(siret=siret, siren=siret[:9], name=f"{name} {siret[:4]}", search_key=fold(name), is_public=True, active=True,
                    requires_service=bool(services))
    await row.save()
    for code in services:
        await Service.insert(Service(structure=row.id, code=code, name=code.title(), active=True))
    return row


async def test_titulaire_declares_and_the_moa_confirms_on_a_phone(phone, server, shots):
    expect = _expect()
    moa = await _public("Commune de Chantier", services=("TRAVAUX",))
    moe = await _public("Agence technique")
    titulaire = new_person("Marc", "Perrin", "Bâtiments Perrin")
    number = f"TX-{titulaire.siret[:6]}"

    page, _ = await _person_in(phone, server, titulaire)
    await expect(page.locator(".bottom-nav").get_by_role("link", name="Travaux")).to_have_count(0)
    await page.get_by_role("link", name="Déclarer un marché de travaux").click()
    form = page.locator("form[action='/works/markets']")
    await expect(form.get_by_label("SIRET du titulaire")).to_have_value(titulaire.siret)
    await form.get_by_label("Numéro du marché").fill(number)
    await form.get_by_label("Objet").fill("Rénovation de la salle des fêtes")
    await form.get_by_label("SIRET du maître d'ouvrage").fill(moa.siret)
    await form.get_by_label("SIRET du maître d'œuvre").fill(moe.siret)
    await form.get_by_label("SIRET de la structure qui paie").fill(moa.siret)
    await form.get_by_role("button", name="Déclarer le marché").click()
    # The MOA requires a service code: said under its field, what was typed kept.
    await expect(page.locator("#e-moa_service")).to_contain_text("exige un code service")
    await expect(page.get_by_label("Numéro du marché")).to_have_value(number)
    await assert_fits_phone(page)
    await page.get_by_label("Code service du maître d'ouvrage").fill("TRAVAUX")
    await page.get_by_label("Code service du payeur").fill("TRAVAUX")
    await page.get_by_role("button", name="Déclarer le marché").click()
    await expect(page.get_by_role("heading", name=f"Marché n° {number}")).to_be_visible()
    await expect(page.locator("[data-market-status]")).to_contain_text("À confirmer par le maître d'ouvrage")
    await expect(page.locator(".bottom-nav").get_by_role("link", name="Travaux")).to_be_visible()  # now an actor
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "works-market-pending.png", full_page=False)

    agent = new_person("Hélène", "Garnier", moa.name, siret=moa.siret)
    agent_page, _ = await _person_in(phone, server, agent)
    user = await User.objects().get(User.email == agent.email)
    await Membership.update({Membership.is_manager: True}).where(Membership.user == user.id)
    await agent_page.locator(".bottom-nav").get_by_role("link", name="Travaux").click()
    to_confirm = agent_page.locator("section[aria-labelledby='confirm-title']")
    await to_confirm.get_by_role("link", name=number).click()
    await agent_page.get_by_role("button", name="Confirmer le marché").click()
    await expect(agent_page.locator("[data-market-status]")).to_contain_text("Actif")
    await assert_fits_phone(agent_page)
    assert (await Market.objects().get(Market.number == number)).status == "active"
