"""The captured invoice: decoding at the edge (msgspec) and check_invoice's French problems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import msgspec
import pytest

from backend.invoices.generation import (
    CapturedInvoice,
    InvoiceDataError,
    check_invoice,
    cii_xml,
)
from backend.invoices.generation import examples as ex

API_JSON = b"""{
  "number": "F2026-0100",
  "issue_date": "2026-03-02",
  "due_date": "2026-04-01",
  "type_code": "380",
  "billing_framework": "A1",
  "service_code": "DASCO-ECOLES",
  "engagement": "EJ-2026-000123",
  "seller": {"name": "Menuiserie Dupont SARL", "siret": "73282932000074", "vat_id": "FR44732829320",
             "address": {"line1": "12 rue des Artisans", "postal_code": "69003", "city": "Lyon"},
             "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP", "email": "compta@dupont.fr"},
  "buyer": {"name": "Commune de Paris", "siret": "21750001600019",
            "address": {"line1": "Place de l'H\\u00f4tel de Ville", "postal_code": "75004", "city": "Paris"}},
  "lines": [
    {"description": "Porte", "quantity": "3", "unit_price": "1250.00", "vat_rate": "20"},
    {"description": "Pose", "quantity": 7.5, "unit_price": "48", "vat_rate": "20", "unit_code": "HUR"}
  ]
}"""


def fields(problems) -> set[str]:
    return {p.field for p in problems}


def test_api_json_decodes_to_a_valid_invoice() -> None:
    invoice = msgspec.json.decode(API_JSON, type=CapturedInvoice)
    assert invoice.lines[0].quantity == D("3") and isinstance(invoice.lines[1].quantity, D)
    assert invoice.lines[0].unit_code == "C62"  # default unit
    assert invoice.lines[0].category == "S"  # positive rate: standard
    assert invoice.issue_date == dt.date(2026, 3, 2)
    assert check_invoice(invoice) == []


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        ({"engagement": "E" * 51}, "engagement"),
        ({"number": "F 2026/1"}, "number"),  # space: BR-FR-01 character set
        ({"type_code": "386"}, "type_code"),
        ({"billing_framework": "A4"}, "billing_framework"),
        ({"currency": "USD"}, "currency"),
        ({"lines": []}, "lines"),
    ],
)
def test_decoding_refuses_bad_formats(patch: dict, error: str) -> None:
    data = msgspec.json.decode(API_JSON)
    data.update(patch)
    with pytest.raises(msgspec.ValidationError, match=error):
        msgspec.convert(data, CapturedInvoice)


def test_decoding_refuses_a_siret_that_is_not_14_digits() -> None:
    data = msgspec.json.decode(API_JSON)
    data["buyer"]["siret"] = "2175000160001"
    with pytest.raises(msgspec.ValidationError, match=r"buyer\.siret"):
        msgspec.convert(data, CapturedInvoice)


def test_example_invoice_has_no_problem() -> None:
    assert check_invoice(ex.invoice()) == []
    assert check_invoice(ex.many_lines_invoice()) == []


def test_wrong_identifiers_are_reported_together() -> None:
    invoice = ex.invoice(
        seller=ex.seller(
            siret="73282932000075", vat_id="FR00732829320", iban="FR7630006000011234567890188", bic="XX"
        ),
        buyer=ex.buyer(siret="21750001600018"),
    )
    assert fields(check_invoice(invoice)) == {
        "seller.siret",
        "seller.vat_id",
        "seller.iban",
        "seller.bic",
        "buyer.siret",
    }


def test_vat_id_must_carry_the_seller_siren() -> None:
    other = ex.french_vat("443061841")
    problems = check_invoice(ex.invoice(seller=ex.seller(vat_id=other)))
    assert [(p.field, p.message) for p in problems] == [
        ("seller.vat_id", "Ce numéro de TVA ne correspond pas au SIREN du vendeur.")
    ]


@pytest.mark.parametrize(
    ("line_kwargs", "field"),
    [
        ({"quantity": "0"}, "lines[0].quantity"),
        ({"quantity": "1.00001"}, "lines[0].quantity"),
        ({"unit_price": "-1"}, "lines[0].unit_price"),
        ({"unit_price": "1.23456"}, "lines[0].unit_price"),
        ({"vat_rate": "19.6"}, "lines[0].vat_rate"),
        ({"vat_rate": "0"}, "lines[0].vat_category"),  # 0 % needs a category
        ({"vat_rate": "20", "vat_category": "E"}, "lines[0].vat_rate"),
        ({"vat_rate": "0", "vat_category": "E"}, "lines[0].exemption_reason"),
        (
            {"vat_rate": "0", "vat_category": "E", "exemption_reason": "Exonéré"},
            "lines[0].exemption_reason_code",
        ),
        (
            {
                "vat_rate": "0",
                "vat_category": "E",
                "exemption_reason": "Exonéré",
                "exemption_reason_code": "VATEX-FR-XYZ",
            },
            "lines[0].exemption_reason_code",
        ),
        (
            {
                "vat_rate": "0",
                "vat_category": "K",
                "exemption_reason": "LIC",
                "exemption_reason_code": "VATEX-EU-G",
            },
            "lines[0].exemption_reason_code",
        ),
        ({"vat_rate": "20", "exemption_reason": "Exonéré"}, "lines[0].exemption_reason"),
        ({"unit_code": "ZZZ"}, "lines[0].unit_code"),
    ],
)
def test_line_problems(line_kwargs: dict, field: str) -> None:
    values = {"description": "Article", "quantity": "1", "unit_price": "10", "vat_rate": "20", **line_kwargs}
    description = values.pop("description")
    invoice = ex.invoice(
        lines=[
            ex.line(
                description,
                values.pop("quantity"),
                values.pop("unit_price"),
                values.pop("vat_rate"),
                **values,
            )
        ]
    )
    problems = check_invoice(invoice)
    assert field in fields(problems), problems
    assert all(p.message for p in problems)


def test_an_exemption_category_needs_one_reason() -> None:
    exempt = {"vat_category": "E", "exemption_reason_code": "VATEX-FR-CGI261-4"}
    invoice = ex.invoice(
        lines=[
            ex.line("A", "1", "10", "0", exemption_reason="Article 261-4-4° du CGI", **exempt),
            ex.line("B", "1", "10", "0", exemption_reason="Autre motif", **exempt),
        ]
    )
    assert fields(check_invoice(invoice)) == {"lines[1].exemption_reason"}


def test_out_of_scope_cannot_be_mixed_and_drops_vat_ids() -> None:
    out_of_scope = {
        "vat_category": "O",
        "exemption_reason": "Hors champ",
        "exemption_reason_code": "VATEX-EU-O",
    }
    mixed = ex.invoice(lines=[ex.line("A", "1", "10", "0", **out_of_scope), ex.line("B", "1", "10", "20")])
    assert "lines" in fields(check_invoice(mixed))
    alone = ex.invoice(lines=[ex.line("A", "1", "10", "0", **out_of_scope)])
    assert check_invoice(alone) == []
    assert alone.seller_vat_id is None  # BR-O-02: no seller VAT identifier on such an invoice


def test_taxable_invoice_needs_the_seller_vat_id() -> None:
    assert fields(check_invoice(ex.invoice(seller=ex.seller(vat_id=None)))) == {"seller.vat_id"}


def test_intra_community_supply_needs_buyer_vat_id_and_delivery_date() -> None:
    ic = {
        "vat_category": "K",
        "exemption_reason": "Livraison intracommunautaire",
        "exemption_reason_code": "VATEX-EU-IC",
    }
    invoice = ex.invoice(lines=[ex.line("Meuble", "1", "800", "0", **ic)])
    assert fields(check_invoice(invoice)) == {"buyer.vat_id", "delivery_date"}


def test_credit_note_needs_the_original_invoice_number() -> None:
    problems = check_invoice(ex.invoice(type_code="381"))
    assert fields(problems) == {"preceding_invoice_number"}
    later = ex.invoice(
        type_code="381", preceding_invoice_number="F1", preceding_invoice_date=dt.date(2026, 4, 1)
    )
    assert fields(check_invoice(later)) == {"preceding_invoice_date"}
    # an invoice does not refer to a preceding invoice
    assert fields(check_invoice(ex.invoice(preceding_invoice_number="F1"))) == {"preceding_invoice_number"}


def test_already_paid_invoice_rules() -> None:
    assert fields(check_invoice(ex.invoice(billing_framework="A2", due_date=None))) == {"due_date"}
    partial = ex.invoice(billing_framework="A2", due_date=dt.date(2026, 2, 28), prepaid_amount=D("100"))
    assert fields(check_invoice(partial)) == {"prepaid_amount"}
    # the payment date may precede the invoice date
    assert check_invoice(ex.invoice(billing_framework="A2", due_date=dt.date(2026, 2, 28))) == []
    assert fields(
        check_invoice(ex.invoice(billing_framework="A2", type_code="381", preceding_invoice_number="F1"))
    ) == {"billing_framework"}


def test_due_date_or_payment_terms_when_something_is_due() -> None:
    assert fields(check_invoice(ex.invoice(due_date=None))) == {"due_date"}  # BR-CO-25
    assert check_invoice(ex.invoice(due_date=None, payment_terms="À 30 jours fin de mois")) == []
    assert fields(check_invoice(ex.invoice(due_date=dt.date(2026, 3, 1)))) == {
        "due_date"
    }  # before issue date
    assert fields(check_invoice(ex.invoice(prepaid_amount=D("99999")))) == {"prepaid_amount"}


def test_generation_refuses_an_invoice_with_problems() -> None:
    with pytest.raises(InvoiceDataError) as caught:
        cii_xml(ex.invoice(type_code="381", due_date=None))
    assert [p.field for p in caught.value.problems] == ["preceding_invoice_number"]
    assert "facture d'origine" in str(caught.value)
