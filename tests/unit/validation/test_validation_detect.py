"""Stage 1: detection by content, refusal codes, extension mismatch."""

from __future__ import annotations

import pytest
from invoice_builders import blank_pdf, cii_bytes, facturx_pdf, pdf_with_attachment, ubl_bytes

from backend.invoices.validation import CODES, validate_bytes

ZUGFERD1 = b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>'
ORDER_X = (
    b"<rsm:SCRDMCCBDACIOMessageStructure "
    b'xmlns:rsm="urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"/>'
)
FATTURA_PA = (
    b'<?xml version="1.0"?><p:FatturaElettronica versione="FPA12" '
    b'xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"/>'
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def refusal(result) -> str:
    """The single refusal code of an unsupported file."""
    assert result.format == "unsupported"
    assert result.valid is False
    assert result.invoice is None
    fatal = [f for f in result.findings if f.severity == "fatal"]
    assert len(fatal) == 1 and fatal[0].stage == "detect"
    assert fatal[0].message  # readable French text, never empty
    return fatal[0].rule


def test_factur_x_pdf_is_detected() -> None:
    result = validate_bytes(facturx_pdf(), "facture.pdf")
    assert (result.format, result.profile, result.valid) == ("facturx-pdf", "en16931", True)


def test_cii_xml_is_detected() -> None:
    result = validate_bytes(cii_bytes(), "facture.xml")
    assert (result.format, result.profile, result.valid) == ("cii-xml", "en16931", True)


def test_ubl_invoice_is_detected() -> None:
    result = validate_bytes(ubl_bytes(), "facture.xml")
    assert (result.format, result.profile, result.valid) == ("ubl-xml", None, True)
    assert result.invoice.syntax == "UBL-Invoice"


def test_ubl_credit_note_is_detected() -> None:
    from invoice_builders import invoice_data

    result = validate_bytes(ubl_bytes(invoice_data(**{"BT-3": "381"})), "avoir.xml")
    assert result.format == "ubl-xml"
    assert result.invoice.syntax == "UBL-CreditNote"
    assert result.invoice.type_code == "381"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "FCT-DETECT-03"),
        (blank_pdf(), "FCT-DETECT-01"),
        (ZUGFERD1, "FCT-DETECT-06"),
        (ORDER_X, "FCT-DETECT-07"),
        (FATTURA_PA, "FCT-DETECT-02"),
        (PNG, "FCT-DETECT-04"),
        (JPEG, "FCT-DETECT-04"),
        (b"\x00\x01\x02 random bytes \xfe\xff", "FCT-DETECT-05"),
        (b"PK\x03\x04 zip archive", "FCT-DETECT-05"),
        (b"<Invoice><unclosed>", "FCT-XML-01"),
        (b"%PDF-1.7\n1 0 obj", "FCT-PDF-01"),
    ],
    ids=[
        "empty",
        "plain-pdf",
        "zugferd1",
        "order-x",
        "fatturapa",
        "png",
        "jpeg",
        "random",
        "zip",
        "bad-xml",
        "cut-pdf",
    ],
)
def test_unsupported_content_is_refused_with_a_code(data: bytes, code: str) -> None:
    assert refusal(validate_bytes(data, "depot.bin")) == code
    assert code in CODES


def test_truncated_factur_x_pdf_is_refused() -> None:
    pdf = facturx_pdf()
    assert refusal(validate_bytes(pdf[: len(pdf) // 3], "facture.pdf")) in ("FCT-PDF-01", "FCT-DETECT-01")


def test_unknown_root_message_names_the_root() -> None:
    result = validate_bytes(FATTURA_PA)
    assert "FatturaElettronica" in result.findings[0].message


def test_zugferd1_inside_a_pdf_is_refused() -> None:
    pdf = pdf_with_attachment("ZUGFeRD-invoice.xml", ZUGFERD1)
    assert refusal(validate_bytes(pdf, "facture.pdf")) == "FCT-DETECT-06"


def test_pdf_with_ubl_attachment_is_not_factur_x() -> None:
    pdf = pdf_with_attachment("factur-x.xml", ubl_bytes())
    assert refusal(validate_bytes(pdf, "facture.pdf")) == "FCT-PDF-02"


def test_content_wins_over_extension_and_mismatch_is_a_warning() -> None:
    result = validate_bytes(cii_bytes(), "facture.pdf")
    assert result.format == "cii-xml"
    assert result.valid is True
    warnings = [f for f in result.findings if f.rule == "FCT-DETECT-08"]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "« .pdf »" in warnings[0].message


def not_french(result) -> list[str]:
    """Rules found besides the French reform ones (the test invoice, made for Chorus
    Pro, lacks the reform's mentions: BR-FR warnings, run on every deposit)."""
    return [f.rule for f in result.findings if not f.rule.startswith("BR-FR")]


def test_pdf_named_xml_gets_the_mismatch_warning() -> None:
    result = validate_bytes(facturx_pdf(), "facture.XML")
    assert result.format == "facturx-pdf"
    assert not_french(result) == ["FCT-DETECT-08"]


@pytest.mark.parametrize("name", ["facture.xml", "FACTURE.XML", "sans-extension", None])
def test_matching_or_missing_extension_gives_no_warning(name: str | None) -> None:
    assert not_french(validate_bytes(cii_bytes(), name)) == []


def test_leading_garbage_before_pdf_header_is_tolerated() -> None:
    assert validate_bytes(b"\r\n" + facturx_pdf()).format == "facturx-pdf"


def test_utf8_bom_xml_is_detected() -> None:
    assert validate_bytes(b"\xef\xbb\xbf" + cii_bytes()).format == "cii-xml"


def test_xml_mentioning_pdf_header_stays_xml() -> None:
    document = cii_bytes().replace(b"F2026-0042", b"%PDF-0042", 1)
    assert document.index(b"%PDF-") < 1024  # where a PDF header would be accepted
    result = validate_bytes(document, "facture.xml")
    assert result.format == "cii-xml"
    assert result.invoice.number == "%PDF-0042"
