"""At 390×844 in Chromium against the real server: an agent keeps « Factures reçues » open, a
supplier deposits a new invoice, and it appears in the agent's list as a row, in its place
(by issue date), with the supplier's registered name — without a reload. Then the agent
ticks it with another one and takes both in charge from the action bar."""

from __future__ import annotations

import secrets
from datetime import date

import pytest

from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.lib.common import fold
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _invoice_between, _person_in
from tests.e2e.test_realtime import _live
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.support.accounts import valid_siret
from tests.unit.validation.invoice_builders import cii_bytes, facturx_pdf, invoice_data

pytestmark = pytest.mark.e2e


def _vat_number(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _deposit_file(number: str, supplier_siret: str, town: Structure, issue_date: date) -> bytes:
    """A Factur-X invoice from the supplier to the town, whose file calls the supplier otherwise."""
    data = invoice_data(**{"BT-1": number, "BT-2": issue_date, "BT-9": date(2026, 12, 31)})
    for routing in ("BT-10", "BT-13"):  # the town asks for neither
        data.pop(routing)
    data["BG-4"] |= {"name": "MOREAU PEINTURE ET FILS SAS", "identifiers": {"0009": supplier_siret},
                     "legal_identifier": supplier_siret[:9], "vat_identifier": _vat_number(supplier_siret[:9]),
                     "einvoicing_addr": supplier_siret}
    data["BG-7"] |= {"name": town.name, "identifiers": {"0009": town.siret}, "legal_identifier": town.siret[:9],
                     "einvoicing_addr": town.siret}
    return facturx_pdf(cii_bytes(data))


async def _dated(invoice: Invoice, day: date) -> None:
    await Invoice.update({Invoice.issue_date: day}).where(Invoice.id == invoice.id)


async def test_a_new_deposit_appears_live_in_place_in_the_agents_list(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Listeville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    supplier = new_person("Inès", "Moreau", "Moreau Peinture")
    agent = new_person("Marc", "Lefèvre", name, siret=siret)
    supplier_page, supplier_watch = await _person_in(phone, server, supplier)
    newer = await _invoice_between(supplier.siret, town)
    older = await _invoice_between(supplier.siret, town)
    await _dated(newer, date(2026, 11, 20))
    await _dated(older, date(2026, 10, 20))
    agent_page, agent_watch = await _person_in(phone, server, agent)
    agent_user = await User.objects().get(User.email == agent.email)
    await Membership.update({Membership.can_process: True}).where(Membership.user == agent_user.id)

    # The agent keeps « Factures reçues » open.
    await agent_page.goto("/invoices")
    rows = agent_page.locator("ul.inv-list > li.inv-row")
    await expect(rows).to_have_count(2)
    await _live(agent_page)
    await agent_page.evaluate("window.__notReloaded = true")

    # The supplier deposits a new invoice, issued between the two.
    number = f"F-LIVE-{secrets.token_hex(3).upper()}"
    await supplier_page.goto("/deposits")
    await supplier_page.get_by_label("Factures", exact=True).set_input_files(
        files=[{"name": f"{number}.pdf", "mimeType": "application/pdf",
                "buffer": _deposit_file(number, supplier.siret, town, date(2026, 11, 2))}])
    await supplier_page.get_by_role("button", name="Déposer").click()
    await expect(supplier_page.get_by_text("Intégré").first).to_be_visible()
    deposited = await Invoice.objects().get(Invoice.number == number)

    # It appears in the agent's list, in its place, without a reload.
    await expect(rows).to_have_count(3, timeout=5_000)
    assert await agent_page.evaluate("window.__notReloaded === true")
    ids = [await r.get_attribute("id") for r in await rows.all()]
    assert ids == [f"invoice-row-{newer.id}", f"invoice-row-{deposited.id}", f"invoice-row-{older.id}"]
    row = agent_page.locator(f"#invoice-row-{deposited.id}")
    await expect(row).to_contain_text(number)
    await expect(row).to_contain_text("de Moreau Peinture")  # the registered name…
    await expect(row).to_contain_text("nom dans la facture : MOREAU PEINTURE ET FILS SAS")  # …and the file's, flagged
    await expect(row).to_contain_text("Mise à disposition")
    await expect(agent_page.locator("#invoice-chips")).to_contain_text("Nouvelles 3", timeout=5_000)
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "live-new-row.png", full_page=False)

    # Two ticked boxes: the bar shows above the bottom navigation, asks for confirmation, acts on both.
    bar = agent_page.locator("#bulk-form")
    await expect(bar).to_be_hidden()
    await row.get_by_label(f"Sélectionner la facture n° {number}").check()
    await agent_page.locator(f"#invoice-row-{older.id}").get_by_role("checkbox").check()
    await expect(bar).to_be_visible()
    await expect(bar).to_contain_text("2 factures sélectionnées")
    box = await bar.bounding_box()
    nav = await agent_page.locator("nav.bottom-nav").bounding_box()
    assert box["y"] + box["height"] <= nav["y"] + 1, (box, nav)
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "bulk-bar.png", full_page=False)
    await bar.get_by_role("button", name="Prendre en charge").click()
    await expect(agent_page.get_by_role("heading", name="Prendre en charge : 2 factures")).to_be_visible()
    await assert_fits_phone(agent_page)
    await agent_page.get_by_role("button", name="Confirmer").click()
    await expect(agent_page.locator(".flash")).to_have_text("2 factures prises en charge.")
    for invoice_id in (deposited.id, older.id):
        assert (await Invoice.objects().get(Invoice.id == invoice_id)).status == "PRISE_EN_CHARGE"
    assert (await Invoice.objects().get(Invoice.id == newer.id)).status == "MISE_A_DISPOSITION"

    for watch in (supplier_watch, agent_watch):
        assert watch.page_errors == [], watch.page_errors
        assert not [e for e in watch.console_errors if "Content Security Policy" in e]
    assert await agent_page.evaluate("window.__cspViolations") == []
