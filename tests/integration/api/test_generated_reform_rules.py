"""An invoice Facteur generates from the API passes the French reform's BR-FR rules with no
finding, and its reform BT-23 code is read back as the Chorus Pro framework it was asked for."""

from __future__ import annotations

import pytest

from backend.invoices.tables import Invoice
from backend.invoices.validation import validate_bytes
from tests.integration.api.test_endpoints import structured


@pytest.mark.parametrize("framework, nature, bt23, extra", [
    ("A1", None, "S1", {}),  # services unless said otherwise
    ("A2", "goods", "B2", {"due_date": "2026-02-27"}),  # already paid: due_date is the payment date
    ("A1", "mixed", "M1", {}),
])
async def test_generated_invoice_has_no_br_fr_finding_and_keeps_its_framework(supplier_api, framework, nature, bt23, extra):
    body = structured(billing_framework=framework, **({"supply_nature": nature} if nature else {}), **extra)
    response = await supplier_api.post("/api/v1/invoices", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "MISE_A_DISPOSITION"
    file = await supplier_api.get(f"/api/v1/invoices/{created['id']}/file")
    result = validate_bytes(file.content, "facture.pdf")
    assert [f.rule for f in result.findings] == []  # BR-FR-08/09/10/12/13 included
    assert result.invoice.business_process == bt23
    invoice = await Invoice.objects().get(Invoice.id == created["id"])
    assert invoice.billing_framework == framework  # routed and stored as before: A2 stays A2
    assert invoice.buyer_siret == body["recipient_siret"]


async def test_an_unknown_supply_nature_is_422(supplier_api):
    response = await supplier_api.post("/api/v1/invoices", json=structured(supply_nature="food"))
    assert response.status_code == 422 and "supply_nature" in response.text
