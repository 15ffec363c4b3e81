"""Support tickets through the pages: routing by category, every action and who may take it, drafts,
history, outbox rows (push and e-mail to whoever the step waits for) and live events; nobody else sees a ticket."""

from __future__ import annotations

import json
import re
from html import unescape

from backend.accounts.tables import User
from backend.processing.tables import Outbox
from backend.tickets.tables import Ticket, TicketAttachment, TicketEntry
from backend.tracking.tables import Event
from tests.integration.processing.conftest import make_user
from tests.integration.tickets.conftest import ACCOUNT, NEW_STRUCTURE, PDF, PNG, QUESTION, act, join_and_log_in, open_ticket


def _payload(row: dict) -> dict:
    return row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])


async def _counts() -> tuple[int, ...]:
    return (await Ticket.count(), await TicketEntry.count(), await TicketAttachment.count(),
            await Outbox.count().where(Outbox.event_type == "ticket.updated"), await Event.count().where(Event.kind == "ticket.updated"))


async def _user_id(person) -> int:
    return (await User.objects().get(User.email == person.email)).id


async def test_the_category_decides_where_a_ticket_goes(client, supplier, recipient):
    await make_user(recipient.id, can_consult=True)
    to_structure = await open_ticket(client, QUESTION, "Quel code service ?", "Bonjour", recipient=recipient.siret)
    assert to_structure.status_code == 303
    to_support = await open_ticket(client, NEW_STRUCTURE, "Créer la mairie de Trifouilly", "Elle n'est pas dans l'annuaire.")
    assert to_support.status_code == 303
    rows = {r["subcategory"]: r for r in await Ticket.select().order_by(Ticket.id)}
    assert rows["question_entite_publique"]["receiver_structure"] == recipient.id
    assert rows["creation_structure_publique"]["receiver_structure"] is None  # the support team
    assert {r["status"] for r in rows.values()} == {"OUVERT"}

    before = await _counts()
    refusals = [
        (await open_ticket(client, "factures_emises/inconnue", "Objet", "Texte"), 422, "Choisissez une catégorie"),
        (await open_ticket(client, QUESTION, "Objet", "Texte"), 422, "Choisissez dans l'annuaire"),
        (await open_ticket(client, QUESTION, "Objet", "Texte", recipient="12345678200010"), 404, None),
        (await open_ticket(client, ACCOUNT, "", "Texte"), 422, "Indiquez l'objet"),
        (await open_ticket(client, ACCOUNT, "Objet", "   "), 422, "Écrivez votre message"),
        (await open_ticket(client, ACCOUNT, "Objet", "Texte", files=[("virus.exe", b"MZ\x90\x00")]), 415, "ni un PDF"),
    ]
    for response, status, text in refusals:
        assert response.status_code == status, response.text
        if text:
            assert text in unescape(response.text)
    assert await _counts() == before  # nothing half-written


async def test_a_structure_without_agents_cannot_be_asked(client, supplier, recipient):
    refused = await open_ticket(client, QUESTION, "Objet", "Texte", recipient=recipient.siret)
    assert refused.status_code == 409 and "aucun agent inscrit" in unescape(refused.text)
    assert await Ticket.count() == 0


async def test_every_step_from_question_to_transfer_and_support_answer(client, accounts, supplier, recipient, operator):
    agent = await join_and_log_in(accounts, recipient, can_consult=True)
    agent_id = await _user_id(agent)
    await accounts.logout()
    await accounts.login(supplier)
    sent = await open_ticket(client, QUESTION, "Code service des écoles ?", "Lequel indiquer ?", recipient=recipient.siret,
                             files=[("bon.pdf", PDF)])
    ticket_id = int(sent.headers["location"].rsplit("/", 1)[1])
    author_id = await _user_id(supplier)
    assert "Code service des écoles" in (await client.get("/tickets?tab=en_cours")).text
    await accounts.logout()

    await accounts.login(agent)
    # The step that waits for the structure notified its agents (the gestionnaire who signed up, and this one).
    pushes = [_payload(r) for r in await Outbox.select().where((Outbox.channel == "push") & (Outbox.event_type == "ticket.updated")).order_by(Outbox.id)]
    assert agent_id in pushes[-1]["audience"]["user_ids"] and author_id not in pushes[-1]["audience"]["user_ids"]
    assert "Code service des écoles" in (await client.get("/tickets/received?tab=a_traiter")).text
    page = await client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and "bon.pdf" in page.text and "Prendre en charge" in page.text

    refused = await act(client, ticket_id, "answer", "Le code est ECOLES")
    assert refused.status_code == 409 and "Prenez d'abord ce ticket en charge" in unescape(refused.text), re.sub(r"<[^>]+>", " ", refused.text)[-3000:]
    assert (await act(client, ticket_id, "complete", "x")).status_code == 403  # an author's action
    assert (await act(client, ticket_id, "assign")).status_code == 303
    assert (await act(client, ticket_id, "ask_info", "")).status_code == 422  # a request says what it needs
    assert (await act(client, ticket_id, "ask_info", "Pour quelle école ?", files=[("plan.png", PNG)])).status_code == 303
    mails = [_payload(r) for r in await Outbox.select().where(Outbox.channel == "ticket_mail").order_by(Outbox.id)]
    assert mails[-1]["user_id"] == author_id and "Pour quelle école" in mails[-1]["text"]
    await accounts.logout()

    await accounts.login(supplier)
    assert "Code service des écoles" in (await client.get("/tickets?tab=actions")).text
    assert (await act(client, ticket_id, "answer", "non")).status_code == 403  # a receiver's action
    assert (await act(client, ticket_id, "complete", "L'école Jules Ferry.")).status_code == 303
    assert (await Ticket.objects().get(Ticket.id == ticket_id)).status == "EN_COURS"
    assert [_payload(r) for r in await Outbox.select().where(Outbox.channel == "ticket_mail").order_by(Outbox.id)][-1]["user_id"] == agent_id
    await accounts.logout()

    await accounts.login(agent)
    assert (await act(client, ticket_id, "answer", "Indiquez ECOLES.")).status_code == 303
    await accounts.logout()
    await accounts.login(supplier)
    assert (await act(client, ticket_id, "reopen", "Et pour la cantine ?")).status_code == 303
    await accounts.logout()
    await accounts.login(agent)
    assert (await act(client, ticket_id, "assign")).status_code == 303
    assert (await act(client, ticket_id, "transfer", "Question pour la plateforme.")).status_code == 303
    left = await client.get(f"/tickets/{ticket_id}")  # it left the structure: only that is said
    assert left.status_code == 200 and "Ce ticket a été transféré au support" in left.text and "cantine" not in left.text
    await accounts.logout()

    await accounts.login(operator)
    operator_id = await _user_id(operator)
    ticket = await Ticket.objects().get(Ticket.id == ticket_id)
    assert ticket.receiver_structure is None and ticket.assignee is None and ticket.status == "OUVERT"
    assert "Code service des écoles" in (await client.get("/support/tickets?tab=a_traiter")).text
    assert (await act(client, ticket_id, "transfer")).status_code in (303, 409)
    assert (await act(client, ticket_id, "assign")).status_code == 303
    assert (await act(client, ticket_id, "transfer")).status_code == 409  # already with the support team
    assert (await act(client, ticket_id, "answer", "La cantine a le code CANTINE.")).status_code == 303
    await accounts.logout()

    await accounts.login(supplier)
    assert (await act(client, ticket_id, "author_close")).status_code == 303
    assert "Code service des écoles" in (await client.get("/tickets?tab=clotures")).text
    history = await TicketEntry.select(TicketEntry.action, TicketEntry.to_status, TicketEntry.actor).where(
        TicketEntry.ticket == ticket_id).order_by(TicketEntry.id)
    assert [(h["action"], h["to_status"]) for h in history] == [
        ("submit", "OUVERT"), ("assign", "EN_COURS"), ("ask_info", "INFO_DEMANDEE"), ("complete", "EN_COURS"),
        ("answer", "REPONDU"), ("reopen", "OUVERT"), ("assign", "EN_COURS"), ("transfer", "OUVERT"), ("assign", "EN_COURS"),
        ("answer", "REPONDU"), ("author_close", "CLOS")]
    assert history[-2]["actor"] == operator_id
    assert await Event.count().where(Event.kind == "ticket.updated") == len(history)
    # The support answer is for the author: push and e-mail rows name them.
    push = [_payload(r) for r in await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)]
    assert any(p["audience"]["user_ids"] == [author_id] and p["action"] == "answer" for p in push)
    # A transfer waits for the operators.
    assert any(p["audience"]["user_ids"] == [operator_id] and p["action"] == "transfer" for p in push)


async def test_nobody_else_sees_a_ticket(client, accounts, supplier, recipient, operator):
    await accounts.login(supplier)
    await make_user(recipient.id, can_consult=True)
    to_structure = int((await open_ticket(client, QUESTION, "Question", "Texte", recipient=recipient.siret,
                                          files=[("a.pdf", PDF)])).headers["location"].rsplit("/", 1)[1])
    to_support = int((await open_ticket(client, ACCOUNT, "Mot de passe", "Texte")).headers["location"].rsplit("/", 1)[1])
    file_id = (await TicketAttachment.objects().first()).id
    await accounts.logout()

    await accounts.registered(company="Autre entreprise")  # an outsider
    for url in (f"/tickets/{to_structure}", f"/tickets/{to_structure}/panel", f"/tickets/{to_structure}/attachments/{file_id}",
                f"/tickets/{to_support}", "/support/tickets", "/tickets/received"):
        assert (await client.get(url)).status_code == 404, url
    before = await _counts()
    assert (await act(client, to_structure, "assign")).status_code == 404
    assert (await act(client, to_support, "author_close")).status_code == 404
    assert await _counts() == before
    await accounts.logout()

    agent = await join_and_log_in(accounts, recipient, can_consult=True)
    assert (await client.get(f"/tickets/{to_structure}")).status_code == 200
    assert (await client.get(f"/tickets/{to_support}")).status_code == 404  # support's, not the structure's
    await accounts.logout()
    await accounts.login(operator)
    assert (await client.get(f"/tickets/{to_support}")).status_code == 200
    assert (await client.get(f"/tickets/{to_structure}")).status_code == 404  # the structure's, not support's
    assert agent


async def test_drafts_are_the_authors_until_sent(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_consult=True)
    saved = await open_ticket(client, QUESTION, "Brouillon de question", "", recipient=recipient.siret, intent="draft",
                              files=[("devis.pdf", PDF)])
    assert saved.status_code == 303 and saved.headers["location"] == "/tickets?tab=brouillons"
    draft = await Ticket.objects().first()
    assert draft.status == "BROUILLON" and await TicketEntry.count() == 0 and await Outbox.count() == 0
    assert "Brouillon de question" in (await client.get("/tickets?tab=brouillons")).text
    assert (await client.get(f"/tickets/{draft.id}", follow_redirects=False)).headers["location"] == f"/tickets/new?draft={draft.id}"
    resumed = await client.get(f"/tickets/new?draft={draft.id}")
    assert "devis.pdf" in resumed.text and recipient.siret in resumed.text

    refused = await open_ticket(client, QUESTION, "Brouillon de question", "", recipient=recipient.siret, draft_id=draft.id)
    assert refused.status_code == 422 and (await Ticket.objects().first()).status == "BROUILLON"
    sent = await open_ticket(client, QUESTION, "Question envoyée", "Le texte, enfin.", recipient=recipient.siret, draft_id=draft.id,
                             files=[("photo.png", PNG)])
    assert sent.status_code == 303 and await Ticket.count() == 1
    [entry] = await TicketEntry.select().where(TicketEntry.ticket == draft.id)
    assert entry["body"] == "Le texte, enfin."
    assert await TicketAttachment.count().where(TicketAttachment.entry == entry["id"]) == 2  # the draft's file and the new one
    again = await open_ticket(client, QUESTION, "x", "y", recipient=recipient.siret, draft_id=draft.id)
    assert again.status_code == 409  # sent: no longer a draft

    other = await open_ticket(client, ACCOUNT, "À jeter", "", intent="draft")
    other_id = (await Ticket.objects().where(Ticket.subject == "À jeter").first()).id
    assert other.status_code == 303
    await accounts.logout()
    await join_and_log_in(accounts, recipient, can_consult=True)
    assert (await client.get(f"/tickets/new?draft={other_id}")).status_code == 404  # a draft is the author's only
    await accounts.logout()
    await accounts.login(supplier)
    page = await client.get(f"/tickets/new?draft={other_id}")
    from tests.support.web import csrf_from

    gone = await client.post(f"/tickets/{other_id}/discard", data={"_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert gone.status_code == 303 and await Ticket.count() == 1
