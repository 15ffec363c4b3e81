"""At 390×844 in Chromium against the real server: capture an invoice with a photo and send it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend.lib.common import fold
from backend.directory.tables import Service, Structure
from backend.invoices.tables import Attachment, Invoice
from tests.e2e.conftest import new_person, save_docs_screenshot
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

# A tiny but real JPEG header: the server checks the type by content, not by name.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\x08" * 64 + bytes.fromhex("ffd9")


def _vat_of(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


async def _public_structure(name: str) -> Structure:
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(f"{name} 69100 Villebourg"),
                          is_public=True, requires_service=True, active=True,
                          address_line1="Place de la Mairie", postal_code="69100", city="Villebourg")
    await structure.save()
    await Service.insert(Service(structure=structure.id, code="FIN", name="Direction des finances", active=True))
    return structure


async def test_capture_an_invoice_with_a_photo_and_send_it(phone, server, shots):
    expect = _expect()
    town = await _public_structure(f"Mairie de Capturville {valid_siret()[:5]}")
    person = new_person("Hugo", "Petit", "Petit Plomberie")
    page, watch = await phone()
    await sign_up(page, person)
    await confirm_by_mail(page, server, person)
    await Structure.update({
        Structure.address_line1: "3 rue du Port", Structure.postal_code: "69007", Structure.city: "Lyon",
        Structure.vat_number: _vat_of(person.siret[:9]), Structure.iban: "FR7630006000011234567890189", Structure.bic: "AGRIFRPP",
    }).where(Structure.siret == person.siret)
    await log_in(page, person)

    await page.get_by_role("link", name="Saisir").click()
    await page.get_by_role("button", name="Nouvelle facture").click()
    await expect(page).to_have_url(re.compile(r"/capture/\d+$"))
    await page.get_by_label("Entité publique (nom, SIRET ou ville)").fill("Capturville")
    await page.get_by_role("button", name=re.compile("Mairie de Capturville")).click()
    await page.get_by_label("Service (obligatoire)").select_option("FIN")
    await page.get_by_label("Désignation").fill("Remplacement d'un chauffe-eau")
    await page.get_by_label("Quantité").fill("1")
    await page.get_by_label("Prix unitaire HT (€)").fill("480,00")
    await expect(page.locator("#totals")).to_contain_text("576,00")  # recomputed by the server as typed
    await page.get_by_label("Échéance").fill((date.today() + timedelta(days=30)).isoformat())
    await page.get_by_label("Prendre une photo").set_input_files(
        files=[{"name": "chantier.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
    )
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "capture-form.png", full_page=False)
    save_docs_screenshot(shots / "capture-form.png", "phone-capture.png")

    await page.get_by_role("button", name="Valider et envoyer").click()
    await expect(page).to_have_url(re.compile(r"/invoices/\d+$"), timeout=30_000)
    await expect(page.locator("#invoice-live-status .status")).to_have_text("Mise à disposition")  # 2026 code 203 beside it
    await expect(page.locator("#invoice-live-status")).to_contain_text("code 203")
    await expect(page.get_by_role("link", name="chantier.jpg")).to_be_visible()

    invoice_id = int(page.url.rsplit("/", 1)[1])
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    assert invoice.recipient == town.id and invoice.service_code == "FIN"
    assert invoice.format == "facturx-pdf" and invoice.profile == "en16931"
    assert [a.filename for a in await Attachment.objects().where(Attachment.invoice == invoice_id)] == ["chantier.jpg"]
    assert not watch.page_errors and not [e for e in watch.console_errors if "Content Security Policy" in e]
