"""The mémoires de justice through the API (framework A3): created, listed and read by the expert's
key, processed by the juridiction's key through the invoice API, the one-year limit as a stable code."""

from __future__ import annotations

from datetime import date

import pytest

from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.lib.common import fold
from tests.integration.api.conftest import company, key_for
from tests.support.accounts import valid_siret
from tests.support.clock import clock  # noqa: F401  (fixture)

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
async def empty_database(clean_db):
    """Every test starts from empty tables."""


@pytest.fixture
async def court(clean_db) -> Structure:
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name="Cour d'appel de Villebourg", search_key=fold("Cour d'appel"),
                          is_public=True, active=True, address_line1="2 quai du Palais", postal_code="69005", city="Lyon")
    await structure.save()
    await juridictions.register(structure.id, "cour_appel", "CA69")
    return structure


def body(court: Structure, **overrides) -> dict:
    return {
        "juridiction_siret": court.siret, "number": "MJ2026-0007",
        "decision": {"kind": "requisition", "reference": "PV-2026-44", "date": "2026-02-01", "author": "OPJ Martin"},
        "mission": {"start": "2026-02-03", "end": "2026-02-05", "place": "Villebourg"},
        "lines": [{"kind": "honoraires", "description": "Traduction d'audition", "quantity": 6, "unit_code": "HUR",
                   "unit_price": "45.00", "vat_rate": 20},
                  {"kind": "frais", "description": "Péage", "quantity": 1, "unit_code": "C62", "unit_price": "12.40", "vat_rate": 0}],
    } | overrides


async def test_an_expert_key_sends_a_memoire_and_the_court_key_refuses_it(client, court, clock):
    clock.set_today(TODAY)
    expert = await key_for(client, await company())
    court_key = await key_for(client, court)
    assert [j["code"] for j in (await expert.get("/api/v1/justice/juridictions")).json()] == ["CA69"]

    response = await expert.post("/api/v1/justice/memoires", json=body(court))
    assert response.status_code == 201, response.text
    sent = response.json()
    assert (sent["billing_framework"], sent["status"], sent["recipient_siret"]) == ("A3", "MISE_A_DISPOSITION", court.siret)
    assert sent["memoire"]["decision_reference"] == "PV-2026-44" and sent["memoire"]["send_deadline"] == "2027-02-05"
    assert [m["number"] for m in (await expert.get("/api/v1/justice/memoires")).json()["items"]] == ["MJ2026-0007"]
    # The juridiction lists what it received and processes it through the invoice API.
    assert [m["id"] for m in (await court_key.get("/api/v1/justice/memoires")).json()["items"]] == [sent["id"]]
    received = (await court_key.get(f"/api/v1/justice/memoires/{sent['id']}")).json()
    assert received["actions"] == ["PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "SERVICE_FAIT", "MISE_EN_PAIEMENT"]
    refused = await court_key.post(f"/api/v1/received/{sent['id']}/status",
                                   json={"status": "REJETEE", "reason_code": "AUTRE", "comment": "Hors réquisition."})
    assert refused.status_code == 200, refused.text
    mine = (await expert.get(f"/api/v1/justice/memoires/{sent['id']}")).json()
    assert mine["status"] == "REJETEE" and mine["actions"] == ["ABANDONNEE"]
    abandoned = await expert.post(f"/api/v1/justice/memoires/{sent['id']}/abandonment", json={"comment": "Erreur de juridiction."})
    assert abandoned.status_code == 200 and abandoned.json()["status"] == "ABANDONNEE"


async def test_a_memoire_older_than_one_year_is_refused_with_a_stable_code(client, court, clock):
    clock.set_today(TODAY)
    expert = await key_for(client, await company())
    late = body(court, decision={"kind": "ordonnance", "reference": "ORD-1", "date": "2025-05-01", "author": "M. Juge"},
                mission={"start": "2025-05-02", "end": "2025-06-14", "place": "Lyon"})
    response = await expert.post("/api/v1/justice/memoires", json=late)
    assert response.status_code == 422 and response.json()["code"] == "justice_too_late"
    assert "14 juin 2026" in response.json()["detail"]
    assert await Invoice.count() == 0
    # The invoice API does not take A3: it says where mémoires go.
    plain = await expert.post("/api/v1/invoices", json={
        "recipient_siret": court.siret, "number": "F-1", "issue_date": "2026-06-15", "billing_framework": "A3",
        "lines": [{"description": "x", "quantity": 1, "unit_price": 1, "vat_rate": 20}]})
    assert plain.status_code == 422 and "/api/v1/justice/memoires" in plain.json()["detail"]


async def refused(expert, court_key, court) -> dict:
    sent = (await expert.post("/api/v1/justice/memoires", json=body(court))).json()
    answer = await court_key.post(f"/api/v1/received/{sent['id']}/status",
                                  json={"status": "REJETEE", "reason_code": "AUTRE", "comment": "Taux horaire erroné."})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_refused_memoire_is_duplicated_through_the_api_in_one_step(client, court, clock):
    clock.set_today(TODAY)
    expert, court_key = await key_for(client, await company()), await key_for(client, court)
    old = await refused(expert, court_key, court)
    corrected = body(court, number="MJ2026-0008", version=old["version"])
    corrected["lines"][0]["unit_price"] = "40.00"

    once = await expert.post(f"/api/v1/justice/memoires/{old['id']}/duplicate", json=corrected, headers={"Idempotency-Key": "dup-1"})
    assert once.status_code == 201, once.text
    new = once.json()
    assert (new["number"], new["status"], new["memoire"]["duplicated_from"]) == ("MJ2026-0008", "MISE_A_DISPOSITION", old["id"])
    before = (await expert.get(f"/api/v1/justice/memoires/{old['id']}")).json()
    assert before["status"] == "DUPLIQUEE" and before["memoire"]["duplicate"] == new["id"]
    # The same request again (a retry) answers the same mémoire; nothing is sent twice.
    again = await expert.post(f"/api/v1/justice/memoires/{old['id']}/duplicate", json=corrected, headers={"Idempotency-Key": "dup-1"})
    assert again.status_code == 201 and again.json()["id"] == new["id"]
    # A second duplicate of the same refused mémoire is refused with its code.
    twice = await expert.post(f"/api/v1/justice/memoires/{old['id']}/duplicate", json=body(court, number="MJ2026-0009"))
    assert twice.status_code == 409 and twice.json()["code"] == "justice_already_duplicated"
    assert await Invoice.count() == 2
    # The OpenAPI document describes it, with an example body.
    operation = (await client.get("/api/v1/openapi.json")).json()["paths"]["/api/v1/justice/memoires/{invoice_id}/duplicate"]["post"]
    assert "DUPLIQUEE" in operation["description"] and "version" in str(operation["requestBody"])


async def test_only_its_provider_duplicates_a_refused_memoire_and_a_refused_duplicate_changes_nothing(client, court, clock):
    clock.set_today(TODAY)
    expert, court_key = await key_for(client, await company()), await key_for(client, court)
    other = await key_for(client, await company(valid_siret(), "Cabinet Autre"))
    sent = (await expert.post("/api/v1/justice/memoires", json=body(court))).json()
    # Not refused: nothing to duplicate.
    early = await expert.post(f"/api/v1/justice/memoires/{sent['id']}/duplicate", json=body(court, number="MJ2026-0010"))
    assert early.status_code == 409 and early.json()["code"] == "justice_not_refused"
    await court_key.post(f"/api/v1/received/{sent['id']}/status", json={"status": "REJETEE", "reason_code": "AUTRE", "comment": "Non."})
    # Another provider's key, or the juridiction's, does not see it as theirs.
    for key in (other, court_key):
        response = await key.post(f"/api/v1/justice/memoires/{sent['id']}/duplicate", json=body(court, number="MJ2026-0010"))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    # A duplicate refused by the rules (one year) leaves the refused mémoire as it was.
    late = body(court, number="MJ2026-0010", mission={"start": "2025-05-02", "end": "2025-06-14", "place": "Lyon"},
                decision={"kind": "ordonnance", "reference": "ORD-1", "date": "2025-05-01", "author": "M. Juge"})
    response = await expert.post(f"/api/v1/justice/memoires/{sent['id']}/duplicate", json=late)
    assert response.status_code == 422 and response.json()["code"] == "justice_too_late"
    # A stale version: 409, and still nothing written.
    stale = await expert.post(f"/api/v1/justice/memoires/{sent['id']}/duplicate", json=body(court, number="MJ2026-0010", version=1))
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version", stale.text
    assert (await expert.get(f"/api/v1/justice/memoires/{sent['id']}")).json()["status"] == "REJETEE"
    assert await Invoice.count() == 1
