"""At 390×844 in Chromium against the real server: a supplier records that the payment arrived (212)."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from backend.lib.common import paris_today
from tests.e2e.test_signup_join import _expect
from tests.e2e.test_workspaces import _log_in, assert_fits_phone
from tests.integration.workspaces import conftest as ws

pytestmark = pytest.mark.e2e


async def test_supplier_records_a_partial_collection_on_a_phone(phone, server, shots):
    expect = _expect()
    tag = uuid.uuid4().hex[:4]
    supplier = await ws.structure(f"Plomberie Martin {tag}", public=False)
    commune = await ws.structure(f"Commune de Brest {tag}", public=True)
    invoice = await ws.make_invoice(supplier, commune, status="MISE_EN_PAIEMENT", issue_date=date(2026, 9, 1),
                                    amount="1200.00", number=f"F2026-{tag}-212")
    person = await ws.person(supplier.id, can_deposit=True)
    page, _ = await phone()
    await _log_in(page, person)
    await page.goto(f"/invoices/{invoice.id}")
    await page.get_by_text("Enregistrer un encaissement").first.click()
    await page.get_by_label("Date d'encaissement").fill(paris_today().isoformat())
    await page.get_by_label("Montant encaissé (€)").fill("500,00")
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "collection-01-form.png", full_page=True)
    await page.get_by_role("button", name="Enregistrer un encaissement").last.click()
    await expect(page.locator(".status-lg")).to_have_text("Encaissée")
    await expect(page.get_by_text("code 212")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"Encaissement de 500,00"))).to_be_visible()
    # The rest may still be collected: the action stays offered.
    await expect(page.get_by_text("Enregistrer un encaissement").first).to_be_visible()
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "collection-02-done.png", full_page=True)
