"""Capture through the web: drafts, live totals, recipient choice, sending as a Factur-X."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from backend.directory.tables import Structure
from backend.lib.common import paris_today
from backend.invoices.tables import Attachment, Deposit, Invoice, InvoiceDraft
from backend.invoices.validation import validate_bytes
from tests.support.web import csrf_from, post_form
from tests.unit.validation.invoice_builders import SELLER_SIRET

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\x08" * 64 + bytes.fromhex("ffd9")


async def _complete_profile() -> None:
    await Structure.update({
        Structure.address_line1: "12 rue des Artisans", Structure.postal_code: "69003", Structure.city: "Lyon",
        Structure.iban: "FR7630006000011234567890189", Structure.bic: "AGRIFRPP", Structure.vat_number: "FR44732829320",
    }).where(Structure.siret == SELLER_SIRET)


async def _new_draft(client) -> tuple[int, str]:
    response = await post_form(client, "/capture", "/capture/drafts", {})
    draft_id = int(str(response.url).rstrip("/").rsplit("/", 1)[1])
    return draft_id, csrf_from(response.text)


def _fields(siret: str, **overrides: str) -> dict[str, str]:
    fields = {
        "recipient_siret": siret, "service_code": "SERVICE-COMPTA", "engagement": "",
        "billing_framework": "A1", "type_code": "380", "number": "F2026-0001",
        "issue_date": date.today().isoformat(), "due_date": "2030-01-31",
        "line-0-description": "Réparation porte", "line-0-quantity": "2", "line-0-unit_code": "C62",
        "line-0-unit_price": "150,50", "line-0-vat_rate": "20", "line-0-exemption_reason": "",
        "line-1-description": "Fournitures", "line-1-quantity": "1", "line-1-unit_code": "C62",
        "line-1-unit_price": "40", "line-1-vat_rate": "5.5", "line-1-exemption_reason": "",
    }
    return fields | overrides


async def test_draft_is_saved_as_typed_and_totals_follow(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    page = await client.get(f"/capture/{draft_id}")
    assert f'value="F{paris_today().year}-0001"' in page.text  # the suggested first number
    response = await client.post(f"/capture/{draft_id}", data={**_fields(recipient.siret), "_csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.text.replace("\u202f", " ").replace("\xa0", " ")
    assert "403,40 €" in text and "60,20 €" in text and "2,20 €" in text
    resumed = await client.get(f"/capture/{draft_id}")  # another device: same draft, same values
    assert 'value="Fournitures"' in resumed.text and "Commune de Paris" in resumed.text


async def test_choosing_the_recipient_shows_its_services_and_requirements(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    found = await client.get(f"/capture/recipients?q=paris&draft_id={draft_id}")
    assert recipient.siret in found.text
    chosen = await client.post(f"/capture/{draft_id}/recipient", data={"choose_siret": recipient.siret, "_csrf_token": token})
    assert "SERVICE-COMPTA" in chosen.text and "Service (obligatoire)" in chosen.text
    assert "ANCIEN" not in chosen.text  # inactive services are not offered
    draft = await InvoiceDraft.objects().get(InvoiceDraft.id == draft_id)
    assert recipient.siret in str(draft.form)


async def test_sending_builds_a_valid_facturx_with_the_photo(client, supplier, recipient, settings):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    response = await client.post(
        f"/capture/{draft_id}/send", data={**_fields(recipient.siret), "_csrf_token": token},
        files=[("attachment", ("photo.jpg", JPEG, "image/jpeg"))],
    )
    assert response.status_code == 200, response.text[response.text.find("ne peut pas"):][:1500]
    invoice = await Invoice.objects().get(Invoice.number == "F2026-0001")
    assert str(response.url).endswith(f"/invoices/{invoice.id}")
    assert invoice.format == "facturx-pdf" and invoice.profile == "en16931" and invoice.status == "MISE_A_DISPOSITION"
    assert str(invoice.amount_due) in ("403.4", "403.40")
    pdf = (await client.get(f"/invoices/{invoice.id}/original")).content
    result = validate_bytes(pdf, "f.pdf")
    assert result.valid and not [f for f in result.findings if f.severity == "fatal"]
    embedded = PdfReader(io.BytesIO(pdf)).attachments
    assert "photo.jpg" in embedded and "factur-x.xml" in embedded
    assert [a.filename for a in await Attachment.objects()] == ["photo.jpg"]
    assert not await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)


async def test_incomplete_profile_points_to_the_profile_page(client, supplier, recipient):
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret), "_csrf_token": token})
    assert response.status_code == 422
    assert "/profile" in response.text and "Compléter le profil" in response.text
    assert await Invoice.count() == 0


async def test_missing_data_is_said_in_french_and_nothing_is_sent(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, due_date="", recipient_siret=""), "_csrf_token": token})
    assert response.status_code == 422
    assert "Choisissez l&#39;entité publique" in response.text or "Choisissez l'entité publique" in response.text
    assert await Invoice.count() == 0 and await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)


async def test_portal_refusal_keeps_the_draft_and_shows_the_report(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, service_code=""), "_csrf_token": token})
    assert response.status_code == 422 and "FCT-PORTAL-04" in response.text
    assert await Invoice.count() == 0 and await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)


async def test_credit_note_refers_to_the_original(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    fields = _fields(recipient.siret, type_code="381", number="AV-1", preceding_invoice_number="F2026-0001")
    response = await client.post(f"/capture/{draft_id}/send", data={**fields, "_csrf_token": token})
    assert response.status_code == 200, response.text[:1500]
    invoice = await Invoice.objects().get(Invoice.number == "AV-1")
    assert invoice.type_code == "381"
    assert "F2026-0001" in str(invoice.data)


async def test_next_number_follows_the_last_invoice(client, supplier, recipient):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, number="FAC-0099"), "_csrf_token": token})
    second, _ = await _new_draft(client)
    assert 'value="FAC-0100"' in (await client.get(f"/capture/{second}")).text


async def test_drafts_of_another_structure_are_not_found(client, accounts, supplier, recipient):
    draft_id, _ = await _new_draft(client)
    await accounts.logout()
    await accounts.registered()
    assert (await client.get(f"/capture/{draft_id}")).status_code == 404
    assert (await post_form(client, "/capture", f"/capture/{draft_id}/delete", {})).status_code == 404
    assert await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)


async def test_a_number_longer_than_the_portal_takes_is_said_at_entry(client, supplier, recipient):
    """Chorus Pro takes 20 characters (FCT-PORTAL-16): said on the form, never first by a refused deposit."""
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_fields(recipient.siret, number="F" * 21), "_csrf_token": token})
    assert response.status_code == 422
    assert "Le numéro de facture dépasse 20 caractères" in response.text and "FCT-PORTAL-16" not in response.text
    assert await Invoice.count() == 0 and await Deposit.count() == 0
    assert 'maxlength="20"' in (await client.get(f"/capture/{draft_id}")).text


@pytest.mark.parametrize("framework, nature, bt23", [("A1", "services", "S1"), ("A2", "goods", "B2")])
async def test_a_captured_invoice_passes_the_reform_rules_and_keeps_its_framework(client, supplier, recipient, framework, nature, bt23):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    today = date.today().isoformat()
    fields = _fields(recipient.siret, billing_framework=framework, supply_nature=nature,
                     **({"due_date": today} if framework == "A2" else {}))
    response = await client.post(f"/capture/{draft_id}/send", data={**fields, "_csrf_token": token})
    assert response.status_code == 200, response.text[response.text.find("ne peut pas"):][:1500]
    invoice = await Invoice.objects().get(Invoice.number == "F2026-0001")
    assert invoice.billing_framework == framework and invoice.recipient == recipient.id
    result = validate_bytes((await client.get(f"/invoices/{invoice.id}/original")).content, "f.pdf")
    assert [f.rule for f in result.findings] == []  # no BR-FR finding (SIREN, addresses, BT-23), nor any other
    assert result.invoice.business_process == bt23
