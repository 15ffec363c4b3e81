"""/api/v1/works/pieces: the titulaire's software files a monthly statement, the MOE's corrects it,
the MOA's validates it, the payer's pays the A19 through /api/v1/received — keys only, as ERPs do."""

from __future__ import annotations

import msgspec

from backend.works import markets
from tests.integration.api.conftest import key_for

BODY = {"number": "DM-API-1", "period_start": "2026-09-01", "period_end": "2026-09-30",
        "amounts": {"works": "10000.00", "supplies": "2000.00", "expenses": "150.00"}}


async def test_monthly_circuit_through_the_api(client, cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    titulaire = await key_for(client, cast.titulaire, ("deposit", "read"))
    moe, moa, payer = (
        await key_for(client, cast.moe), await key_for(client, cast.moa), await key_for(client, cast.payer))
    stranger = await key_for(client, cast.stranger)

    assert (await stranger.post("/api/v1/works/pieces", json=BODY | {"market_id": market_id})).status_code == 404
    bad = await titulaire.post("/api/v1/works/pieces", json=BODY | {"market_id": market_id, "amounts": {"works": "-1"}})
    assert bad.status_code == 422 and bad.json()["code"] == "amount_negative"
    created = await titulaire.post("/api/v1/works/pieces", json=BODY | {"market_id": market_id})
    assert created.status_code == 201, created.text
    a4 = created.json()
    assert (a4["billing_framework"], a4["status"], a4["days_left"], a4["total_excl_vat"]) == ("A4", "MISE_A_DISPOSITION_MOE", 7, "12000.00")
    assert a4["lines"][-1]["code"] == "total" and a4["actions"] == []

    waiting = (await moe.get("/api/v1/works/pieces", params={"role": "moe", "to_act": "true"})).json()
    assert [p["id"] for p in waiting["items"]] == [a4["id"]] and waiting["items"][0]["days_left"] == 7
    assert (await stranger.get(f"/api/v1/works/pieces/{a4['id']}")).status_code == 404
    mine = (await moe.get(f"/api/v1/works/pieces/{a4['id']}")).json()
    assert mine["actions"] == ["PRISE_EN_COMPTE_MOE", "SUSPENDUE_MOE", "REFUSEE_MOE"]

    refused = await moe.post(f"/api/v1/works/pieces/{a4['id']}/actions",
                             json={"action": "REFUSEE_MOE", "version": a4["version"], "reason_code": "CALCUL_ERR", "comment": "Faux"})
    assert refused.status_code == 422 and refused.json()["code"] == "amount_refusal_forbidden"
    by_titulaire = await titulaire.post(f"/api/v1/works/pieces/{a4['id']}/actions",
                                        json={"action": "PRISE_EN_COMPTE_MOE", "version": a4["version"]})
    assert by_titulaire.status_code == 403
    accepted = await moe.post(f"/api/v1/works/pieces/{a4['id']}/actions", json={
        "action": "PRISE_EN_COMPTE_MOE", "version": a4["version"], "comment": "9 000 € constatés", "correction": {"works": "9000.00"}})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "PRISE_EN_COMPTE_MOE"
    stale = await moe.post(f"/api/v1/works/pieces/{a4['id']}/actions", json={"action": "SUSPENDUE_MOE", "version": a4["version"], "comment": "x"})
    assert stale.status_code == 409

    [a15] = (await moa.get("/api/v1/works/pieces", params={"role": "moa", "to_act": "true"})).json()["items"]
    assert (a15["billing_framework"], a15["total_excl_vat"]) == ("A15", "11000.00")
    detail = (await titulaire.get(f"/api/v1/works/pieces/{a15['id']}")).json()
    works = next(a for a in detail["amounts"] if a["code"] == "works")
    assert (works["asked"], works["accepted"], works["corrected"]) == ("10000.00", "9000.00", True)
    validated = await moa.post(f"/api/v1/works/pieces/{a15['id']}/actions", json={"action": "PRISE_EN_COMPTE_MOA", "version": a15["version"]})
    assert validated.status_code == 200, validated.text

    received = (await payer.get("/api/v1/received")).json()["items"]
    assert [(r["number"], r["status"]) for r in received] == [("DM-API-1-EAV", "MISE_A_DISPOSITION")]
    a19 = received[0]
    paid = await payer.post(f"/api/v1/received/{a19['id']}/status", json={
        "status": "MISE_EN_PAIEMENT", "payment": {"date": "2026-01-01", "amount": a19["amount_due"]}, "version": a19["version"]})
    assert paid.status_code == 200, paid.text
    assert (await titulaire.get(f"/api/v1/works/pieces/{a19['id']}")).json()["status"] == "MISE_EN_PAIEMENT"


async def test_openapi_documents_the_pieces_with_examples(client):
    document = msgspec.json.decode((await client.get("/api/v1/openapi.json")).content)
    post = document["paths"]["/api/v1/works/pieces"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]["exemple"]["value"]["amounts"]
    act = document["paths"]["/api/v1/works/pieces/{piece_id}/actions"]["post"]
    assert act["requestBody"]["content"]["application/json"]["examples"]["exemple"]["value"]["correction"]


async def test_final_statement_through_the_api_to_the_signed_dgd(client, cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    titulaire = await key_for(client, cast.titulaire, ("deposit", "read"))
    moe, moa, payer = await key_for(client, cast.moe), await key_for(client, cast.moa), await key_for(client, cast.payer)
    unknown = await titulaire.post("/api/v1/works/pieces", json=BODY | {"market_id": market_id, "kind": "yearly"})
    assert 400 <= unknown.status_code < 500
    created = await titulaire.post("/api/v1/works/pieces", json=BODY | {"market_id": market_id, "number": "DF-API", "kind": "final"})
    assert created.status_code == 201, created.text
    a7 = created.json()
    assert (a7["billing_framework"], a7["kind_label"], a7["status"], a7["days_left"]) == ("A7", "Projet de décompte final",
                                                                                          "MISE_A_DISPOSITION_MOE", 7)
    accepted = await moe.post(f"/api/v1/works/pieces/{a7['id']}/actions", json={"action": "PRISE_EN_COMPTE_MOE", "version": a7["version"]})
    assert accepted.status_code == 200, accepted.text
    [a17] = (await moa.get("/api/v1/works/pieces", params={"role": "moa", "to_act": "true"})).json()["items"]
    assert (a17["billing_framework"], a17["days_left"], a17["total_excl_vat"]) == ("A17", 30, "12000.00")
    validated = await moa.post(f"/api/v1/works/pieces/{a17['id']}/actions", json={"action": "PRISE_EN_COMPTE_MOA", "version": a17["version"]})
    assert validated.status_code == 200, validated.text
    [a20] = (await titulaire.get("/api/v1/works/pieces", params={"to_act": "true"})).json()["items"]
    detail = (await titulaire.get(f"/api/v1/works/pieces/{a20['id']}")).json()
    assert (detail["billing_framework"], detail["actions"]) == ("A20", ["SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE"])
    signed = await titulaire.post(f"/api/v1/works/pieces/{a20['id']}/actions", json={"action": "SIGNEE_TITULAIRE", "version": a20["version"]})
    assert signed.status_code == 200, signed.text
    received = (await payer.get("/api/v1/received")).json()["items"]
    assert [(r["number"], r["status"]) for r in received] == [("DF-API-DGD", "MISE_A_DISPOSITION")]
