"""A "Répondu" ticket the author leaves: warned by e-mail 2 days before, closed automatically
15 days after the answer, through the deadlines the worker runs (the `clock` moves, nobody sleeps);
reopening stops it."""

from __future__ import annotations

import json

from backend.processing import deadlines, worker
from backend.processing.tables import Deadline, Outbox
from backend.tickets.tables import Ticket, TicketEntry
from backend.tracking.tables import Event
from tests.integration.tickets.conftest import QUESTION, act, join_and_log_in, open_ticket


async def _answered_ticket(client, accounts, supplier, recipient, subject: str) -> int:
    await accounts.logout()
    agent = await join_and_log_in(accounts, recipient, can_consult=True)
    await accounts.logout()
    await accounts.login(supplier)
    ticket_id = int((await open_ticket(client, QUESTION, subject, "Bonjour", recipient=recipient.siret)).headers["location"].rsplit("/", 1)[1])
    await accounts.logout()
    await accounts.login(agent)
    assert (await act(client, ticket_id, "assign")).status_code == 303
    assert (await act(client, ticket_id, "answer", "Indiquez ECOLES.")).status_code == 303
    await accounts.logout()
    return ticket_id


async def _warnings(ticket_id: int) -> list[dict]:
    rows = await Outbox.select(Outbox.payload).where(Outbox.channel == "ticket_mail").order_by(Outbox.id)
    payloads = [r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"]) for r in rows]
    return [p for p in payloads if p["url"] == f"/tickets/{ticket_id}" and "clôture automatique" in p["subject"]]


async def test_an_answer_left_without_a_word_is_closed_after_15_days_the_author_warned_2_days_before(
        client, accounts, supplier, recipient, clock):
    worker.load_handlers()
    ticket_id = await _answered_ticket(client, accounts, supplier, recipient, "Code service des écoles")
    author = (await Ticket.objects().get(Ticket.id == ticket_id)).author

    clock.advance(days=12, seconds=23 * 3600)  # just before the warning
    await deadlines.run_due()
    assert await _warnings(ticket_id) == []
    clock.advance(seconds=3600)  # 13 days after the answer: 2 days left
    await deadlines.run_due()
    [warning] = await _warnings(ticket_id)
    assert warning["user_id"] == author and "sera clôturé automatiquement le" in warning["text"]
    assert (await Ticket.objects().get(Ticket.id == ticket_id)).status == "REPONDU"

    clock.advance(days=2)
    await deadlines.run_due()
    ticket = await Ticket.objects().get(Ticket.id == ticket_id)
    assert ticket.status == "CLOS"
    last = await TicketEntry.objects().where(TicketEntry.ticket == ticket_id).order_by(TicketEntry.id, ascending=False).first()
    assert (last.action, last.actor_role, last.from_status) == ("auto_close", "system", "REPONDU")
    assert await Event.count().where(Event.kind == "ticket.updated") == await TicketEntry.count()  # the page hears it
    await deadlines.run_due()
    assert len(await _warnings(ticket_id)) == 1  # once

    await accounts.login(supplier)
    closed = await client.get("/tickets?tab=clotures")
    assert "Code service des écoles" in closed.text
    assert "Clôturé automatiquement" in (await client.get(f"/tickets/{ticket_id}")).text


async def test_reopening_stops_the_automatic_closing(client, accounts, supplier, recipient, clock):
    worker.load_handlers()
    ticket_id = await _answered_ticket(client, accounts, supplier, recipient, "Et la cantine ?")
    assert await Deadline.count().where((Deadline.invoice == ticket_id) & Deadline.done_at.is_null()) == 2
    await accounts.login(supplier)
    assert (await act(client, ticket_id, "reopen", "Et pour la cantine ?")).status_code == 303
    clock.advance(days=16)
    await deadlines.run_due()
    assert (await Ticket.objects().get(Ticket.id == ticket_id)).status == "OUVERT"
    assert await _warnings(ticket_id) == []
    refused = await act(client, ticket_id, "auto_close")
    assert refused.status_code == 422  # nobody takes Facteur's own step
