"""The terms the readable view shows and no portal rule checks: addresses, payment, notes, documents.

Read the same from the CII, UBL and Factur-X forms of one invoice.
"""

from __future__ import annotations

import pytest

from backend.invoices.validation import validate_bytes
from backend.invoices.validation.model import Address, DocumentReference, Note, PaymentMeans
from tests.unit.validation.invoice_builders import cii_bytes, facturx_pdf, invoice_data, ubl_bytes

DATA = invoice_data(**{
    "BG-1": [{"BT-21": "PMD", "BT-22": "Pénalités : trois fois le taux légal."}, {"BT-22": "Merci de votre confiance."}],
    "BT-20": "30 jours fin de mois",
    "BT-83": "F2026-0042",
    "BT-86": "AGRIFRPP",
    "BG-24": [{"BT-122": "BL-17", "BT-123": "Bon de livraison"}],
})
DATA["BG-25"][0]["BT-154"] = "Chêne massif, 204 x 83 cm"


@pytest.mark.parametrize("build", [cii_bytes, ubl_bytes, lambda d: facturx_pdf(cii_bytes(d))], ids=["cii", "ubl", "facturx"])
def test_readable_terms_are_extracted(build) -> None:
    invoice = validate_bytes(build(DATA)).invoice
    assert invoice.seller.address == Address(lines=["12 rue des Artisans"], postal_code="69003", city="Lyon", country="FR")
    assert invoice.buyer.address.lines == ["Place de l'Hôtel de Ville"] and invoice.buyer.address.city == "Paris"
    assert invoice.payment_terms == "30 jours fin de mois"
    assert invoice.payment_reference == "F2026-0042"
    assert invoice.payment_means == [PaymentMeans(code="30", account="FR7630006000011234567890189", bic="AGRIFRPP")]
    assert invoice.notes == [Note("Pénalités : trois fois le taux légal.", "PMD"), Note("Merci de votre confiance.")]
    assert invoice.documents == [DocumentReference(id="BL-17", description="Bon de livraison")]
    assert invoice.delivery_date == "2026-02-27"
    assert invoice.lines[0].description == "Chêne massif, 204 x 83 cm" and invoice.lines[1].description is None
