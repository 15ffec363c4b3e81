"""E-mail for a ticket's step that waits for someone: outbox channel "ticket_mail", one row per person.

Written with the step (backend/tickets/service.py), sent by the outbox worker: a mail server
outage delays the e-mail (the worker retries with its backoff), it never loses it.
"""

from __future__ import annotations

from typing import Any

from backend.accounts.tables import User
from backend.lib.mail import send_mail
from backend.processing import worker
from backend.settings import get_settings
from backend.tickets.service import MAIL_CHANNEL


async def on_mail(row: dict[str, Any]) -> None:
    payload = worker.payload_of(row)
    person = await User.select(User.email, User.first_name).where(
        (User.id == payload.get("user_id")) & (User.is_active == True)).first()  # noqa: E712
    if person is None:
        raise worker.Drop("compte supprimé ou désactivé")
    settings = get_settings()
    body = (f"Bonjour {person['first_name']},\n\n{payload.get('text', '')}\n\n"
            f"Ouvrir le ticket : {settings.base_url}{payload.get('url', '/tickets')}\n")
    await send_mail(settings, person["email"], payload.get("subject") or "[Facteur] Ticket", body)


worker.register_channel(MAIL_CHANNEL, on_mail)
