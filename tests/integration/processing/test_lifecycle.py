"""Status changes on real deposited invoices: history, outbox, version, rights, concurrency."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal

import pytest

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing.lifecycle import (
    ACKNOWLEDGE,
    Actor,
    Payment,
    Routing,
    TransitionError,
    allowed_actions,
    change_status,
)
from backend.processing.tables import Outbox
from tests.integration.processing.conftest import make_user, public_structure


async def history(invoice_id: int) -> list[dict]:
    rows = await InvoiceHistory.select().where(InvoiceHistory.invoice == invoice_id).order_by(InvoiceHistory.id)
    for row in rows:
        row["details"] = json.loads(row["details"]) if isinstance(row["details"], str) else row["details"]
    return rows


async def outbox() -> list[tuple[str, str, dict]]:
    """The rows the lifecycle wrote (the deposit's own "invoice.received" row left aside)."""
    rows = await Outbox.select().where(Outbox.event_type != "invoice.received").order_by(Outbox.id)
    return [(r["channel"], r["event_type"], json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]) for r in rows]


async def refused(coro) -> TransitionError:
    with pytest.raises(TransitionError) as error:
        await coro
    return error.value


async def snapshot(invoice_id: int):
    inv = await Invoice.objects().get(Invoice.id == invoice_id)
    return inv.status, inv.version, await InvoiceHistory.count(), await Outbox.count()


async def test_agent_takes_an_invoice_in_charge(invoice, agent_id):
    agent = Actor("recipient", agent_id)
    assert "PRISE_EN_CHARGE" in await allowed_actions(invoice, agent)
    saved = await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=1)
    assert (saved.status, saved.status_code, saved.version) == ("PRISE_EN_CHARGE", "204", 2)
    assert saved.updated_at >= invoice.updated_at
    rows = await history(invoice.id)
    assert [r["status"] for r in rows] == ["DEPOSEE", "MISE_A_DISPOSITION", "PRISE_EN_CHARGE"]
    assert (rows[-1]["status_code"], rows[-1]["actor_kind"], rows[-1]["actor"]) == ("204", "recipient", agent_id)
    changed = [row for row in await outbox() if row[1] == "invoice.status_changed"]  # the deposit wrote invoice.received
    [(channel, event, payload), (push_channel, _, push)] = changed
    assert (channel, event) == ("webhook", "invoice.status_changed")
    # The push row too: the push handler decides who wants PRISE_EN_CHARGE (nobody by default).
    assert push_channel == "push" and push["audience"] == {"structure_id": invoice.supplier} and push["actor_user_id"] == agent_id
    assert payload["invoice_id"] == invoice.id and payload["status"] == "PRISE_EN_CHARGE"
    assert payload["previous_status"] == "MISE_A_DISPOSITION" and payload["version"] == 2


async def test_rejection_with_reason_is_pushed_and_acknowledged_by_the_supplier(invoice, agent_id, supplier_id):
    agent, seller = Actor("recipient", agent_id), Actor("supplier", supplier_id)
    missing = await refused(change_status(invoice.id, agent, "REJETEE", expected_version=1, comment="Déjà reçue"))
    assert (missing.http_status, missing.code) == (422, "reason_required")
    saved = await change_status(invoice.id, agent, "REJETEE", expected_version=1, reason_code="DOUBLON", comment="Déjà reçue")
    assert (saved.status, saved.status_code) == ("REJETEE", "210")
    row = (await history(invoice.id))[-1]
    assert (row["reason_code"], row["comment"]) == ("DOUBLON", "Déjà reçue")
    sent = await outbox()
    assert [(c, p["status"]) for c, _, p in sent] == [("webhook", "REJETEE"), ("push", "REJETEE")]
    assert sent[1][2]["audience"] == {"structure_id": invoice.supplier} and sent[1][2]["reason_label"]

    assert await allowed_actions(saved, agent) == []
    terminal = await refused(change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=2))
    assert terminal.http_status == 409

    assert await allowed_actions(saved, seller) == [ACKNOWLEDGE]
    acknowledged = await change_status(invoice.id, seller, ACKNOWLEDGE, expected_version=2)
    assert (acknowledged.status, acknowledged.version) == ("REJETEE", 3)
    row = (await history(invoice.id))[-1]
    assert (row["status"], row["actor_kind"], row["details"]) == ("REJETEE", "supplier", {"acknowledged": True})
    assert (await outbox())[-1][1] == "invoice.rejection_acknowledged"
    again = await refused(change_status(invoice.id, seller, ACKNOWLEDGE, expected_version=3))
    assert (again.http_status, again.code) == (409, "already_acknowledged")
    assert await allowed_actions(acknowledged, seller) == []


async def test_suspension_completion_then_service_done_mandate_and_partial_payments(invoice, agent_id, supplier_id):
    agent, seller = Actor("recipient", agent_id), Actor("supplier", supplier_id)
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=1, reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    assert await allowed_actions(await Invoice.objects().get(Invoice.id == invoice.id), seller) == ["COMPLETEE"]
    await change_status(invoice.id, seller, "COMPLETEE", expected_version=2, comment="Bon de livraison envoyé")
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=3)
    no_number = await refused(change_status(invoice.id, agent, "MANDATEE", expected_version=4))
    assert (no_number.http_status, no_number.code) == (422, "mandate_required")
    await change_status(invoice.id, agent, "MANDATEE", expected_version=4, mandate_number="M-2026-42")
    due = invoice.amount_due
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=5, payment=Payment(date(2026, 3, 1), Decimal("100.00")))
    too_much = await refused(change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=6, payment=Payment(date(2026, 3, 2), due)))
    assert (too_much.http_status, too_much.code) == (422, "payment_exceeds")
    saved = await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=6, payment=Payment(date(2026, 3, 9), due - 100))
    assert (saved.status, saved.status_code, saved.version) == ("MISE_EN_PAIEMENT", "211", 7)
    assert await allowed_actions(saved, agent) == []
    paid = await refused(change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=7, payment=Payment(date(2026, 3, 9), Decimal(1))))
    assert (paid.http_status, paid.code) == (409, "fully_paid")

    rows = await history(invoice.id)
    assert [r["status"] for r in rows][2:] == ["SUSPENDUE", "COMPLETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT", "MISE_EN_PAIEMENT"]
    assert rows[5]["details"] == {"mandate_number": "M-2026-42"} and rows[5]["status_code"] == ""  # no reform status (statuses.py)
    assert rows[-1]["details"]["payment"]["fully_paid"] is True
    assert Decimal(rows[-1]["details"]["payment"]["paid_total"]) == due
    pushes = [p["status"] for c, _, p in await outbox() if c == "push"]
    # A push row for every change the supplier sees: the push handler applies preferences.
    assert pushes == ["SUSPENDUE", "COMPLETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT", "MISE_EN_PAIEMENT"]
    assert len([c for c, _, _ in await outbox() if c == "webhook"]) == 6


async def test_recycling_sends_the_invoice_to_the_corrected_recipient(invoice, agent_id, supplier_id):
    agent, seller = Actor("recipient", agent_id), Actor("supplier", supplier_id)
    no_comment = await refused(change_status(invoice.id, agent, "A_RECYCLER", expected_version=1))
    assert no_comment.http_status == 422
    await change_status(invoice.id, agent, "A_RECYCLER", expected_version=1, comment="Envoyez-la à l'hôpital")
    other = await public_structure()
    wrong = await refused(change_status(invoice.id, seller, "DEPOSEE", expected_version=2, routing=Routing(other.siret, "INCONNU")))
    assert (wrong.http_status, wrong.code) == (422, "routing_invalid") and "INCONNU" in wrong.message_fr
    saved = await change_status(invoice.id, seller, "DEPOSEE", expected_version=2, routing=Routing(other.siret, "ACHATS", "EJ-9"))
    assert (saved.status, saved.status_code, saved.version) == ("MISE_A_DISPOSITION", "203", 3)
    assert (saved.recipient, saved.service_code, saved.engagement, saved.number) == (other.id, "ACHATS", "EJ-9", invoice.number)
    rows = await history(invoice.id)
    assert [(r["status"], r["actor_kind"]) for r in rows][-3:] == [("A_RECYCLER", "recipient"), ("DEPOSEE", "supplier"), ("MISE_A_DISPOSITION", "platform")]
    assert rows[-2]["details"]["recycled"]["after"]["recipient"] == other.id
    # The former recipient's agent no longer sees it; the new one may process it.
    gone = await refused(change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=3))
    assert gone.http_status == 404
    new_agent = Actor("recipient", await make_user(other.id, can_process=True))
    assert (await change_status(invoice.id, new_agent, "PRISE_EN_CHARGE", expected_version=3)).version == 4


async def test_stale_version_is_refused_and_changes_nothing(invoice, agent_id):
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=1)
    before = await snapshot(invoice.id)
    stale = await refused(change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1))
    assert (stale.http_status, stale.code) == (409, "stale_version")
    assert await snapshot(invoice.id) == before


async def test_who_may_act(invoice, agent_id, supplier_id, recipient):
    before = await snapshot(invoice.id)
    outsider = Actor("recipient", await make_user((await public_structure()).id, can_process=True))
    assert (await refused(change_status(invoice.id, outsider, "PRISE_EN_CHARGE", expected_version=1))).http_status == 404
    assert (await refused(change_status(invoice.id + 999, Actor("recipient", agent_id), "PRISE_EN_CHARGE", expected_version=1))).http_status == 404
    assert await allowed_actions(invoice, outsider) == []
    reader = Actor("recipient", await make_user(recipient.id, can_process=False))
    assert (await refused(change_status(invoice.id, reader, "PRISE_EN_CHARGE", expected_version=1))).http_status == 403
    assert await allowed_actions(invoice, reader) == []
    seller = Actor("supplier", supplier_id)
    assert (await refused(change_status(invoice.id, seller, "PRISE_EN_CHARGE", expected_version=1))).http_status == 403
    assert (await refused(change_status(invoice.id, seller, "COMPLETEE", expected_version=1))).http_status == 409
    clerk = Actor("supplier", await make_user(invoice.supplier, can_deposit=False))
    assert (await refused(change_status(invoice.id, clerk, "DEPOSEE", expected_version=1))).http_status == 403
    assert await allowed_actions(invoice, seller) == []
    assert await snapshot(invoice.id) == before


async def test_two_agents_at_once_exactly_one_wins(invoice, agent_id, recipient):
    first = Actor("recipient", agent_id)
    second = Actor("recipient", await make_user(recipient.id, can_process=True))
    results = await asyncio.gather(
        change_status(invoice.id, first, "PRISE_EN_CHARGE", expected_version=1),
        change_status(invoice.id, second, "REJETEE", expected_version=1, reason_code="AUTRE", comment="Non"),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Invoice)]
    losses = [r for r in results if isinstance(r, TransitionError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].http_status == 409
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert saved.version == 2 and saved.status == wins[0].status
    assert [r["status"] for r in await history(invoice.id)][2:] == [saved.status]


async def test_same_expected_version_without_reading_first(invoice, agent_id, recipient):
    """Both read version 1 before either writes: the database check decides, not the read."""
    first = Actor("recipient", agent_id)
    second = Actor("recipient", await make_user(recipient.id, can_process=True))
    results = await asyncio.gather(*(
        change_status(invoice.id, actor, "PRISE_EN_CHARGE", expected_version=None) for actor in (first, second, first)
    ), return_exceptions=True)
    assert sum(isinstance(r, Invoice) for r in results) == 1, results
    assert all(r.http_status == 409 for r in results if isinstance(r, TransitionError))
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).version == 2
