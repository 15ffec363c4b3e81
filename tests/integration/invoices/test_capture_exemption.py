"""Capture at 0 % VAT: the exemption reason (BT-120) and its VATEX code (BT-121) chosen in a list,
the VAT franchise of micro-entrepreneurs (art. 293 B du CGI) remembered by the structure profile."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import msgspec
from lxml import etree
from pypdf import PdfReader

from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, InvoiceDraft
from backend.invoices.validation import validate_bytes
from tests.integration.invoices.test_capture import _new_draft
from tests.support.web import post_form
from tests.unit.validation.invoice_builders import SELLER_SIRET

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
FRANCHISE = "VATEX-FR-FRANCHISE"
MENTION = "TVA non applicable, art. 293 B du CGI"


async def _profile_without_vat_number() -> None:
    """A micro-entrepreneur: address and bank details, no VAT number."""
    await Structure.update({
        Structure.address_line1: "12 rue des Artisans", Structure.postal_code: "69003", Structure.city: "Lyon",
        Structure.iban: "FR7630006000011234567890189", Structure.bic: "AGRIFRPP", Structure.vat_number: "",
    }).where(Structure.siret == SELLER_SIRET)


def _zero_rate_fields(siret: str, code: str, **overrides: str) -> dict[str, str]:
    fields = {
        "recipient_siret": siret, "service_code": "SERVICE-COMPTA", "engagement": "",
        "billing_framework": "A1", "type_code": "380", "number": "F2026-0101",
        "issue_date": date.today().isoformat(), "due_date": "2030-01-31",
        "line-0-description": "Cours de soutien", "line-0-quantity": "3", "line-0-unit_code": "HUR",
        "line-0-unit_price": "0,10", "line-0-vat_rate": "0", "line-0-exemption_code": code,
        "line-1-description": "Déplacement", "line-1-quantity": "1", "line-1-unit_code": "C62",
        "line-1-unit_price": "0,20", "line-1-vat_rate": "0", "line-1-exemption_code": code,
    }
    return fields | overrides


async def _vat_breakdown(client, invoice: Invoice) -> list[etree._Element]:
    pdf = (await client.get(f"/invoices/{invoice.id}/original")).content
    result = validate_bytes(pdf, "f.pdf")  # the deposit's own pipeline: XSD, EN 16931, Factur-X
    assert result.valid and not [f for f in result.findings if f.severity == "fatal"], result.findings
    xml = etree.fromstring(PdfReader(io.BytesIO(pdf)).attachments["factur-x.xml"][0])
    return xml.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)


async def test_franchise_invoice_is_sent_without_vat_number_with_bt120_and_bt121(client, supplier, recipient):
    await _profile_without_vat_number()
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_zero_rate_fields(recipient.siret, FRANCHISE), "_csrf_token": token})
    assert response.status_code == 200, html.unescape(response.text[response.text.find("ne peut pas"):][:1500])
    invoice = await Invoice.objects().get(Invoice.number == "F2026-0101")
    assert str(response.url).endswith(f"/invoices/{invoice.id}") and invoice.status == "MISE_A_DISPOSITION"
    assert str(invoice.amount_due) in ("0.5", "0.50")  # 3 × 0,10 + 0,20, no VAT
    (group,) = await _vat_breakdown(client, invoice)
    assert group.findtext("ram:CategoryCode", namespaces=NS) == "E"
    assert group.findtext("ram:ExemptionReason", namespaces=NS) == MENTION  # BT-120
    assert group.findtext("ram:ExemptionReasonCode", namespaces=NS) == FRANCHISE  # BT-121
    assert group.findtext("ram:CalculatedAmount", namespaces=NS) == "0.00"
    assert not await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id)


async def test_another_reason_chosen_in_the_list_is_carried(client, supplier, recipient):
    await _profile_without_vat_number()
    await Structure.update({Structure.vat_number: "FR44732829320"}).where(Structure.siret == SELLER_SIRET)
    draft_id, token = await _new_draft(client)
    fields = _zero_rate_fields(recipient.siret, "VATEX-FR-CGI261-4", number="F2026-0102")
    response = await client.post(f"/capture/{draft_id}/send", data={**fields, "_csrf_token": token})
    assert response.status_code == 200, html.unescape(response.text[response.text.find("ne peut pas"):][:1500])
    (group,) = await _vat_breakdown(client, await Invoice.objects().get(Invoice.number == "F2026-0102"))
    assert group.findtext("ram:ExemptionReasonCode", namespaces=NS) == "VATEX-FR-CGI261-4"
    assert group.findtext("ram:ExemptionReason", namespaces=NS) == "Exonération de TVA, art. 261-4 du CGI"


async def test_a_zero_rate_line_asks_for_its_reason_and_nothing_is_sent(client, supplier, recipient):
    await _profile_without_vat_number()
    draft_id, token = await _new_draft(client)
    response = await client.post(f"/capture/{draft_id}/send", data={**_zero_rate_fields(recipient.siret, ""), "_csrf_token": token})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Ligne 1 : choisissez le motif d'exonération de TVA (taux 0 %)." in text
    assert "VATEX-…" not in text  # the form's list fills the code: no jargon asked for
    assert await Invoice.count() == 0


async def test_vat_charged_under_the_franchise_is_refused(client, supplier, recipient):
    await _profile_without_vat_number()
    draft_id, token = await _new_draft(client)
    fields = _zero_rate_fields(recipient.siret, FRANCHISE, **{"line-1-vat_rate": "20", "line-1-exemption_code": ""})
    response = await client.post(f"/capture/{draft_id}/send", data={**fields, "_csrf_token": token})
    assert response.status_code == 422
    assert "En franchise en base de TVA (art. 293 B du CGI), aucune ligne ne porte de TVA" in html.unescape(response.text)
    assert await Invoice.count() == 0


def _selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select id="[^"]*" name="{re.escape(name)}">(.*?)</select>', page, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)" selected>', select)
    return chosen.group(1) if chosen else None


async def test_the_form_offers_the_reasons_with_the_franchise_first(client, supplier, recipient):
    draft_id, _ = await _new_draft(client)
    page = (await client.get(f"/capture/{draft_id}")).text
    select = re.search(r'name="line-0-exemption_code">(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0] == ("", "Choisissez le motif")  # not under the franchise: nothing pre-chosen
    assert options[1] == (FRANCHISE, f"{MENTION} ({FRANCHISE})")
    assert ("VATEX-FR-CGI261-4", "Exonération de TVA, art. 261-4 du CGI (VATEX-FR-CGI261-4)") in options
    assert _selected(page, "line-0-vat_rate") == "20"


async def test_the_profile_remembers_the_franchise_for_new_invoices(client, supplier, recipient):
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    profile_url = f"/structures/{structure.id}/profile"
    form = {"name": structure.name, "address_line1": "12 rue des Artisans", "postal_code": "69003", "city": "Lyon",
            "vat_number": "", "iban": "", "bic": "", "contact_email": ""}
    saved = await post_form(client, profile_url, profile_url, form | {"vat_franchise": "1"})
    assert saved.status_code == 200 and "Profil de la structure enregistré" in saved.text
    assert (await Structure.objects().get(Structure.id == structure.id)).vat_franchise
    assert 'name="vat_franchise" value="1"' in saved.text and "checked" in re.search(r'<input type="checkbox" name="vat_franchise"[^>]*>', saved.text).group(0)

    draft_id, token = await _new_draft(client)  # a new invoice: 0 % and the franchise already chosen
    page = (await client.get(f"/capture/{draft_id}")).text
    assert _selected(page, "line-0-vat_rate") == "0" and _selected(page, "line-0-exemption_code") == FRANCHISE
    added = await client.post(f"/capture/{draft_id}/lines", data={"_csrf_token": token, "line-0-description": "Cours",
                                                                 "line-0-vat_rate": "0", "line-0-exemption_code": FRANCHISE})
    assert _selected(added.text, "line-1-vat_rate") == "0" and _selected(added.text, "line-1-exemption_code") == FRANCHISE

    await post_form(client, profile_url, profile_url, form)  # unticked: back to 20 %
    assert not (await Structure.objects().get(Structure.id == structure.id)).vat_franchise
    second, _ = await _new_draft(client)
    assert _selected((await client.get(f"/capture/{second}")).text, "line-0-vat_rate") == "20"


async def test_a_draft_typed_before_the_list_keeps_its_reason(client, supplier, recipient):
    draft_id, _ = await _new_draft(client)
    old_line = {"description": "Cours", "quantity": "1", "unit_code": "C62", "unit_price": "10", "vat_rate": "0",
                "exemption_reason": MENTION}  # the free text of the former form, no code
    draft = await InvoiceDraft.objects().get(InvoiceDraft.id == draft_id)
    form = msgspec.json.decode(draft.form) if isinstance(draft.form, str) else dict(draft.form)
    await InvoiceDraft.update({InvoiceDraft.form: msgspec.json.encode(form | {"lines": [old_line]}).decode()}).where(InvoiceDraft.id == draft_id)
    assert _selected((await client.get(f"/capture/{draft_id}")).text, "line-0-exemption_code") == FRANCHISE
