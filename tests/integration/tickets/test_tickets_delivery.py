"""A ticket step that waits for someone really goes out: the outbox worker delivers the push to the
receiver's device (the loopback push service) and the e-mail to the receiver (a real SMTP server)."""

from __future__ import annotations

import msgspec

from backend.processing import worker
from backend.tickets import mails
from tests.integration.notifications.conftest import app, push_handlers, push_service, subscribe  # noqa: F401  (fixtures)
from tests.integration.test_mail import smtp_server  # noqa: F401  (fixture)
from tests.integration.tickets.conftest import QUESTION, join_and_log_in, open_ticket

CHANNELS = ["push", "push_delivery", mails.MAIL_CHANNEL]


async def test_a_new_ticket_reaches_the_receivers_device_and_mailbox_through_the_worker(
        client, accounts, supplier, recipient, push_service, smtp_server, settings, monkeypatch):  # noqa: F811
    controller, collector = smtp_server
    smtp_settings = msgspec.structs.replace(settings, smtp_host="127.0.0.1", smtp_port=controller.port)
    monkeypatch.setattr(mails, "get_settings", lambda: smtp_settings)  # the worker's mail settings
    await accounts.logout()
    agent = await join_and_log_in(accounts, recipient, can_consult=True)
    device = push_service.subscriber()
    assert (await subscribe(client, device)).status_code == 201
    await accounts.logout()
    await accounts.login(supplier)
    author_device = push_service.subscriber()
    assert (await subscribe(client, author_device)).status_code == 201

    sent = await open_ticket(client, QUESTION, "Code service des écoles", "Lequel indiquer ?", recipient=recipient.siret)
    ticket_id = int(sent.headers["location"].rsplit("/", 1)[1])
    assert push_service.payloads() == [] and collector.messages == []  # nothing leaves before the worker runs
    for _ in range(6):  # fan-out, then each delivery
        if not await worker.run_once(CHANNELS):
            break

    assert push_service.refused == []
    [pushed] = push_service.payloads(device)
    assert pushed["url"] == f"/tickets/{ticket_id}" and pushed["tag"] == f"ticket-{ticket_id}"
    assert "Code service des écoles" in pushed["body"]
    assert push_service.payloads(author_device) == []  # the author is not told of their own step
    [mail] = collector.messages
    assert mail["To"] == agent.email and f"Ticket n°\u00a0{ticket_id}" in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Lequel indiquer ?" in text and f"/tickets/{ticket_id}" in text
