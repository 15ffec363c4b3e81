"""POST /api/v1/invoices at 0 % VAT (exemption reason BT-120 and code BT-121, the VAT franchise of
micro-entrepreneurs), amounts as exact JSON numbers, and schema errors said in French with the field."""

from __future__ import annotations

import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.invoices.validation import validate_bytes
from tests.integration.api.conftest import key_for
from tests.integration.api.test_endpoints import structured
from tests.support.accounts import valid_siret

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
FRANCHISE = "VATEX-FR-FRANCHISE"
MENTION = "TVA non applicable, art. 293 B du CGI"


@pytest.fixture
async def micro_api(client, recipient):
    """A micro-entrepreneur's key: no VAT number (the franchise needs none)."""
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name="Jeanne Martin EI", search_key="jeanne martin ei", is_public=False,
                          address_line1="8 rue des Lilas", postal_code="69003", city="Lyon", vat_number="",
                          iban="FR7630006000011234567890189", bic="AGRIFRPP")
    await structure.save()
    return await key_for(client, structure)


async def _vat_breakdown(api, invoice_id: int) -> list[etree._Element]:
    pdf = (await api.get(f"/api/v1/invoices/{invoice_id}/file")).content
    result = validate_bytes(pdf, "f.pdf")  # the deposit pipeline: XSD, EN 16931, Factur-X rules
    assert result.valid and not [f for f in result.findings if f.severity == "fatal"], result.findings
    xml = etree.fromstring(PdfReader(io.BytesIO(pdf)).attachments["factur-x.xml"][0])
    return xml.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)


async def test_a_franchise_invoice_names_its_exemption_code_and_gets_the_mention(micro_api):
    line = {"description": "Cours de soutien", "quantity": 3, "unit_code": "HUR", "unit_price": 35.5, "vat_rate": 0,
            "exemption_reason_code": FRANCHISE}
    response = await micro_api.post("/api/v1/invoices", json=structured(lines=[line]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["total_incl_vat"] == "106.50" and body["total_vat"] == "0.00"
    assert body["data"]["vat_breakdown"][0]["exemption_code"] == FRANCHISE
    (group,) = await _vat_breakdown(micro_api, body["id"])
    assert group.findtext("ram:CategoryCode", namespaces=NS) == "E"
    assert group.findtext("ram:ExemptionReason", namespaces=NS) == MENTION  # BT-120, from the code
    assert group.findtext("ram:ExemptionReasonCode", namespaces=NS) == FRANCHISE  # BT-121


async def test_the_profile_franchise_is_the_default_of_a_zero_rate_line(micro_api):
    await Structure.update({Structure.vat_franchise: True}).where(Structure.id == micro_api.structure.id)
    line = {"description": "Atelier", "quantity": "2", "unit_price": "50", "vat_rate": "0"}
    response = await micro_api.post("/api/v1/invoices", json=structured(lines=[line]))
    assert response.status_code == 201, response.text
    (group,) = await _vat_breakdown(micro_api, response.json()["id"])
    assert (group.findtext("ram:ExemptionReasonCode", namespaces=NS), group.findtext("ram:ExemptionReason", namespaces=NS)) == (FRANCHISE, MENTION)


async def test_a_zero_rate_line_without_reason_is_refused_in_french(micro_api):
    line = {"description": "Atelier", "quantity": 1, "unit_price": 50, "vat_rate": 0}
    response = await micro_api.post("/api/v1/invoices", json=structured(lines=[line]))
    assert response.status_code == 422
    locations = {f["location"]: f["message"] for f in response.json()["findings"]}
    assert "précisez la catégorie de TVA" in locations["lines[0].vat_category"]
    assert await Invoice.count() == 0


async def test_amounts_as_json_numbers_are_exact(supplier_api):
    lines = [{"description": "Vis", "quantity": 1, "unit_price": 0.1, "vat_rate": 20},
             {"description": "Écrous", "quantity": 1, "unit_price": 0.2, "vat_rate": 20},
             {"description": "Rondelles", "quantity": 2.5, "unit_price": "0.1000", "vat_rate": "20"}]
    response = await supplier_api.post("/api/v1/invoices", json=structured(lines=lines))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total_excl_vat"], body["total_vat"], body["total_incl_vat"]) == ("0.55", "0.11", "0.66")
    assert [line["quantity"]["value"] for line in body["data"]["lines"]] == ["1.0000", "1.0000", "2.5000"]


async def test_a_number_is_read_from_its_text_not_through_a_float(supplier_api):
    # As a float this price would be 0.3 and pass; read exactly it has 20 decimals, and is refused.
    body = json.dumps(structured(lines=[{"description": "Vis", "quantity": 1, "unit_price": 1, "vat_rate": 20}]))
    body = body.replace('"unit_price": 1', '"unit_price": 0.30000000000000000001')
    response = await supplier_api.post("/api/v1/invoices", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    finding = response.json()["findings"][0]
    assert finding["location"] == "lines[0].unit_price" and finding["message"] == "Le prix unitaire a au plus 4 décimales."


@pytest.mark.parametrize(("change", "where", "message"), [
    ({"lines": [{"description": "Vis", "quantity": 1, "unit_price": True, "vat_rate": 20}]},
     "lines[0].unit_price", 'Valeur attendue : un nombre (12.5 ou "12.50") ; reçu : un booléen.'),
    ({"lines": [{"description": "Vis", "quantity": "1,5", "unit_price": 1, "vat_rate": 20}]},
     "lines[0].quantity", 'Nombre illisible : écrivez-le avec un point décimal, en nombre (12.5) ou en texte ("12.50").'),
    ({"lines": [{"description": "Vis", "quantity": "NaN", "unit_price": 1, "vat_rate": 20}]},
     "lines[0].quantity", "Nombre fini attendu."),
    ({"lines": [{"description": "Vis", "quantity": 1, "unit_price": 1e20, "vat_rate": 20}]},
     "lines[0].unit_price", "Nombre trop grand."),
    ({"lines": [{"description": "Vis", "quantity": 1, "vat_rate": 20}]}, "lines[0].unit_price", "Champ obligatoire absent."),
    ({"lines": [{"description": "Vis", "quantity": 1, "unit_price": 1, "vat_rate": 20, "tva": 20}]},
     "lines[0].tva", "Champ inconnu : retirez-le ou vérifiez son nom."),
    ({"issue_date": "02/03/2026"}, "issue_date", "Date invalide : format AAAA-MM-JJ attendu (ex. 2026-03-02)."),
    ({"number": "F 2026/1"}, "number", "Format non accepté : lettres, chiffres et + - _ / seulement."),
    ({"lines": []}, "lines", "Au moins 1 élément."),
    ({"type_code": "390"}, "type_code", "Valeur « 390 » non acceptée."),
])
async def test_schema_errors_are_in_french_and_name_the_field(supplier_api, change, where, message):
    response = await supplier_api.post("/api/v1/invoices", json=structured(**change))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid"
    assert problem["findings"][0]["location"] == where and problem["findings"][0]["message"] == message
    assert problem["detail"] == f"Champ « {where} » : {message}"
    assert await Invoice.count() == 0


async def test_a_missing_top_level_field_is_named(supplier_api):
    invoice = structured()
    del invoice["lines"]
    problem = (await supplier_api.post("/api/v1/invoices", json=invoice)).json()
    assert problem["detail"] == "Champ « lines » : Champ obligatoire absent."


async def test_a_body_that_is_not_json_is_said_in_french(supplier_api):
    response = await supplier_api.post("/api/v1/invoices", content=b'{"number": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "json_invalid"
    assert response.json()["detail"].startswith("Le corps de la requête n'est pas du JSON valide")


async def test_a_payment_amount_may_be_a_json_number(invoice, recipient_api):
    url = f"/api/v1/received/{invoice.id}/status"
    for step in ({"status": "PRISE_EN_CHARGE"}, {"status": "SERVICE_FAIT"}, {"status": "MANDATEE", "mandate_number": "M-42"}):
        assert (await recipient_api.post(url, json=step)).status_code == 200
    huge = await recipient_api.post(url, content=b'{"status": "MISE_EN_PAIEMENT", "payment": {"date": "2026-04-02", "amount": 1e400}}',
                                    headers={"Content-Type": "application/json"})
    assert huge.status_code == 422 and huge.json()["detail"] == "Champ « payment.amount » : Nombre trop grand."
    paid = await recipient_api.post(url, json={"status": "MISE_EN_PAIEMENT", "payment": {"date": "2026-04-02", "amount": 468.0}})
    assert paid.status_code == 200, paid.text
    assert paid.json()["history"][-1]["details"]["payment"]["amount"] == "468.00"


async def test_the_openapi_document_shows_numbers_and_the_exemption_fields(client):
    document = (await client.get("/api/v1/openapi.json")).json()
    line = document["components"]["schemas"]["LineIn"]["properties"]
    for name in ("quantity", "unit_price", "vat_rate"):
        assert [kind["type"] for kind in line[name]["oneOf"]] == ["string", "number"]
    assert "VATEX-FR-FRANCHISE" in line["exemption_reason_code"]["examples"]
    assert "BT-120" in line["exemption_reason"]["description"] and "BT-121" in line["exemption_reason_code"]["description"]
    examples = document["paths"]["/api/v1/invoices"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    (franchise_line,) = examples["franchise"]["value"]["lines"]
    assert franchise_line["exemption_reason_code"] == "VATEX-FR-FRANCHISE" and franchise_line["vat_rate"] == 0
