"""Stage 2: the normalized invoice, identical for the CII, UBL and PDF forms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from invoice_builders import (
    BUYER_SIRET,
    SELLER_SIREN,
    SELLER_SIRET,
    cii_bytes,
    facturx_pdf,
    invoice_data,
    ubl_bytes,
)

from backend.invoices.validation import result_to_json_dict, validate_bytes
from backend.invoices.validation.extract import french_ids, iso_date, to_amount
from backend.invoices.validation.model import Identifier, Party
from backend.invoices.validation.profiles import profile_from_guideline


def test_cii_ubl_and_pdf_give_the_same_record() -> None:
    records = [
        result_to_json_dict(validate_bytes(b))["invoice"] for b in (cii_bytes(), ubl_bytes(), facturx_pdf())
    ]
    assert records[0] == records[1] == records[2]
    assert records[0]["line_count"] == 2


def test_header_fields() -> None:
    invoice = validate_bytes(cii_bytes()).invoice
    assert invoice.number == "F2026-0042"
    assert invoice.issue_date == "2026-03-02" and invoice.issue_date_raw == "20260302"
    assert (invoice.type_code, invoice.currency) == ("380", "EUR")
    assert invoice.buyer_reference == "SERVICE-COMPTA"
    assert invoice.purchase_order == "EJ-2026-000123"
    assert invoice.due_date == "2026-04-01"
    assert invoice.business_process == "A1"
    assert invoice.guideline_id == "urn:cen.eu:en16931:2017"


def test_parties_and_french_identifiers() -> None:
    for build in (cii_bytes, ubl_bytes):
        invoice = validate_bytes(build()).invoice
        assert (invoice.seller.siret, invoice.seller.siren) == (SELLER_SIRET, SELLER_SIREN)
        assert invoice.seller.vat_id == "FR44732829320"
        assert (invoice.buyer.siret, invoice.buyer.siren) == (BUYER_SIRET, BUYER_SIRET[:9])
        assert invoice.buyer.name == "Commune de Paris"


def test_amounts_keep_the_written_text_and_a_decimal() -> None:
    invoice = validate_bytes(ubl_bytes()).invoice
    assert invoice.totals.payable.text == "468.00"
    assert invoice.totals.payable.value == Decimal("468.00")
    vat = invoice.vat_breakdown[0]
    assert (vat.category, vat.rate.text, vat.basis.text, vat.tax.text) == ("S", "20.00", "390.00", "78.00")


def test_lines() -> None:
    for build in (cii_bytes, ubl_bytes):
        lines = validate_bytes(build()).invoice.lines
        assert [(line.id, line.name) for line in lines] == [("1", "Porte en chêne"), ("2", "Pose")]
        first = lines[0]
        assert (first.quantity.value, first.unit, first.net_price.value) == (Decimal(3), "C62", Decimal(100))
        assert (first.net_amount.text, first.vat_category, first.vat_rate.text) == ("300.00", "S", "20.00")


def test_preceding_invoice_of_a_credit_note() -> None:
    data = invoice_data(**{"BT-3": "381", "BG-3": [{"BT-25": "F2026-0041"}]})
    for build in (cii_bytes, ubl_bytes):
        assert validate_bytes(build(data)).invoice.preceding_invoice == "F2026-0041"


def test_unreadable_values_do_not_break_extraction() -> None:
    document = cii_bytes().replace(b">468.00<", b">quatre cents<").replace(b">20260302<", b">2026-13-45<")
    invoice = validate_bytes(document).invoice
    assert invoice.totals.payable.text == "quatre cents"
    assert invoice.totals.payable.value is None
    assert invoice.issue_date is None and invoice.issue_date_raw == "2026-13-45"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20260131", "2026-01-31"), ("2026-01-31", "2026-01-31"), ("20261331", None), ("", None), (None, None)],
)
def test_iso_date(text, expected) -> None:
    assert iso_date(text) == expected


@pytest.mark.parametrize(
    ("text", "value"), [("12.50", Decimal("12.50")), ("-3", Decimal(-3)), ("NaN", None), ("1,5", None)]
)
def test_to_amount(text: str, value) -> None:
    amount = to_amount(text)
    assert amount.text == text and amount.value == value


def test_french_ids_rules() -> None:
    # SIRET from scheme 0009, SIREN from scheme 0002 (legal id) when present...
    party = Party(
        identifiers=[Identifier("X1", None), Identifier("12345678200077", "0009")],
        legal_ids=[Identifier("987654321", "0002")],
    )
    assert french_ids(party) == ("12345678200077", "987654321")
    # ...else the first 9 digits of the SIRET; no scheme means no guess.
    assert french_ids(Party(endpoints=[Identifier("12345678200077", "0009")])) == (
        "12345678200077",
        "123456782",
    )
    assert french_ids(Party(legal_ids=[Identifier("123456782", None)])) == (None, None)


@pytest.mark.parametrize(
    ("guideline", "profile"),
    [
        ("urn:factur-x.eu:1p0:minimum", "minimum"),
        ("urn:zugferd.de:2p0:minimum", "minimum"),
        ("urn:factur-x.eu:1p0:basicwl", "basicwl"),
        ("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", "basic"),
        ("urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic", "basic"),
        ("urn:cen.eu:en16931:2017", "en16931"),
        ("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", "extended"),
        ("urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr", "extended"),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", None),
        ("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0", None),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", None),
        (None, None),
    ],
)
def test_profile_from_guideline(guideline, profile) -> None:
    assert profile_from_guideline(guideline) == profile
