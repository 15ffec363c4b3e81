"""At 390×844 in Chromium against the real server: a new supplier's first run. Sign up,
confirm, log in: the home page guides through the profile (what is needed to invoice, in
order, with progress); once it is complete, the capture page says nothing is missing."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import new_person
from tests.e2e.test_capture import _vat_of
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up

pytestmark = pytest.mark.e2e


async def test_sign_up_then_the_guided_profile_then_capture_has_nothing_missing(phone, server, shots):
    expect = _expect()
    person = new_person("Léa", "Garnier", "Garnier Menuiserie")
    page, watch = await phone()
    await sign_up(page, person)
    await confirm_by_mail(page, server, person)
    await log_in(page, person)

    # The first visit: what is needed to invoice, before anything is typed.
    first = page.locator(".first-steps")
    await expect(first.get_by_role("heading", name="Premiers pas : votre profil pour facturer")).to_be_visible()
    await expect(first).to_contain_text("1 étape sur 4 pour pouvoir facturer")
    await expect(first.locator("li.todo")).to_have_text([re.compile(r"^\s*Adresse"), re.compile(r"^\s*N° de TVA"), re.compile(r"^\s*Coordonnées bancaires")])
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "first-run-home.png", full_page=True)
    await page.get_by_role("link", name="Saisir").click()  # the capture page says it too, with the way to fix it
    await expect(page.locator("[data-profile-missing]")).to_contain_text("Il manque")
    await page.locator("[data-profile-missing]").get_by_role("link", name="Compléter le profil").click()

    # The guide: the steps in order, saved one at a time, the progress following.
    await expect(page).to_have_url(re.compile(r"/structures/\d+/profile\?guide=1$"))
    await expect(page.get_by_role("heading", name="Premiers pas : ce qu'il faut pour facturer")).to_be_visible()
    await expect(page.locator("progress")).to_have_attribute("value", "1")
    await page.get_by_label("Adresse", exact=True).fill("14 rue des Charpentiers")
    await page.get_by_label("Code postal").fill("44000")
    await page.get_by_label("Ville").fill("Nantes")
    await assert_fits_phone(page)
    await page.get_by_role("button", name="Enregistrer et continuer").click()
    await expect(page).to_have_url(re.compile(r"/profile\?guide=1#etape-vat$"))
    await expect(page.get_by_text("Enregistré. Il reste 2 étapes")).to_be_visible()
    await expect(page.locator("progress")).to_have_attribute("value", "2")
    await page.get_by_label("N° de TVA intracommunautaire").fill(_vat_of(person.siret[:9]))
    await page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 189")
    await page.screenshot(path=shots / "first-run-guide.png", full_page=True)
    await page.get_by_role("button", name="Enregistrer et continuer").click()

    # Complete: straight to the capture page, which no longer says anything is missing.
    await expect(page).to_have_url(re.compile(r"/capture$"))
    await expect(page.get_by_text("Profil complet : vous pouvez saisir votre première facture.")).to_be_visible()
    await expect(page.locator("[data-profile-missing]")).to_have_count(0)
    await page.get_by_role("button", name="Nouvelle facture").click()
    await expect(page).to_have_url(re.compile(r"/capture/\d+$"))
    await expect(page.get_by_role("heading", name="Saisir une facture")).to_be_visible()
    await expect(page.locator("[data-profile-missing]")).to_have_count(0)
    await page.goto("/")
    await expect(page.locator(".first-steps")).to_have_count(0)
    assert not watch.page_errors and not [e for e in watch.console_errors if "Content Security Policy" in e]
