"""/api/v1/tickets: a supplier's key asks a public structure, the structure's key takes and answers it;
keyset pagination with a status filter; another structure's key gets 404; refusals are problem+json."""

from __future__ import annotations

import base64

from backend.tickets.tables import Ticket, TicketEntry
from tests.integration.api.conftest import recipient, recipient_api, stranger_api, supplier_api  # noqa: F401  (fixtures)
from tests.integration.processing.conftest import make_user
from tests.integration.tickets.conftest import PDF

QUESTION = {"category": "factures_emises", "subcategory": "question_entite_publique", "subject": "Quel code service ?",
            "body": "Bonjour, lequel indiquer ?"}


async def test_a_key_asks_and_the_structures_key_answers(supplier_api, recipient_api, stranger_api, recipient):
    await make_user(recipient.id, can_consult=True)
    created = await supplier_api.post("/api/v1/tickets", json={
        **QUESTION, "recipient_siret": recipient.siret,
        "attachments": [{"filename": "bon.pdf", "content": base64.b64encode(PDF).decode()}]})
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "OUVERT" and ticket["receiver"] == "Commune de Paris" and ticket["actions"] == ["author_close"]
    assert ticket["history"][0]["attachments"] == ["bon.pdf"]
    ticket_id = ticket["id"]

    assert (await stranger_api.get(f"/api/v1/tickets/{ticket_id}")).status_code == 404
    refused = await stranger_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "assign"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"

    seen = (await recipient_api.get(f"/api/v1/tickets/{ticket_id}")).json()
    assert seen["actions"] == ["assign"]
    early = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "answer", "body": "ECOLES"})
    assert early.status_code == 409 and early.json()["code"] == "not_assigned"
    taken = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "assign", "version": seen["version"]})
    assert taken.status_code == 200 and taken.json()["status"] == "EN_COURS"
    stale = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "answer", "body": "x", "version": seen["version"]})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    answered = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "answer", "body": "Indiquez ECOLES."})
    assert answered.json()["status"] == "REPONDU"
    author_only = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "reopen", "body": "x"})
    assert author_only.status_code == 403
    closed = await supplier_api.post(f"/api/v1/tickets/{ticket_id}/actions", json={"action": "author_close"})
    assert closed.json()["status"] == "CLOS"
    assert [h["action"] for h in closed.json()["history"]] == ["submit", "assign", "answer", "author_close"]


async def test_list_is_keyset_paginated_and_filtered(supplier_api, recipient):
    await make_user(recipient.id, can_consult=True)
    for n in range(3):
        response = await supplier_api.post("/api/v1/tickets", json={
            "category": "depot_formats", "subcategory": "fichier_refuse", "subject": f"Dépôt {n}", "body": "Refusé", "draft": n == 2})
        assert response.status_code == 201
    first = (await supplier_api.get("/api/v1/tickets?limit=2")).json()
    assert [t["subject"] for t in first["items"]] == ["Dépôt 2", "Dépôt 1"] and first["next_cursor"]
    second = (await supplier_api.get(f"/api/v1/tickets?limit=2&cursor={first['next_cursor']}")).json()
    assert [t["subject"] for t in second["items"]] == ["Dépôt 0"] and second["next_cursor"] is None
    drafts = (await supplier_api.get("/api/v1/tickets?status=BROUILLON")).json()
    assert [t["subject"] for t in drafts["items"]] == ["Dépôt 2"]
    assert (await supplier_api.get("/api/v1/tickets?status=INCONNU")).status_code in (400, 422)
    assert (await supplier_api.get("/api/v1/tickets?cursor=abc")).status_code == 422


async def test_refused_input_writes_nothing(supplier_api, recipient):
    before = (await Ticket.count(), await TicketEntry.count())
    unknown = await supplier_api.post("/api/v1/tickets", json={**QUESTION, "subcategory": "nope"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "category_invalid"
    no_agent = await supplier_api.post("/api/v1/tickets", json={**QUESTION, "recipient_siret": recipient.siret})
    assert no_agent.status_code == 409 and no_agent.json()["code"] == "no_agent"
    assert (await supplier_api.post("/api/v1/tickets", json={**QUESTION, "extra": 1})).status_code == 422
    assert (await Ticket.count(), await TicketEntry.count()) == before


async def test_a_retried_post_with_the_same_idempotency_key_opens_one_ticket(supplier_api, recipient_api, recipient):
    await make_user(recipient.id, can_consult=True)
    sent = {**QUESTION, "recipient_siret": recipient.siret}
    first = await supplier_api.post("/api/v1/tickets", json=sent, headers={"Idempotency-Key": "ticket-1"})
    again = await supplier_api.post("/api/v1/tickets", json=sent, headers={"Idempotency-Key": "ticket-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json() and await Ticket.count() == 1 and await TicketEntry.count() == 1
    other = await supplier_api.post("/api/v1/tickets", json={**sent, "subject": "Autre"}, headers={"Idempotency-Key": "ticket-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    ticket_id = first.json()["id"]
    step = {"action": "assign"}
    taken = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json=step, headers={"Idempotency-Key": "step-1"})
    retried = await recipient_api.post(f"/api/v1/tickets/{ticket_id}/actions", json=step, headers={"Idempotency-Key": "step-1"})
    assert taken.status_code == retried.status_code == 200 and retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.json()["version"] == taken.json()["version"]
    assert [e.action for e in await TicketEntry.objects().order_by(TicketEntry.id)] == ["submit", "assign"]  # taken once
