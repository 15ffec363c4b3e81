"""At 390×844 in Chromium against the real server: a micro-entrepreneur under the VAT franchise
(art. 293 B du CGI), with no VAT number, ticks it once in the profile, then captures a 0 % invoice
on the phone and sends it: 0 % and the exemption reason are already chosen."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from tests.e2e.conftest import new_person
from tests.e2e.test_capture import _public_structure
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

MENTION = "TVA non applicable, art. 293 B du CGI"


async def test_a_supplier_under_the_franchise_sends_a_zero_rate_invoice_from_the_phone(phone, server, shots):
    expect = _expect()
    town = await _public_structure(f"Mairie de Franchiseville {valid_siret()[:5]}")
    person = new_person("Inès", "Roux", "Roux Cours Particuliers")
    page, watch = await phone()
    await sign_up(page, person)
    await confirm_by_mail(page, server, person)
    await log_in(page, person)
    structure = await Structure.objects().get(Structure.siret == person.siret)

    # Once, in the profile's first-run guide: the address, the bank account, and the franchise,
    # which stands for the VAT number.
    await page.goto(server.url(f"/structures/{structure.id}/profile?guide=1"))
    await page.get_by_label("Adresse", exact=True).fill("5 place du Marché")
    await page.get_by_label("Code postal").fill("69004")
    await page.get_by_label("Ville").fill("Lyon")
    await page.get_by_label("Franchise en base de TVA (art. 293 B du CGI)").check()
    await page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 189")
    await assert_fits_phone(page)
    await page.get_by_role("button", name="Enregistrer et continuer").click()
    await expect(page).to_have_url(re.compile(r"/capture$"))
    await expect(page.get_by_text("Profil complet : vous pouvez saisir votre première facture.")).to_be_visible()
    assert (await Structure.objects().get(Structure.id == structure.id)).vat_franchise

    # A new invoice: 0 % and the franchise's reason are already there.
    await page.get_by_role("button", name="Nouvelle facture").click()
    await expect(page).to_have_url(re.compile(r"/capture/\d+$"))
    await page.get_by_label("Entité publique (nom, SIRET ou ville)").fill("Franchiseville")
    await page.get_by_role("button", name=re.compile("Mairie de Franchiseville")).click()
    await page.get_by_label("Service (obligatoire)").select_option("FIN")
    await page.get_by_label("Désignation").fill("Cours de mathématiques")
    await page.get_by_label("Quantité").fill("4")
    await page.get_by_label("Prix unitaire HT (€)").fill("35,50")
    await expect(page.get_by_label("TVA", exact=True)).to_have_value("0")
    reason = page.get_by_label("Motif d'exonération de TVA")
    await expect(reason).to_be_visible()
    await expect(reason).to_have_value("VATEX-FR-FRANCHISE")
    await expect(reason.locator("option:checked")).to_have_text(f"{MENTION} (VATEX-FR-FRANCHISE)")
    await page.get_by_label("TVA", exact=True).select_option("20")  # the reason is asked only at 0 %
    await expect(reason).to_be_hidden()
    await page.get_by_label("TVA", exact=True).select_option("0")
    await expect(reason).to_be_visible()
    await expect(page.locator("#totals")).to_contain_text(MENTION)  # recomputed by the server as typed
    await expect(page.locator("#totals .total-due")).to_contain_text("142,00")
    await page.get_by_label("Échéance").fill((date.today() + timedelta(days=30)).isoformat())
    await assert_fits_phone(page)
    await reason.scroll_into_view_if_needed()
    await page.screenshot(path=shots / "capture-franchise.png", full_page=False)

    await page.get_by_role("button", name="Valider et envoyer").click()
    await expect(page).to_have_url(re.compile(r"/invoices/\d+$"), timeout=30_000)
    await expect(page.locator("#invoice-live-status .status")).to_have_text("Mise à disposition")

    invoice = await Invoice.objects().get(Invoice.id == int(page.url.rsplit("/", 1)[1]))
    assert invoice.recipient == town.id and invoice.profile == "en16931"
    assert str(invoice.amount_due) in ("142", "142.0", "142.00")
    data = str(invoice.data)
    assert "VATEX-FR-FRANCHISE" in data and MENTION in data  # BT-121 and BT-120 of the file, as read back
    assert not watch.page_errors and not [e for e in watch.console_errors if "Content Security Policy" in e]
