"""The API's findings carry the same French sentence with values as the report page, and the added
keys (field, term, official) beside the five programs already read."""

from __future__ import annotations

from tests.unit.validation.invoice_builders import cii_bytes, facturx_pdf, invoice_data


async def test_refused_deposit_findings_have_values_field_and_official_text(supplier_api):
    pdf = facturx_pdf(cii_bytes(invoice_data(**{"BT-1": "API-TOTALS", "BT-112": "500.00", "BT-115": "500.00"})))
    response = await supplier_api.deposit(("totaux.pdf", pdf))
    assert response.status_code == 201, response.text  # the deposit is recorded; its only file is refused
    (report,) = response.json()["report"]
    found = next(f for f in report["findings"] if f["rule"] == "BR-CO-15")
    assert found["severity"] == "fatal" and found["stage"] == "en16931" and "BT-112" in found["location"]
    assert found["message"] == "Le total TTC est 500,00\u00a0€ mais le total HT (390,00\u00a0€) plus la TVA (78,00\u00a0€) donne 468,00\u00a0€."
    assert (found["field"], found["term"]) == ("total TTC", "BT-112")
    assert found["official"].startswith("Invoice total amount with VAT (BT-112)")


async def test_an_over_long_number_is_a_finding_in_the_api_too(supplier_api):
    number = "N" * 30
    response = await supplier_api.deposit(("long.pdf", facturx_pdf(cii_bytes(invoice_data(**{"BT-1": number})))))
    (report,) = response.json()["report"]
    assert not report["valid"] and report["invoice_id"] is None
    found = next(f for f in report["findings"] if f["rule"] == "FCT-PORTAL-16")
    assert "a 30 caractères : le portail en accepte 20 au plus" in found["message"] and found["term"] == "BT-1"
