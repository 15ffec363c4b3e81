"""The deposit report speaks to a supplier: blocking points first, warnings folded under them,
each finding with its values, the field and, behind "détail", the official rule text; the
seller's SIREN or VAT number said as found; an over-long invoice number refused, not cut."""

from __future__ import annotations

import re

import msgspec

from backend.invoices import portal_rules
from backend.invoices.tables import Deposit, DepositItem, Invoice, StoredFile
from backend.invoices.validation import validate_bytes
from tests.integration.invoices.test_deposit import post_files, with_number
from tests.unit.validation.invoice_builders import BASE_INVOICE, SELLER_SIREN, SELLER_SIRET, cii_bytes, facturx_pdf, ubl_bytes


def stored_files(settings) -> list[str]:
    return sorted(p.name for p in settings.files_dir.rglob("*") if p.is_file()) if settings.files_dir.exists() else []


def item_section(html: str) -> str:
    return html[html.index('class="card deposit-item'):]


async def test_blocking_points_come_first_and_warnings_are_folded_under_them(client, supplier):
    # A PDF named .xml: an extension warning (stage "detect", found first), then a wrong total.
    wrong_totals = facturx_pdf(cii_bytes(with_number("F-ORDER-1", **{"BT-112": "500.00", "BT-115": "500.00"})))
    response = await post_files(client, [("facture.xml", wrong_totals)])
    assert response.status_code == 422
    assert "0 facture intégrée sur 1 fichier déposé" in response.text  # 0 and 1 take the singular
    html = item_section(response.text)
    blocking = html.index("1 point bloquant à corriger")
    warnings = html.index('<details class="findings-warnings">')
    assert blocking < html.index("BR-CO-15") < warnings < html.index("FCT-DETECT-08")
    folded = html[warnings:html.index("</details>", html.index("FCT-DETECT-08"))]
    assert re.search(r"<summary>\d+ avertissements? \(non bloquants?\)</summary>", folded)
    # The finding of BR-CO-15: the values, the field with its term in small print, the official text behind "détail".
    br_co_15 = html[html.index("finding finding-fatal"):warnings]
    assert "Le total TTC est 500,00\u00a0€ mais le total HT (390,00\u00a0€) plus la TVA (78,00\u00a0€) donne 468,00\u00a0€." in br_co_15
    assert "total TTC <small>BT-112</small>" in br_co_15
    detail = br_co_15[br_co_15.index('<details class="finding-detail">'):]
    assert "<summary>détail</summary>" in detail and "Invoice total amount with VAT (BT-112)" in detail
    assert "Invoice total amount with VAT" not in br_co_15[:br_co_15.index('<details class="finding-detail">')]


async def test_identical_warnings_are_grouped_with_their_count(client, supplier):
    from backend.invoices.controllers import report_findings

    warning = {"rule": "FCT-PROFILE-03", "severity": "warning", "stage": "profile", "message": "Élément ignoré.", "location": "/a"}
    blocking, groups = report_findings([
        dict(warning), {"rule": "FCT-PORTAL-10", "severity": "fatal", "stage": "portal", "message": "Doublon.", "location": "BT-1"},
        dict(warning, location="/b"), {"rule": "BR-CO-15", "severity": "fatal", "stage": "en16931", "message": "Total.", "location": None},
    ])
    assert [f["rule"] for f in blocking] == ["BR-CO-15", "FCT-PORTAL-10"]  # stage order: what to fix first
    assert len(groups) == 1 and groups[0]["count"] == 2 and groups[0]["locations"] == ["/a", "/b"]


async def test_an_over_long_invoice_number_is_refused_twice_without_a_trace(client, supplier, settings):
    number = "F" + "7" * 119  # 120 characters: the invoice table holds 100, Chorus Pro accepts 20
    pdf = facturx_pdf(cii_bytes(with_number(number)))
    before = stored_files(settings)
    for attempt in (1, 2):
        response = await post_files(client, [("longue.pdf", pdf)])
        assert response.status_code == 422, (attempt, response.text[:500])
        assert "FCT-PORTAL-16" in response.text
        assert "a 120 caractères : le portail en accepte 20 au plus" in response.text
    assert await Invoice.count() == 0
    assert stored_files(settings) == before and await StoredFile.count() == 0
    items = await DepositItem.select(DepositItem.accepted, DepositItem.invoice_number, DepositItem.invoice)
    assert [i["accepted"] for i in items] == [False, False] and all(i["invoice"] is None for i in items)
    assert items[0]["invoice_number"] == number[:99] + "…"  # said as shortened in the report, never stored cut
    assert [d["state"] for d in await Deposit.select(Deposit.state)] == ["IN_REJETE", "IN_REJETE"]


async def test_twenty_characters_pass_and_twenty_one_do_not(client, supplier):
    assert (await post_files(client, [("a.xml", cii_bytes(with_number("F" * 20)))])).status_code == 201
    refused = await post_files(client, [("b.xml", cii_bytes(with_number("G" * 21)))])
    assert refused.status_code == 422 and "FCT-PORTAL-16" in refused.text
    assert [i["number"] for i in await Invoice.select(Invoice.number)] == ["F" * 20]


def seller_with(**party) -> dict:
    seller = {k: v for k, v in BASE_INVOICE["BG-4"].items()
              if k not in ("identifiers", "legal_identifier", "legal_identifier_schemeid", "einvoicing_addr",
                           "einvoicing_addr_schemeid", "vat_identifier")}
    return {**seller, **party}


async def test_a_seller_known_by_its_siren_is_told_what_was_found_and_what_is_expected(client, supplier):
    seller = seller_with(legal_identifier=SELLER_SIREN, legal_identifier_schemeid="0002", vat_identifier="FR44732829320",
                         einvoicing_addr="factures@menuiserie-dupont.fr", einvoicing_addr_schemeid="EM")
    response = await post_files(client, [("siren.xml", cii_bytes(with_number("S-1", **{"BG-4": seller})))])
    assert response.status_code == 422, response.text[:300]
    message = _message(response.text, "FCT-PORTAL-09")
    assert f"identifié par son SIREN {SELLER_SIREN} (schéma 0002)" in message
    assert f"le SIRET de la structure qui dépose, {SELLER_SIRET}" in message
    assert "est bien celui de votre entreprise" in message
    assert "absent" not in message


async def test_a_seller_known_by_its_vat_number_is_told_what_was_found(client, supplier):
    seller = seller_with(vat_identifier="FR44732829320", einvoicing_addr="factures@menuiserie-dupont.fr",
                         einvoicing_addr_schemeid="EM")
    response = await post_files(client, [("tva.xml", ubl_bytes(with_number("V-1", **{"BG-4": seller})))])
    assert response.status_code == 422, response.text[:300]
    message = _message(response.text, "FCT-PORTAL-09")
    assert "identifié par son numéro de TVA FR44732829320" in message and SELLER_SIRET in message
    assert "absent" not in message


def _message(html: str, rule: str) -> str:
    start = html.rindex('<span class="finding-message">', 0, html.index(f"<code>{rule}</code>"))
    return html[start:html.index("</span>", start)]


async def test_a_buyer_known_by_its_siren_is_told_what_was_found(recipient, supplier):
    invoice = validate_bytes(cii_bytes(), "f.xml").invoice
    buyer = msgspec.structs.replace(invoice.buyer, siret=None, identifiers=[], endpoints=[])
    findings, _ = await portal_rules.check(msgspec.structs.replace(invoice, buyer=buyer), None)
    found = next(f for f in findings if f.rule == "FCT-PORTAL-01")
    assert "l'acheteur y est identifié par son SIREN 217500016 (schéma 0002)" in found.message
    assert (found.field, found.term) == ("SIRET de l'acheteur", "BT-47")


async def test_a_works_statement_is_refused_not_processed_as_an_invoice(client, supplier):
    refused = await post_files(client, [("decompte.xml", cii_bytes(with_number("DM-2026-03", **{"BT-23": "A4"})))])
    assert refused.status_code == 422 and "FCT-PORTAL-17" in refused.text
    assert "projet de décompte mensuel" in refused.text and "Chorus Pro" in refused.text
    assert await Invoice.count() == 0


async def test_an_already_paid_invoice_keeps_its_framework_and_says_it(client, supplier):
    accepted = await post_files(client, [("payee.xml", cii_bytes(with_number("PAYEE-1", **{"BT-23": "A2"})))])
    assert accepted.status_code == 201, accepted.text
    invoice = await Invoice.objects().first()
    assert invoice.billing_framework == "A2"
    page = await client.get(f"/invoices/{invoice.id}")
    assert "A2 — Dépôt par un fournisseur d&#39;une facture déjà payée" in page.text or \
        "A2 — Dépôt par un fournisseur d'une facture déjà payée" in page.text
