"""GET /api/v1/invoices/{id}/certificate: the deposit certificate as a PDF, same access as the invoice."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from backend.invoices.tables import StoredFile
from tests.integration.api.conftest import key_for
from tests.unit.validation.invoice_builders import SELLER_SIRET


def squeezed_pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


async def test_certificate_through_the_api(supplier_api, invoice):
    response = await supplier_api.get(f"/api/v1/invoices/{invoice.id}/certificate")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = squeezed_pdf_text(response.content)
    stored = await StoredFile.objects().get(StoredFile.id == invoice.original_file)
    assert stored.sha256 in text
    assert invoice.certificate_number in text and invoice.number in text and SELLER_SIRET in text
    assert "468,00€" in text and "390,00€" in text and "78,00€" in text
    original = await supplier_api.get(f"/api/v1/invoices/{invoice.id}/file")
    assert hashlib.sha256(original.content).hexdigest() == stored.sha256  # the digest is the file's
    again = await supplier_api.get(f"/api/v1/invoices/{invoice.id}/certificate")
    assert again.content == response.content


async def test_certificate_access_matrix(supplier_api, recipient_api, stranger_api, invoice, client):
    assert (await recipient_api.get(f"/api/v1/invoices/{invoice.id}/certificate")).status_code == 200
    for path in (f"/api/v1/invoices/{invoice.id}/certificate", f"/api/v1/invoices/{invoice.id + 1000}/certificate"):
        response = await stranger_api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not_found"
    assert (await client.get(f"/api/v1/invoices/{invoice.id}/certificate")).status_code == 401
    deposit_only = await key_for(client, supplier_api.structure, scopes=("deposit",))
    assert (await deposit_only.get(f"/api/v1/invoices/{invoice.id}/certificate")).status_code == 403


async def test_certificate_is_in_the_openapi_document(client):
    document = (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/invoices/{invoice_id}/certificate"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]
