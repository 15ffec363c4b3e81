"""At 390×844 in Chromium against the real server: the gestionnaire's "Espaces et habilitations" page —
a member's rights set in the grid, copied onto another member, and the member's navigation following."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_signup_join import _expect
from tests.e2e.test_workspaces import _log_in, assert_fits_phone
from tests.integration.workspaces import conftest as ws

pytestmark = pytest.mark.e2e


async def test_gestionnaire_sets_and_copies_rights_on_a_phone(phone, server, shots):
    expect = _expect()
    company = await ws.structure(f"Menuiserie Espaces {uuid.uuid4().hex[:4]}", public=False)
    manager = await ws.person(company.id, is_manager=True, can_deposit=True, is_principal=True)
    member = await ws.person(company.id, can_deposit=True)
    newcomer = await ws.person(company.id)

    page, watch = await phone()
    await _log_in(page, manager)
    await page.goto(f"/structures/{company.id}/spaces")
    await expect(page.get_by_role("heading", name="Espaces et habilitations")).to_be_visible()
    await expect(page.get_by_text("gestionnaire principal", exact=True)).to_be_visible()
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "spaces-01-grid.png", full_page=True)

    # The member keeps consultation only in "Factures émises".
    row = page.locator("li.member", has_text=member.email)
    await row.get_by_label(f"Factures émises — {member.email}").select_option("consultation")
    await row.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_text("Habilitations mises à jour.")).to_be_visible()
    row = page.locator("li.member", has_text=member.email)
    await expect(row.get_by_label(f"Factures émises — {member.email}")).to_have_value("consultation")

    # …and the newcomer gets exactly the same rights.
    source = await page.locator("select[name=from] option", has_text=member.email).get_attribute("value")
    target = await page.locator("select[name=to] option", has_text=newcomer.email).get_attribute("value")
    await page.get_by_label("Copier les droits de").select_option(source)
    await page.get_by_label("vers").select_option(target)
    await page.get_by_role("button", name="Copier").click()
    await expect(page.get_by_text("Habilitations copiées.")).to_be_visible()
    await expect(page.locator("li.member", has_text=newcomer.email).get_by_label(f"Factures émises — {newcomer.email}")).to_have_value("consultation")
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "spaces-02-copied.png", full_page=True)

    # The newcomer's navigation shows invoices to read, no capture.
    page2, _ = await phone()
    await _log_in(page2, newcomer)
    nav = page2.get_by_role("navigation", name="Navigation principale")
    await expect(nav.get_by_role("link", name="Factures")).to_be_visible()
    await expect(nav.get_by_role("link", name="Saisir")).to_have_count(0)
    assert not watch.page_errors
