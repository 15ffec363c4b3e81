"""French rules and profiles: BR-FR on every deposit, the CEN CII syntax rules,
EXTENDED-CTC-FR documents, PDFs carrying a ZUGFeRD 1.0 XML beside the Factur-X one."""

from __future__ import annotations

import io

import facturx
import pytest
from invoice_builders import blank_pdf, cii_bytes, facturx_pdf, invoice_data, ubl_bytes
from pypdf import PdfReader, PdfWriter

from backend.invoices.validation import validate_bytes

EN16931 = b"urn:cen.eu:en16931:2017"
CTC_FR = b"urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr"
LONG_NUMBER = invoice_data(**{"BT-1": "F" * 40})  # BR-FR-01: 35 characters at most


def french(result) -> list:
    return [f for f in result.findings if f.rule.startswith("BR-FR")]


# --- BR-FR "Flux 2" on every deposit -------------------------------------------------


@pytest.mark.parametrize("build", [cii_bytes, ubl_bytes], ids=["cii", "ubl"])
def test_french_rules_run_on_every_deposit_as_warnings(build) -> None:
    result = validate_bytes(build(LONG_NUMBER), "facture.xml")
    assert result.valid is True  # EN 16931 is satisfied: the French rules only warn
    assert any(check.startswith("sch:br-fr-") for check in result.checks)
    number = next(f for f in french(result) if f.rule.startswith("BR-FR-01"))
    assert number.severity == "warning"
    assert number.message.startswith("Avertissement, règle française de la réforme")
    assert "ne doit pas dépasser 35 caractères" in number.message
    assert "ram:ID" not in number.message and "cbc:ID" not in number.message
    assert number.term == "BT-1"


@pytest.mark.parametrize("build", [cii_bytes, ubl_bytes], ids=["cii", "ubl"])
def test_strict_mode_makes_the_french_rules_blocking(build) -> None:
    result = validate_bytes(build(LONG_NUMBER), "facture.xml", strict_fr=True)
    assert result.valid is False
    number = next(f for f in french(result) if f.rule.startswith("BR-FR-01"))
    assert number.severity == "fatal"
    assert not number.message.startswith("Avertissement")


def test_french_findings_explain_what_the_reform_asks() -> None:
    result = validate_bytes(cii_bytes(), "facture.xml")
    mentions = {f.rule: f for f in french(result) if f.rule.startswith("BR-FR-05")}
    assert set(mentions) == {"BR-FR-05_BT-22_PMT", "BR-FR-05_BT-22_PMD", "BR-FR-05_BT-22_AAB"}
    assert "Ajoutez à la facture une note portant ce code sujet" in mentions["BR-FR-05_BT-22_PMT"].message
    framework = next(f for f in french(result) if f.rule == "BR-FR-08_BT-23")
    assert "cadre Chorus Pro (A1, A2…)" in framework.message


def test_minimum_gets_no_french_rules_and_no_note_outside_strict_mode() -> None:
    minimum = cii_bytes().replace(EN16931, b"urn:factur-x.eu:1p0:minimum")
    result = validate_bytes(minimum)
    assert not french(result) and "FCT-FR-01" not in {f.rule for f in result.findings}


# --- CEN EN 16931 CII rules ---------------------------------------------------------


def with_currency_on_line_total(document: bytes) -> bytes:
    return document.replace(b"<ram:LineTotalAmount>300.00", b'<ram:LineTotalAmount currencyID="EUR">300.00', 1)


@pytest.mark.parametrize("wrap", [lambda x: x, facturx_pdf], ids=["cii", "factur-x-pdf"])
def test_cen_cii_syntax_rule_refuses_a_currency_on_an_amount(wrap) -> None:
    # Only CII-DT-031 is broken: the Factur-X stylesheet alone called this valid.
    result = validate_bytes(wrap(with_currency_on_line_total(cii_bytes())))
    assert result.valid is False
    assert "sch:cen-cii" in result.checks
    fatal = [f for f in result.findings if f.severity == "fatal"]
    assert [f.rule for f in fatal] == ["CII-DT-031"]
    assert fatal[0].message.startswith("Un montant porte un attribut de devise (currencyID)")
    assert fatal[0].official == "currencyID should not be present"


def test_a_br_rule_is_reported_once_although_two_stylesheets_check_it() -> None:
    wrong_totals = cii_bytes(invoice_data(**{"BT-112": "500.00", "BT-115": "500.00"}))
    result = validate_bytes(wrong_totals)
    assert [f.rule for f in result.findings].count("BR-CO-15") == 1


def test_cen_cii_rules_are_not_run_on_extended_or_minimum() -> None:
    for guideline in (b"urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", b"urn:factur-x.eu:1p0:minimum"):
        assert "sch:cen-cii" not in validate_bytes(cii_bytes().replace(EN16931, guideline)).checks


# --- EXTENDED-CTC-FR ---------------------------------------------------------------


def ctc_fr_pdf(xml: bytes) -> bytes:
    # factur-x writes the XMP of the EXTENDED family for the French EXTENDED profile.
    return facturx.generate_from_binary(blank_pdf(), xml, level="extended", check_xsd=False)


CTC_FR_DOCUMENTS = {
    "cii": (lambda: cii_bytes().replace(EN16931, CTC_FR), "cii-xml", "facturx-extended-ctc-fr", "br-fr-cii"),
    "factur-x-pdf": (lambda: ctc_fr_pdf(cii_bytes().replace(EN16931, CTC_FR)), "facturx-pdf", "facturx-extended-ctc-fr", "br-fr-cii"),
    "ubl": (lambda: ubl_bytes().replace(EN16931, CTC_FR, 1), "ubl-xml", "ubl-extended-ctc-fr", "br-fr-ubl"),
}


@pytest.mark.parametrize("kind", sorted(CTC_FR_DOCUMENTS))
def test_extended_ctc_fr_is_accepted_checked_and_read(kind: str) -> None:
    build, fmt, rules, french_rules = CTC_FR_DOCUMENTS[kind]
    result = validate_bytes(build())
    assert (result.format, result.valid) == (fmt, True)
    assert f"sch:{rules}" in result.checks and f"sch:{french_rules}" in result.checks
    if kind != "ubl":
        assert "xsd:facturx-extended-ctc-fr" in result.checks  # the CII D22B schema
    invoice = result.invoice
    assert invoice.guideline_id == CTC_FR.decode()
    assert (invoice.number, invoice.seller.siret, invoice.buyer.siret) == ("F2026-0042", "73282932000074", "21750001600019")
    assert invoice.totals.payable.text == "468.00"


def test_extended_ctc_fr_rules_and_schema_find_mistakes() -> None:
    # BR-CO-16: the amount due (BT-115) is not the total (BT-112) less the prepaid amount.
    wrong = cii_bytes(invoice_data(**{"BT-115": "500.00"})).replace(EN16931, CTC_FR)
    wrong = wrong.replace(b"<ram:InvoiceCurrencyCode>", b"<ram:Unexpected>x</ram:Unexpected><ram:InvoiceCurrencyCode>", 1)
    result = validate_bytes(wrong)
    assert result.valid is False
    fatal = {f.rule: f for f in result.findings if f.severity == "fatal"}
    assert "BR-CO-16" in fatal
    assert "CII D22B EXTENDED-CTC-FR" in fatal["FCT-XSD-01"].message


# --- PDF with a ZUGFeRD 1.0 XML and a Factur-X XML ----------------------------------

ZUGFERD1 = (
    b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0" '
    b'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12">'
    b"<rsm:HeaderExchangedDocument><ram:ID>ZF1-OLD</ram:ID></rsm:HeaderExchangedDocument>"
    b"</rsm:CrossIndustryDocument>"
)


def pdf_with(attachments: list[tuple[str, bytes]]) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for name, content in attachments:
        writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# The PDF name tree keeps attachments sorted by name: "ZUGFeRD-…" sorts before
# "factur-x.xml", "zugferd-…" after it (both spellings are used by producers).
@pytest.mark.parametrize(
    ("zugferd1_name", "expected_order"),
    [
        ("ZUGFeRD-invoice.xml", ["ZUGFeRD-invoice.xml", "factur-x.xml"]),
        ("zugferd-invoice.xml", ["factur-x.xml", "zugferd-invoice.xml"]),
    ],
    ids=["zugferd1-first", "factur-x-first"],
)
def test_hybrid_pdf_is_read_through_its_factur_x_xml(zugferd1_name: str, expected_order: list[str]) -> None:
    pdf = pdf_with([(zugferd1_name, ZUGFERD1), ("factur-x.xml", cii_bytes())])
    assert [a.name for a in PdfReader(io.BytesIO(pdf)).attachment_list] == expected_order
    result = validate_bytes(pdf, "facture.pdf")
    assert (result.format, result.valid) == ("facturx-pdf", True)
    assert result.invoice.number == "F2026-0042"


def test_hybrid_pdf_with_zugferd2_under_the_zugferd_name() -> None:
    # ZUGFeRD 2 producers name the CII zugferd-invoice.xml: it wins over a ZUGFeRD 1.0 XML.
    pdf = pdf_with([("ZUGFeRD-invoice.xml", ZUGFERD1), ("zugferd-invoice.xml", cii_bytes())])
    result = validate_bytes(pdf, "facture.pdf")
    assert (result.format, result.invoice.number) == ("facturx-pdf", "F2026-0042")


def test_a_pdf_with_only_zugferd1_is_still_refused() -> None:
    result = validate_bytes(pdf_with([("ZUGFeRD-invoice.xml", ZUGFERD1)]), "facture.pdf")
    assert [f.rule for f in result.findings] == ["FCT-DETECT-06"]
