"""The validation circuit through the API: a subcontractor's ERP creates an A9 invoice naming its
titulaire; the titulaire's key lists it under /api/v1/validations, accepts it, and the public
recipient's key then sees it under /api/v1/received (and not before)."""

from __future__ import annotations

from tests.integration.api.conftest import company, key_for
from tests.integration.api.test_endpoints import structured
from tests.support.accounts import valid_siret


async def test_a_titulaire_validates_through_the_api_then_the_recipient_receives(client, supplier_api, recipient_api):
    titulaire = await key_for(client, await company(valid_siret(), "Bâtiment Général SA"))
    created = await supplier_api.post("/api/v1/invoices", json=structured(
        billing_framework="A9", validator_siret=titulaire.structure.siret))
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert (invoice["status"], invoice["billing_framework"], invoice["validator_siret"]) == (
        "A_VALIDER_1", "A9", titulaire.structure.siret)
    assert invoice["validation_due_at"] is not None and invoice["payment_due_by"] is None

    # Not received yet: the recipient neither lists nor reads it.
    assert (await recipient_api.get("/api/v1/received")).json()["items"] == []
    assert (await recipient_api.get(f"/api/v1/received/{invoice['id']}")).status_code == 404

    waiting = (await titulaire.get("/api/v1/validations")).json()
    assert [w["id"] for w in waiting] == [invoice["id"]]
    refused = await titulaire.post(f"/api/v1/validations/{invoice['id']}", json={"decision": "REFUSEE"})
    assert refused.status_code == 422 and refused.json()["code"] == "comment_required"
    accepted = await titulaire.post(f"/api/v1/validations/{invoice['id']}", json={"decision": "VALIDEE"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "MISE_A_DISPOSITION" and accepted.json()["actions"] == []
    assert [h["status"] for h in accepted.json()["history"]] == ["DEPOSEE", "A_VALIDER_1", "VALIDEE_1", "MISE_A_DISPOSITION"]

    assert [i["id"] for i in (await recipient_api.get("/api/v1/received")).json()["items"]] == [invoice["id"]]
    assert (await titulaire.get("/api/v1/validations")).json() == []
    again = await titulaire.post(f"/api/v1/validations/{invoice['id']}", json={"decision": "VALIDEE"})
    assert again.status_code == 409
    # The titulaire keeps a read-only view.
    seen = await titulaire.get(f"/api/v1/validations/{invoice['id']}")
    assert seen.status_code == 200 and seen.json()["status"] == "MISE_A_DISPOSITION"


async def test_an_a9_invoice_without_validator_is_refused_in_french(supplier_api):
    response = await supplier_api.post("/api/v1/invoices", json=structured(billing_framework="A9"))
    assert response.status_code == 422
    assert any(f["rule"] == "FCT-PORTAL-21" and "titulaire ou le mandataire" in f["message"] for f in response.json()["findings"])


async def test_a_stranger_cannot_decide(client, supplier_api, stranger_api):
    titulaire = await key_for(client, await company(valid_siret(), "Bâtiment Général SA"))
    created = (await supplier_api.post("/api/v1/invoices", json=structured(
        billing_framework="A12", validator_siret=titulaire.structure.siret))).json()
    response = await stranger_api.post(f"/api/v1/validations/{created['id']}", json={"decision": "VALIDEE"})
    assert response.status_code == 404
