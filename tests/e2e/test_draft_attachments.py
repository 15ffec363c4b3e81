"""At 390×844 in Chromium against the real server: a photo attached to a draft is part of the
draft. Chosen, it is kept on the server at once; a send refused by the server, a reload and
the same draft opened on another phone still show it; it is removable; it leaves with the
invoice."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend.directory.tables import Structure
from backend.invoices.tables import Attachment, Invoice
from tests.e2e.conftest import new_person
from tests.e2e.test_capture import JPEG, _public_structure, _vat_of
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000105a2b5f00000000049454e44ae426082")


async def test_a_drafts_photo_survives_a_refused_send_a_reload_and_another_phone(phone, server, shots):
    expect = _expect()
    town = await _public_structure(f"Mairie de Photoville {valid_siret()[:5]}")
    person = new_person("Nina", "Roux", "Roux Maçonnerie")
    page, watch = await phone()
    await sign_up(page, person)
    await confirm_by_mail(page, server, person)
    # An address but no VAT number yet: the server refuses the send (the phone cannot know).
    await Structure.update({Structure.address_line1: "5 rue Haute", Structure.postal_code: "69004", Structure.city: "Lyon",
                            Structure.iban: "FR7630006000011234567890189"}).where(Structure.siret == person.siret)
    await log_in(page, person)
    await page.goto("/capture")
    await page.get_by_role("button", name="Nouvelle facture").click()
    await expect(page).to_have_url(re.compile(r"/capture/\d+$"))
    draft_url = page.url
    await page.get_by_label("Entité publique (nom, SIRET ou ville)").fill("Photoville")
    await page.get_by_role("button", name=re.compile("Mairie de Photoville")).click()
    await page.get_by_label("Service (obligatoire)").select_option("FIN")
    await page.get_by_label("Désignation").fill("Reprise d'un mur de clôture")
    await page.get_by_label("Prix unitaire HT (€)").fill("900")
    await page.get_by_label("Échéance").fill((date.today() + timedelta(days=30)).isoformat())
    await page.get_by_label("Prendre une photo").set_input_files(files=[{"name": "mur.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    attachments = page.locator("#draft-attachments")
    await expect(attachments.get_by_role("link", name="mur.jpg")).to_be_visible()  # kept on the server at once
    await expect(page.get_by_label("Prendre une photo")).to_have_value("")  # and not sent a second time
    await page.get_by_label("Joindre un PDF ou une image").set_input_files(files=[{"name": "erreur.png", "mimeType": "image/png", "buffer": PNG}])
    await expect(attachments.get_by_role("link", name="erreur.png")).to_be_visible()
    await attachments.get_by_role("button", name="Retirer erreur.png").click()  # removable
    await expect(attachments.get_by_role("link", name="erreur.png")).to_have_count(0)
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "draft-attachments.png", full_page=True)

    # Refused by the server: the draft comes back with its photo.
    await page.get_by_role("button", name="Valider et envoyer").click()
    await expect(page).to_have_url(re.compile(r"/capture/\d+\?check=1$"), timeout=30_000)
    await expect(page.get_by_text("Le numéro de TVA intracommunautaire du vendeur est obligatoire").first).to_be_visible()
    await expect(attachments.get_by_role("link", name="mur.jpg")).to_be_visible()
    await page.reload()
    await expect(attachments.get_by_role("link", name="mur.jpg")).to_be_visible()

    # The same draft on another phone: the photo is there too.
    other, other_watch = await phone()
    await log_in(other, person)
    await other.goto(draft_url)
    await expect(other.locator("#draft-attachments").get_by_role("link", name="mur.jpg")).to_be_visible()

    # Profile completed: sent with the photo, chosen once, long before.
    await Structure.update({Structure.vat_number: _vat_of(person.siret[:9])}).where(Structure.siret == person.siret)
    await page.goto(draft_url)
    await page.get_by_role("button", name="Valider et envoyer").click()
    await expect(page).to_have_url(re.compile(r"/invoices/\d+$"), timeout=30_000)
    await expect(page.get_by_role("link", name="mur.jpg")).to_be_visible()
    invoice = await Invoice.objects().get(Invoice.id == int(page.url.rsplit("/", 1)[1]))
    assert [a.filename for a in await Attachment.objects().where(Attachment.invoice == invoice.id)] == ["mur.jpg"]
    assert invoice.recipient == town.id
    assert not watch.page_errors and not other_watch.page_errors
    assert not [e for e in watch.console_errors if "Content Security Policy" in e]
