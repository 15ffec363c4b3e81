"""Questions to a public structure, without an invoice: a supplier asks from the directory page,
the structure's agents see it in /notifications and answer; unread counts on both sides,
push and webhook rows written with the message, the two structures only, refused input."""

from __future__ import annotations

import json
from html import unescape

import msgspec
import pytest

from backend.accounts.tables import Membership
from backend.directory.tables import Structure
from backend.invoices.tables import StoredFile
from backend.messages.service import unread_count_for_structure
from backend.messages.tables import Message, MessageAttachment, MessageRead, MessageThread
from backend.processing.tables import Outbox
from backend.tracking.tables import Event
from tests.integration.messages.conftest import PDF, PNG, join_and_log_in
from tests.integration.processing.conftest import make_user, public_structure
from tests.support.web import csrf_from

SUBJECT = "Quel code service pour les travaux de voirie ?"


async def _counts() -> dict[str, int]:
    return {
        "questions": await MessageThread.count(), "messages": await Message.count(), "files": await MessageAttachment.count(),
        "stored": await StoredFile.count(), "markers": await MessageRead.count(),
        "outbox": await Outbox.count().where(Outbox.event_type == "message.created"),
        "events": await Event.count().where(Event.kind == "message.created"),
    }


async def ask(client, siret: str, subject: str, body: str, files=(), *, csrf: str | None = None):
    """What the directory page's form posts."""
    csrf = csrf if csrf is not None else csrf_from((await client.get(f"/directory/{siret}")).text)
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    return await client.post("/questions", data={"recipient": siret, "subject": subject, "body": body, "_csrf_token": csrf},
                             files=parts or None, follow_redirects=False)


async def answer(client, question_id: int, body: str, files=(), *, htmx: bool = False):
    csrf = csrf_from((await client.get(f"/questions/{question_id}")).text)
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    return await client.post(f"/questions/{question_id}/messages", data={"body": body, "_csrf_token": csrf}, files=parts or None,
                             headers={"HX-Request": "true"} if htmx else {}, follow_redirects=False)


def _payload(row: dict) -> dict:
    return row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])


async def test_a_structure_without_agents_is_said_so_before_typing(client, supplier, recipient):
    page = await client.get(f"/directory/{recipient.siret}")
    assert page.status_code == 200
    assert "aucun agent inscrit sur Facteur" in unescape(page.text) and "Envoyer la question" not in unescape(page.text)
    before = await _counts()
    refused = await ask(client, recipient.siret, SUBJECT, "Bonjour", csrf=csrf_from(page.text))
    assert refused.status_code == 409 and "aucun agent inscrit sur Facteur" in unescape(refused.text)
    assert await _counts() == before

    await make_user(recipient.id, can_process=True)
    page = await client.get(f"/directory/{recipient.siret}")
    assert "Envoyer la question" in unescape(page.text) and "1 agent de la structure est inscrit" in unescape(page.text)


async def test_supplier_asks_agents_answer_and_both_sides_count_unread(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    supplier_id = (await Structure.objects().get(Structure.siret == supplier.siret)).id
    sent = await ask(client, recipient.siret, "  " + SUBJECT + " ", "Bonjour,\nquel code service indiquer ?", [("plan.pdf", PDF)])
    assert sent.status_code == 303
    question = await MessageThread.objects().first()
    assert sent.headers["location"] == f"/questions/{question.id}"
    assert (question.subject, question.supplier, question.recipient) == (SUBJECT, supplier_id, recipient.id)
    [first] = await Message.select().where(Message.thread == question.id)
    assert first["invoice"] is None and first["side"] == "supplier" and first["audience"] == recipient.id
    assert await unread_count_for_structure(recipient.id) == 1
    assert await unread_count_for_structure(supplier_id) == 0
    own_page = await client.get(f"/questions/{question.id}")
    assert own_page.status_code == 200 and "quel code service indiquer ?" in unescape(own_page.text)
    assert f'hx-trigger="sse:question-{question.id}"' in unescape(own_page.text)
    assert SUBJECT in (await client.get(f"/directory/{recipient.siret}")).text  # "Vos questions à cette structure"

    # The push and webhook rows and the live event are written with the message.
    rows = {r["channel"]: r for r in await Outbox.select().where(Outbox.event_type == "message.created").order_by(Outbox.id)}
    assert set(rows) == {"push", "webhook"} and all(r["invoice"] is None for r in rows.values())
    push = _payload(rows["push"])
    assert push["audience"] == {"structure_id": recipient.id} and push["question"] == {"id": question.id, "subject": SUBJECT}
    assert push["url"] == f"/questions/{question.id}" and push["title"] == f"Question\u00a0: {SUBJECT}"
    assert push["body"].startswith("Menuiserie Dupont SARL\u00a0: Bonjour") and "invoice_id" not in push
    assert _payload(rows["webhook"])["attachments"] == 1
    event = await Event.objects().where(Event.kind == "message.created").first()
    assert (event.invoice, event.supplier, event.recipient) == (0, supplier_id, recipient.id)
    assert (event.payload if isinstance(event.payload, dict) else json.loads(event.payload))["question_id"] == question.id

    # An agent of the structure: badge, /notifications (Questions), /questions, then the page marks it read.
    await join_and_log_in(accounts, recipient, can_process=True)
    assert "nav-badge" in (await client.get("/notifications/badge")).text
    notifications = await client.get("/notifications")
    assert f'href="/questions/{question.id}"' in unescape(notifications.text) and SUBJECT in unescape(notifications.text)
    assert "1 non lu" in unescape(notifications.text) and "Menuiserie Dupont SARL" in unescape(notifications.text)
    listed = await client.get("/questions")
    assert listed.status_code == 200 and SUBJECT in unescape(listed.text) and "Posée par Menuiserie Dupont SARL" in unescape(listed.text)
    page = await client.get(f"/questions/{question.id}")
    assert page.status_code == 200 and "quel code service indiquer ?" in unescape(page.text) and "1 nouveau message" in unescape(page.text)
    attachment = await MessageAttachment.objects().first()
    download = await client.get(f"/questions/{question.id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="plan.pdf"'
    assert await unread_count_for_structure(recipient.id) == 0
    assert "nav-badge" not in (await client.get("/notifications/badge")).text

    # The agent answers (htmx): the thread comes back; the supplier's side now has one unread.
    replied = await answer(client, question.id, "Indiquez le code VOIRIE-01.", htmx=True)
    assert replied.status_code == 201 and replied.text.lstrip().startswith('<section class="card thread" id="messages"')
    assert "Indiquez le code VOIRIE-01." in unescape(replied.text) and "quel code service indiquer ?" in unescape(replied.text)
    assert await unread_count_for_structure(supplier_id) == 1 and await unread_count_for_structure(recipient.id) == 0
    push_rows = await Outbox.select().where((Outbox.event_type == "message.created") & (Outbox.channel == "push")).order_by(Outbox.id)
    assert _payload(push_rows[-1])["audience"] == {"structure_id": supplier_id}
    assert _payload(push_rows[-1])["body"] == "Commune de Paris\u00a0: Indiquez le code VOIRIE-01."

    # Back to the supplier: /notifications shows the answer unread; the fragment reads it.
    await accounts.logout()
    await accounts.login(supplier)
    notifications = await client.get("/notifications")
    assert SUBJECT in unescape(notifications.text) and "1 non lu" in unescape(notifications.text)
    fragment = await client.get(f"/questions/{question.id}/messages", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Indiquez le code VOIRIE-01." in unescape(fragment.text) and "<html" not in unescape(fragment.text)
    assert await unread_count_for_structure(supplier_id) == 0
    assert await MessageRead.count() == 2  # one marker per structure

    # Kept: nothing edits or deletes a question or its messages.
    csrf = csrf_from((await client.get(f"/questions/{question.id}")).text)
    for method in ("DELETE", "PUT", "PATCH"):
        response = await client.request(method, f"/questions/{question.id}", headers={"X-CSRFToken": csrf})
        assert response.status_code == 405
    assert await Message.count().where(Message.thread == question.id) == 2


async def test_a_third_structure_sees_nothing(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    await ask(client, recipient.siret, SUBJECT, "Question confidentielle", [("plan.pdf", PDF)])
    question = await MessageThread.objects().first()
    attachment = await MessageAttachment.objects().first()
    before = await _counts()
    # Another company, then the agent of another public structure: 404 everywhere, nothing listed.
    other_town = await public_structure("Mairie de Lyon")
    for log_in in (accounts.registered, lambda: join_and_log_in(accounts, other_town, can_process=True)):
        await accounts.logout()
        await log_in()
        csrf = csrf_from((await client.get("/questions")).text)
        assert (await client.get(f"/questions/{question.id}")).status_code == 404
        assert (await client.get(f"/questions/{question.id}/messages")).status_code == 404
        assert (await client.get(f"/questions/{question.id}/attachments/{attachment.id}")).status_code == 404
        intrusion = await client.post(f"/questions/{question.id}/messages", data={"body": "Intrus", "_csrf_token": csrf})
        assert intrusion.status_code == 404
        assert (await client.get(f"/questions/{question.id + 99}")).status_code == 404
        assert SUBJECT not in (await client.get("/questions")).text
        assert SUBJECT not in (await client.get("/notifications")).text
        assert "nav-badge" not in (await client.get("/notifications/badge")).text
    assert await _counts() == before


async def test_a_member_without_the_consult_right_is_refused(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    await ask(client, recipient.siret, SUBJECT, "Question")
    question = await MessageThread.objects().first()
    before = await _counts()
    await join_and_log_in(accounts, recipient, can_consult=False, can_process=False)
    # No right in "Tickets reçus" (spaces, #15): the space guard refuses, 404.
    assert (await client.get(f"/questions/{question.id}")).status_code == 404
    assert (await client.get(f"/questions/{question.id}/messages")).status_code == 404
    assert await _counts() == before


@pytest.mark.parametrize(("subject", "body", "files", "status", "words"), [
    ("", "Bonjour", [], 422, "Indiquez l'objet de votre question"),
    ("x" * 201, "Bonjour", [], 422, "L'objet dépasse 200 caractères"),
    (SUBJECT, "  \n ", [], 422, "Écrivez votre message"),
    (SUBJECT, "x" * 5001, [], 422, "dépasse 5000 caractères"),
    (SUBJECT, "Voici le fichier", [("notes.txt", b"plain text")], 415, "ni un PDF, ni une image"),
    (SUBJECT, "Voici la photo", [("grosse.png", PNG + b"\x00" * 2048)], 413, "dépasse"),
    (SUBJECT, "Trop de pièces", [(f"p{i}.png", PNG) for i in range(11)], 422, "Trop de pièces jointes"),
])
async def test_refused_questions_get_a_french_4xx_and_write_nothing(client, app, settings, supplier, recipient,
                                                                   subject, body, files, status, words):
    app.state.settings = msgspec.structs.replace(settings, max_file_size=1024)  # a small limit, a small test
    await make_user(recipient.id, can_process=True)
    before = await _counts()
    response = await ask(client, recipient.siret, subject, body, files)
    assert response.status_code == status
    assert words in unescape(response.text) and "Poser une question à cette structure" in unescape(response.text)
    if subject and len(subject) <= 200:
        assert subject in unescape(response.text)  # what was typed is given back
    if body.strip() and len(body) <= 5000:
        assert body in unescape(response.text)
    assert await _counts() == before


async def test_only_a_supplier_with_rights_asks_a_public_structure_of_the_directory(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    before = await _counts()
    csrf = csrf_from((await client.get(f"/directory/{recipient.siret}")).text)
    unknown = await ask(client, "12345678901234", SUBJECT, "Bonjour", csrf=csrf)
    assert unknown.status_code == 404 and "Cette page n'existe pas" in unescape(unknown.text)
    company = await Structure.objects().get(Structure.siret == supplier.siret)
    not_public = await ask(client, company.siret, SUBJECT, "Bonjour", csrf=csrf)
    assert not_public.status_code == 404
    # An agent of a public structure does not ask another one from the directory.
    other_town = await public_structure("Mairie de Lyon")
    await make_user(other_town.id, can_process=True)
    await accounts.logout()
    await join_and_log_in(accounts, recipient, can_process=True)
    page = await client.get(f"/directory/{other_town.siret}")
    assert "Seul un membre d'une entreprise" in unescape(page.text) and "Envoyer la question" not in unescape(page.text)
    refused = await ask(client, other_town.siret, SUBJECT, "Bonjour", csrf=csrf_from(page.text))
    assert refused.status_code == 403 and "Seul un membre d'une entreprise" in unescape(refused.text)
    assert (await ask(client, "12345678901234", SUBJECT, "Bonjour", csrf=csrf_from(page.text))).status_code == 404
    # A member of the company with neither the consult nor the deposit right.
    await accounts.logout()
    await join_and_log_in(accounts, company, can_consult=False, can_deposit=False)
    page = await client.get(f"/directory/{recipient.siret}")
    assert "ni de déposer" in unescape(page.text) and "Envoyer la question" not in unescape(page.text)
    refused = await ask(client, recipient.siret, SUBJECT, "Bonjour", csrf=csrf_from(page.text))
    assert refused.status_code == 404  # no right in "Tickets émis": the space guard refuses (spaces, #15)
    assert await _counts() == before
    # Without the CSRF token: refused, nothing written.
    assert (await client.post("/questions", data={"recipient": recipient.siret, "subject": SUBJECT, "body": "x"})).status_code == 403
    assert await _counts() == before


async def test_a_refused_answer_is_given_back_in_place(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    await ask(client, recipient.siret, SUBJECT, "Bonjour")
    question = await MessageThread.objects().first()
    before = await _counts()
    response = await answer(client, question.id, "Et ce fichier", [("notes.txt", b"plain text")], htmx=True)
    assert response.status_code == 415 and "ni un PDF, ni une image" in unescape(response.text) and "Et ce fichier" in unescape(response.text)
    assert response.text.lstrip().startswith('<section class="card thread" id="messages"')
    plain = await answer(client, question.id, "   ")
    assert plain.status_code == 422 and "Écrivez votre message" in unescape(plain.text) and SUBJECT in unescape(plain.text)
    assert await _counts() == before


async def test_a_deposit_only_member_may_ask_and_read_their_question(client, accounts, supplier, recipient):
    await make_user(recipient.id, can_process=True)
    company = await Structure.objects().get(Structure.siret == supplier.siret)
    await accounts.logout()
    await join_and_log_in(accounts, company, can_consult=False, can_deposit=True)
    sent = await ask(client, recipient.siret, SUBJECT, "Bonjour")
    assert sent.status_code == 303
    assert (await client.get(sent.headers["location"])).status_code == 200


async def test_invoice_threads_and_questions_count_apart(client, accounts, supplier, recipient, invoice):
    """The two anchors share the tables: a question's marker never counts for an invoice, nor the reverse."""
    from backend.messages.service import unread_by_invoice, unread_by_question
    from tests.integration.messages.conftest import post_message

    await make_user(recipient.id, can_process=True)
    await post_message(client, invoice.id, "Sur la facture")
    await ask(client, recipient.siret, SUBJECT, "Hors facture")
    question = await MessageThread.objects().first()
    assert await unread_by_invoice(recipient.id) == {invoice.id: 1}
    assert await unread_by_question(recipient.id) == {question.id: 1}
    assert await unread_count_for_structure(recipient.id) == 2


async def test_lists_put_unread_questions_first_and_notifications_only_the_unread(client, settings, supplier, recipient):
    from backend.messages import questions

    agent = await make_user(recipient.id, can_process=True)
    for subject in ("Première question", "Seconde question"):
        assert (await ask(client, recipient.siret, subject, "Bonjour")).status_code == 303
    first, second = await MessageThread.objects().order_by(MessageThread.id)
    await questions.answer(settings, first.id, agent, recipient.id, "Réponse à la première")
    supplier_id = first.supplier
    assert [q["subject"] for q in await questions.questions_of(supplier_id)] == ["Première question", "Seconde question"]
    assert [(q["subject"], q["unread"]) for q in await questions.questions_of(supplier_id, unread_only=True)] == [("Première question", 1)]
    # The agent has read the first (its newest message): the unread second comes first.
    from backend.messages.service import mark_read

    assert await mark_read(first.id, recipient.id, "thread") == 1
    assert [q["subject"] for q in await questions.questions_of(recipient.id)] == ["Seconde question", "Première question"]
    notifications = unescape((await client.get("/notifications")).text)
    assert "Première question" in notifications and "Seconde question" not in notifications
    listed = unescape((await client.get("/questions")).text)
    assert listed.index("Première question") < listed.index("Seconde question") and "Réponse à la première" in listed
