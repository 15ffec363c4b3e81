"""At 390×844 in Chromium against the real server: both workspaces, filters with htmx, the invoice page."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from tests.e2e.conftest import save_docs_screenshot
from tests.e2e.test_signup_join import _expect
from tests.e2e.test_signup_join import assert_fits_phone as _fits

_WIDEST = """() => [...document.querySelectorAll('body *')].map(e => [e.getBoundingClientRect().right, e.tagName + '.' + e.className])
  .sort((a, b) => b[0] - a[0]).slice(0, 5)"""


async def assert_fits_phone(page) -> None:
    """No horizontal scrolling at 390 px; on failure, say which elements stick out."""
    try:
        await _fits(page)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; widest: {await page.evaluate(_WIDEST)}") from None
from tests.integration.workspaces import conftest as ws

pytestmark = pytest.mark.e2e


async def _log_in(page, person) -> None:
    await page.goto("/login")
    await page.get_by_label("Adresse e-mail").fill(person.email)
    await page.get_by_label("Mot de passe").fill(person.password)
    await page.get_by_role("button", name="Se connecter").click()
    await _expect()(page).to_have_url(re.compile(r"/$"))


async def _world():
    tag = uuid.uuid4().hex[:4]
    supplier = await ws.structure(f"Menuiserie Dupont {tag}", public=False)
    commune = await ws.structure(f"Commune de Lille {tag}", public=True, services=("VOIRIE", "ECOLES"))
    hospital = await ws.structure(f"Hôpital de Nantes {tag}", public=True, reports_payment=False)
    statuses = ["SUSPENDUE", "REJETEE", "A_RECYCLER", "PRISE_EN_CHARGE", "MANDATEE", "MISE_EN_PAIEMENT",
                "MISE_A_DISPOSITION", "COMPLETEE", "SERVICE_FAIT"] * 4
    invoices = []
    for n, status in enumerate(statuses):
        recipient = hospital if status == "MANDATEE" else commune
        invoices.append(await ws.make_invoice(supplier, recipient, status=status, issue_date=date(2026, 1 + n % 10, 1 + n % 28),
                                              amount=f"{(n + 1) * 137.5:.2f}", number=f"F2026-{tag}-{n:03d}",
                                              service_code="VOIRIE" if n % 2 else "ECOLES"))
    return supplier, commune, invoices, await ws.person(supplier.id, can_deposit=True, is_manager=True), await ws.person(commune.id, can_process=True)


async def test_supplier_and_agent_workspaces_on_a_phone(phone, server, shots):
    expect = _expect()
    supplier, commune, invoices, supplier_person, agent = await _world()
    page, watch = await phone()
    await _log_in(page, supplier_person)
    await expect(page.get_by_role("heading", name="Synthèse de vos factures")).to_be_visible()
    await expect(page.get_by_text("ne communique jamais la mise en paiement")).to_be_visible()
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "ws-01-supplier-home.png", full_page=True)
    save_docs_screenshot(shots / "ws-01-supplier-home.png", "phone-supplier-home.png")

    await page.goto("/invoices")
    await expect(page.locator(".inv-row")).to_have_count(25)
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "ws-02-supplier-list.png")
    save_docs_screenshot(shots / "ws-02-supplier-list.png", "phone-supplier-invoices.png")

    # A chip filters with htmx: the list changes, the URL follows, no full reload.
    await page.evaluate("window.__marker = 1")
    await page.locator("label.chip", has_text="À traiter").click()
    await expect(page).to_have_url(re.compile(r"status=a_traiter"))
    await expect(page.locator(".inv-row")).to_have_count(12)  # 4 suspended, 4 to recycle, 4 rejections not acknowledged
    assert await page.evaluate("window.__marker") == 1
    await page.get_by_text("Plus de filtres").click()
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "ws-03-supplier-filters.png", full_page=True)

    await page.locator(".inv-row a").first.click()
    await expect(page.get_by_role("heading", name=re.compile(r"Facture n° F2026-"))).to_be_visible()
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "ws-04-supplier-invoice.png", full_page=True)

    agent_page, agent_watch = await phone()
    await _log_in(agent_page, agent)
    await expect(agent_page.get_by_role("heading", name="Ce qui vous attend")).to_be_visible()
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "ws-05-agent-home.png", full_page=True)
    await agent_page.goto("/invoices")
    await expect(agent_page.get_by_role("heading", name="Factures reçues")).to_be_visible()
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "ws-06-agent-list.png")
    save_docs_screenshot(shots / "ws-06-agent-list.png", "phone-agent-invoices.png")
    taken = next(i for i in invoices if i.status == "PRISE_EN_CHARGE")
    await agent_page.goto(f"/invoices/{taken.id}")
    await agent_page.get_by_text("Rejeter").first.click()
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "ws-07-agent-invoice.png", full_page=True)
    for w in (watch, agent_watch):
        assert not w.page_errors, w.page_errors
        assert not [e for e in w.console_errors if "Content Security Policy" in e], w.console_errors
