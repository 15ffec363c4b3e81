"""A "Répondu" ticket the author leaves without a word: warned by e-mail two days before, closed
automatically fifteen days after the answer (statuses.AUTO_CLOSE_AFTER, WARNING_BEFORE).

Both are deadlines of the one mechanism (backend/processing/deadlines.py), scheduled with the
answer and cancelled by any other step out of "Répondu" (service._plan_auto_close); the worker
runs them. A handler checks the ticket again: if it moved meanwhile, it does nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from backend.lib.common import utcnow
from backend.lib.formats import date_fr
from backend.processing import deadlines
from backend.processing.tables import Outbox
from backend.tickets import service, statuses
from backend.tickets.tables import Ticket


async def _still_answered(row: dict[str, Any]) -> Ticket | None:
    ticket = await Ticket.objects().get(Ticket.id == row["invoice"])  # the deadline's id is the ticket's
    return ticket if ticket is not None and ticket.status == statuses.REPONDU else None


async def on_close_warning(row: dict[str, Any]) -> None:
    """Two days before the automatic closing: an e-mail to the author (a person; an API key has no mailbox)."""
    ticket = await _still_answered(row)
    if ticket is None or ticket.author is None:
        return
    closes_at = datetime.fromisoformat(deadlines.payload_of(row)["closes_at"])
    now = utcnow()
    text = (f"Votre ticket « {ticket.subject} » a reçu une réponse. Sans suite de votre part, il sera clôturé "
            f"automatiquement le {date_fr(closes_at)}.\n\nLa réponse ne règle pas votre demande ? Rouvrez le ticket en "
            f"expliquant ce qui manque. Elle la règle ? Vous pouvez le clôturer dès maintenant.")
    payload = {"user_id": ticket.author, "url": f"/tickets/{ticket.id}", "text": text,
               "subject": f"[Facteur] Ticket n°\u00a0{ticket.id} : clôture automatique le {date_fr(closes_at)}"}
    await Outbox.insert(Outbox(event_type=service.EVENT, channel=service.MAIL_CHANNEL, invoice=None,
                               payload=json.dumps(payload, ensure_ascii=False), created_at=now, next_attempt_at=now))


async def on_auto_close(row: dict[str, Any]) -> None:
    """Fifteen days after the answer, still "Répondu": closed, with its history entry, webhook and live event."""
    ticket = await _still_answered(row)
    if ticket is not None:
        await service.close_unanswered(ticket)


deadlines.register_kind(service.CLOSE_WARNING, on_close_warning)
deadlines.register_kind(service.AUTO_CLOSE, on_auto_close)
