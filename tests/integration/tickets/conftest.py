"""A supplier (signed in), a public structure with one agent, and helpers that post the ticket forms as a browser does."""

from __future__ import annotations

import pytest

from backend.tickets.cli import add_operator
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401  (re-exported fixtures)
from tests.integration.messages.conftest import PDF, PNG, join_and_log_in  # noqa: F401
from tests.support.web import csrf_from

QUESTION = "factures_emises/question_entite_publique"
ACCOUNT = "compte_connexion/acces_compte"
NEW_STRUCTURE = "structures_utilisateurs/creation_structure_publique"


async def open_ticket(client, pair: str, subject: str, body: str, *, recipient: str = "", intent: str = "submit",
                      files=(), draft_id: int | None = None):
    page = await client.get(f"/tickets/new?draft={draft_id}" if draft_id else "/tickets/new")
    data = {"pair": pair, "recipient": recipient, "subject": subject, "body": body, "intent": intent,
            "_csrf_token": csrf_from(page.text)}
    if draft_id:
        data["draft_id"] = str(draft_id)
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files]
    return await client.post("/tickets", data=data, files=parts or None, follow_redirects=False)


async def act(client, ticket_id: int, action: str, body: str = "", files=()):
    page = await client.get(f"/tickets/{ticket_id}")
    csrf = csrf_from(page.text) if page.status_code == 200 else csrf_from((await client.get("/tickets")).text)
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files]
    return await client.post(f"/tickets/{ticket_id}/actions/{action}", data={"body": body, "_csrf_token": csrf},
                             files=parts or None, follow_redirects=False)


@pytest.fixture
async def operator(accounts):
    """A support operator (another company's person, made operator by the CLI's function); left logged out."""
    await accounts.logout()
    person = await accounts.registered(company="Plateforme Facteur")
    ok, _ = await add_operator(person.email)
    assert ok
    await accounts.logout()
    return person
