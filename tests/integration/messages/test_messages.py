"""Messages (sollicitations) on an invoice: both sides write and read, unread counts, files,
notifications written with the message, access for the two structures only, refused input."""

from __future__ import annotations

import asyncio
import json

import pytest

from backend.accounts.tables import Membership
from backend.directory.tables import Structure
from backend.invoices.deposit import Upload
from backend.invoices.storage import sha256_of
from backend.invoices.tables import StoredFile
from backend.messages import service
from backend.messages.service import unread_by_invoice, unread_count_for_structure
from backend.messages.tables import Message, MessageAttachment, MessageRead
from backend.processing.tables import Outbox
from backend.tracking.tables import Event
from tests.integration.messages.conftest import PDF, PNG, join_and_log_in, post_message
from tests.support.web import csrf_from


async def _counts() -> dict[str, int]:
    return {
        "messages": await Message.count(), "files": await MessageAttachment.count(),
        "outbox": await Outbox.count().where(Outbox.event_type == "message.created"),
        "events": await Event.count().where(Event.kind == "message.created"),
    }


async def test_both_sides_write_and_read_and_the_unread_counts_follow(client, accounts, invoice, supplier, recipient, agent_of):
    # The supplier writes without JavaScript: a plain form post, then back to the invoice page.
    sent = await post_message(client, invoice.id, "  Bonjour, le bon de commande est-il bien reçu ?  ")
    assert sent.status_code == 303 and sent.headers["location"] == f"/invoices/{invoice.id}#messages"
    first = await Message.objects().first()
    assert first.body == "Bonjour, le bon de commande est-il bien reçu ?" and first.side == "supplier"
    assert await unread_count_for_structure(recipient.id) == 1
    assert await unread_count_for_structure(invoice.supplier) == 0  # one's own message is read
    assert await unread_by_invoice(recipient.id, [invoice.id]) == {invoice.id: 1}

    # The agent sees the badge and the notification, then opens the invoice: read.
    await agent_of()
    assert "nav-badge" in (await client.get("/notifications/badge")).text
    notifications = await client.get("/notifications")
    assert f'/invoices/{invoice.id}#messages' in notifications.text and "1 non lu" in notifications.text
    page = await client.get(f"/invoices/{invoice.id}")
    assert "le bon de commande est-il bien reçu" in page.text and "1 nouveau message" in page.text
    assert f'hx-trigger="sse:invoice-{invoice.id}"' in page.text  # the live refresh of CONTRACTS.md
    assert await unread_count_for_structure(recipient.id) == 0
    assert "nav-badge" not in (await client.get("/notifications/badge")).text
    assert "Aucun message non lu" in (await client.get("/notifications")).text

    # The agent answers with htmx: the thread section comes back with both messages.
    answer = await post_message(client, invoice.id, "Oui, reçu hier.", htmx=True)
    assert answer.status_code == 201
    assert answer.text.lstrip().startswith('<section class="card thread" id="messages"')
    assert "le bon de commande" in answer.text and "Oui, reçu hier." in answer.text
    assert await unread_count_for_structure(invoice.supplier) == 1
    assert await unread_by_invoice(invoice.supplier, [invoice.id, invoice.id + 1000]) == {invoice.id: 1}
    assert await unread_count_for_structure(recipient.id) == 0

    # Back to the supplier: the fragment (what the live refresh fetches) reads the thread.
    await accounts.logout()
    await accounts.login(supplier)
    fragment = await client.get(f"/invoices/{invoice.id}/messages", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Oui, reçu hier." in fragment.text and "<html" not in fragment.text
    assert await unread_count_for_structure(invoice.supplier) == 0
    assert await MessageRead.count() == 2  # one marker per structure, however often it is read
    await client.get(f"/invoices/{invoice.id}")
    assert await MessageRead.count() == 2


async def test_the_other_side_is_notified_in_the_same_transaction(client, invoice, recipient):
    await post_message(client, invoice.id, "Une question sur la ligne 2 : " + "x" * 300)
    message = await Message.objects().first()
    rows = {r["channel"]: r for r in await Outbox.select().where(Outbox.event_type == "message.created").output(load_json=True)}
    assert set(rows) == {"push", "webhook"}
    push = rows["push"]["payload"] if isinstance(rows["push"]["payload"], dict) else json.loads(rows["push"]["payload"])
    assert push["audience"] == {"structure_id": recipient.id}
    assert push["invoice_id"] == invoice.id and push["number"] == invoice.number and push["message_id"] == message.id
    assert push["supplier_id"] == invoice.supplier and push["recipient_id"] == recipient.id
    assert push["url"] == f"/invoices/{invoice.id}#messages" and invoice.number in push["title"]
    assert push["body"].startswith("Le fournisseur\u00a0: Une question") and len(push["body"]) < 200
    event = await Event.objects().where(Event.kind == "message.created").first()
    assert (event.invoice, event.supplier, event.recipient) == (invoice.id, invoice.supplier, recipient.id)


async def test_a_failure_inside_the_transaction_leaves_nothing(client, invoice, settings, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("the event log is unavailable")

    monkeypatch.setattr(service, "record_event", broken)  # fails after the message and outbox inserts
    author = (await Membership.objects().where(Membership.structure == invoice.supplier).first()).user
    before = await _counts()
    with pytest.raises(RuntimeError):
        await service.post_message(settings, invoice.id, author, invoice.supplier, "Bonjour", [Upload("bon.png", PNG)])
    assert await _counts() == before
    assert await MessageRead.count() == 0


async def test_attachments_are_stored_by_content_and_downloadable_by_both_sides(client, accounts, invoice, agent_of):
    sent = await post_message(client, invoice.id, "Le bon de livraison et la photo", [("bon.pdf", PDF), ("C:\\photos\\colis.png", PNG)])
    assert sent.status_code == 303
    files = await MessageAttachment.select().order_by(MessageAttachment.id)
    assert [(f["filename"], f["media_type"], f["size"]) for f in files] == [
        ("bon.pdf", "application/pdf", len(PDF)), ("colis.png", "image/png", len(PNG))]
    stored = await StoredFile.objects().get(StoredFile.id == files[0]["file"])
    assert stored.sha256 == sha256_of(PDF)

    await agent_of()
    page = await client.get(f"/invoices/{invoice.id}")
    url = f"/invoices/{invoice.id}/messages/attachments/{files[0]['id']}"
    assert url in page.text
    download = await client.get(url)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="bon.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("application/pdf")

    # The same content sent again is stored once.
    await post_message(client, invoice.id, "Le même bon", [("encore.pdf", PDF)])
    assert await StoredFile.count().where(StoredFile.sha256 == sha256_of(PDF)) == 1
    assert await MessageAttachment.count() == 3


async def test_another_structure_gets_404_everywhere_and_nothing_is_written(client, accounts, invoice):
    await post_message(client, invoice.id, "Message avec pièce", [("bon.pdf", PDF)])
    attachment = await MessageAttachment.objects().first()
    before = await _counts()
    await accounts.logout()
    await accounts.registered()  # another supplier structure
    csrf = csrf_from((await client.get("/deposits")).text)
    assert (await client.get(f"/invoices/{invoice.id}/messages")).status_code == 404
    assert (await post_message(client, invoice.id, "Intrus", csrf=csrf)).status_code == 404
    assert (await client.get(f"/invoices/{invoice.id}/messages/attachments/{attachment.id}")).status_code == 404
    assert (await client.get(f"/invoices/{invoice.id + 99}/messages")).status_code == 404
    assert await _counts() == before
    assert await unread_count_for_structure((await Membership.objects().order_by(Membership.id, ascending=False).first()).structure) == 0


async def test_a_member_without_the_consult_right_is_refused(client, accounts, invoice):
    await post_message(client, invoice.id, "Message avec pièce", [("bon.pdf", PDF)])
    attachment = await MessageAttachment.objects().first()
    before = await _counts()
    supplier_structure = await Structure.objects().get(Structure.id == invoice.supplier)
    await join_and_log_in(accounts, supplier_structure, can_consult=False)
    # No right in "Factures émises" (spaces, #15): the space guard refuses the invoice and its thread, 404.
    page = await client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 404 and "Message avec pièce" not in page.text
    assert (await client.get(f"/invoices/{invoice.id}/messages")).status_code == 404
    refused = await post_message(client, invoice.id, "Je tente", csrf=csrf_from((await client.get("/account")).text))
    assert refused.status_code == 404
    assert (await client.get(f"/invoices/{invoice.id}/messages/attachments/{attachment.id}")).status_code == 404
    assert await _counts() == before


async def test_posting_needs_the_csrf_token(client, invoice):
    response = await client.post(f"/invoices/{invoice.id}/messages", data={"body": "Sans jeton"})
    assert response.status_code == 403
    assert await Message.count() == 0


@pytest.mark.parametrize(("body", "files", "status", "words"), [
    ("   \n ", [], 422, "Écrivez votre message"),
    ("x" * 5001, [], 422, "dépasse 5000 caractères"),
    ("Voici le fichier", [("notes.txt", b"plain text, not a PDF")], 415, "ni un PDF, ni une image"),
    ("Voici la photo", [("grosse.png", PNG + b"\x00" * 2048)], 413, "dépasse"),
    ("Trop de pièces", [(f"p{i}.png", PNG) for i in range(11)], 422, "Trop de pièces jointes"),
])
@pytest.mark.parametrize("htmx", [False, True])
async def test_refused_input_gets_a_french_4xx_and_writes_nothing(client, app, invoice, settings, body, files, status, words, htmx):
    import msgspec

    app.state.settings = msgspec.structs.replace(settings, max_file_size=1024)  # a small limit, a small test
    before = await _counts()
    stored_before = await StoredFile.count()
    response = await post_message(client, invoice.id, body, files, htmx=htmx)
    assert response.status_code == status
    assert words in response.text
    assert ('<section class="card thread" id="messages"' in response.text.lstrip()[:60]) is htmx
    if body.strip() and len(body) <= 5000:
        assert body in response.text  # what was typed is given back
    assert await _counts() == before and await StoredFile.count() == stored_before
    assert await MessageRead.count() == 0


async def test_a_message_of_exactly_5000_characters_is_accepted(client, invoice):
    response = await post_message(client, invoice.id, "é" * 5000)
    assert response.status_code == 303
    assert len((await Message.objects().first()).body) == 5000


async def test_concurrent_readers_share_one_marker(client, invoice, recipient):
    await post_message(client, invoice.id, "Premier")
    await post_message(client, invoice.id, "Second")
    results = await asyncio.gather(*(service.mark_read(invoice.id, recipient.id) for _ in range(4)))
    assert sum(results) >= 2 and await MessageRead.count().where(MessageRead.structure == recipient.id) == 1
    newest = await Message.select(Message.id).order_by(Message.id, ascending=False).first()
    marker = await MessageRead.objects().get(MessageRead.structure == recipient.id)
    assert marker.last_read_message == newest["id"]
    assert await unread_count_for_structure(recipient.id) == 0


async def test_the_outbox_worker_accepts_the_message_rows(client, invoice):
    """The push and webhook handlers take the rows as written (no subscription, no webhook: nothing to send)."""
    from backend.processing import worker

    await post_message(client, invoice.id, "Une question")
    worker.load_handlers()
    await worker.run_once(["push", "webhook"])
    rows = await Outbox.select().where(Outbox.event_type == "message.created").order_by(Outbox.id)
    assert {r["channel"] for r in rows} >= {"push", "webhook"}
    for row in rows:
        assert row["failed_at"] is None and row["last_error"] == "", row
    assert all(r["delivered_at"] is not None for r in rows if r["channel"] in ("push", "webhook"))


async def test_notifications_page_lists_the_other_sides_status_changes(client, invoice, recipient):
    from backend.processing import lifecycle
    from tests.integration.processing.conftest import make_user

    agent = await make_user(recipient.id, can_process=True)
    await lifecycle.change_status(invoice.id, lifecycle.Actor("recipient", agent), "REJETEE", expected_version=invoice.version,
                                  reason_code="DOUBLON", comment="Déjà reçue")
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "Rejetée (210)" in page.text and f"Facture {invoice.number}" in page.text
    assert "Déposée (200)" not in page.text  # the supplier's own step is not news to it
    assert "Aucun message non lu" in page.text


async def test_notifications_name_the_other_side_as_registered_not_as_the_file_says(client, accounts, invoice, recipient, agent_of):
    """A file may name its buyer or seller another way (a trading name, a typo): people are told
    who it is by the name registered in Facteur, as on the invoice page."""
    from backend.invoices.tables import Invoice
    from backend.processing import lifecycle
    from tests.integration.processing.conftest import make_user

    await Invoice.update({Invoice.buyer_name: "MAIRIE TYPO", Invoice.seller_name: "DUPONT TYPO"}).where(Invoice.id == invoice.id)
    agent = await make_user(recipient.id, can_process=True)
    await lifecycle.change_status(invoice.id, lifecycle.Actor("recipient", agent), "PRISE_EN_CHARGE", expected_version=invoice.version)
    supplier_view = await client.get("/notifications")  # the supplier sees the recipient's step
    assert recipient.name in supplier_view.text and "MAIRIE TYPO" not in supplier_view.text
    await post_message(client, invoice.id, "Le bon de commande est joint.")
    await agent_of()
    agent_view = await client.get("/notifications")  # the agent sees the supplier's unread message
    supplier_name = (await Structure.select(Structure.name).where(Structure.id == invoice.supplier).first())["name"]
    assert supplier_name in agent_view.text and "DUPONT TYPO" not in agent_view.text
