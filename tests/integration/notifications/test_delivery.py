"""Push notifications end to end: a real status change, the real worker, a real push service on 127.0.0.1.

The push service checks the VAPID token and decrypts the aes128gcm body with the
subscriber's keys, as a browser vendor's would: what is asserted is what the phone shows.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend.lib.common import utcnow
from backend.lib.formats import money
from backend.notifications import service
from backend.notifications.tables import PushDelivery, PushSubscription
from backend.processing.lifecycle import Actor, Payment, change_status
from backend.processing.tables import Outbox
from tests.integration.notifications.conftest import drain, subscribe
from tests.support.web import csrf_from


async def _reject(invoice, agent):
    await change_status(invoice.id, agent, "REJETEE", expected_version=1, reason_code="CMD_ERR", comment="Engagement inconnu")


async def _suspend(invoice, agent):
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=1, reason_code="JUSTIF_ABS", comment="Bon de livraison ?")


async def _recycle(invoice, agent):
    await change_status(invoice.id, agent, "A_RECYCLER", expected_version=1, comment="Envoyez-la à l'hôpital")


async def _pay(invoice, agent):
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1)
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=2, payment=Payment(date(2026, 3, 1), Decimal("100.00")))


CASES = {
    "REJETEE": (_reject, "rejetée", "Motif\u00a0: Numéro de commande (engagement) absent ou erroné", "high"),
    "SUSPENDUE": (_suspend, "suspendue", "Motif\u00a0: Pièce justificative absente ou insuffisante", "high"),
    "A_RECYCLER": (_recycle, "à recycler", "Envoyez-la à l'hôpital", "normal"),
    "MISE_EN_PAIEMENT": (_pay, "mise en paiement", "paiement de 100,00\u00a0€", "normal"),
}


@pytest.mark.parametrize("status", list(CASES))
async def test_each_default_status_reaches_the_phone(status, client, invoice, agent_id, push_service):
    sub = push_service.subscriber()
    assert (await subscribe(client, sub)).status_code == 201
    act, word, reason, urgency = CASES[status]
    await act(invoice, Actor("recipient", agent_id))
    await drain()

    assert push_service.refused == []
    [got] = push_service.wait_for(1)
    message = got.payload
    assert message["title"] == f"Facture n°\u00a0{invoice.number} {word}"
    assert "Commune de Paris" in message["body"] and money(Decimal(invoice.amount_due)) in message["body"]
    assert reason in message["body"]
    assert message["url"] == f"/invoices/{invoice.id}" and message["tag"] == f"invoice-{invoice.id}"
    assert got.headers["ttl"] == "86400" and got.headers["urgency"] == urgency
    saved = await PushSubscription.select().first()
    assert saved["last_success_at"] is not None and saved["last_error"] == ""
    # Once: draining again sends nothing more.
    await drain()
    assert len(push_service.received) == 1


async def test_a_gone_subscription_is_deleted(client, invoice, agent_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    push_service.gone(sub)
    await _reject(invoice, Actor("recipient", agent_id))
    await drain()
    assert await PushSubscription.count() == 0
    delivery = await Outbox.select().where(Outbox.channel == "push_delivery").first()
    assert delivery["failed_at"] is not None and "410" in delivery["last_error"]
    assert push_service.received == []


async def test_a_503_is_retried_then_delivered_once(client, invoice, agent_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    push_service.fail_then_succeed(sub, 503)
    await _suspend(invoice, Actor("recipient", agent_id))
    await drain()
    row = await Outbox.select().where(Outbox.channel == "push_delivery").first()
    assert row["delivered_at"] is None and row["failed_at"] is None and "503" in row["last_error"]
    assert row["next_attempt_at"] > utcnow()  # the worker's backoff, not at once
    await Outbox.update({Outbox.next_attempt_at: utcnow() - timedelta(seconds=1)}).where(Outbox.id == row["id"])
    await drain()
    assert [s for _, s in push_service.answered] == [503, 201]
    assert len(push_service.payloads(sub)) == 1
    assert (await Outbox.select().where(Outbox.id == row["id"]).first())["delivered_at"] is not None


async def test_a_429_waits_for_retry_after(client, invoice, agent_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    push_service.throttle(sub, retry_after=120)
    await _reject(invoice, Actor("recipient", agent_id))
    await drain()
    row = await Outbox.select().where(Outbox.channel == "push_delivery").first()
    wait = (row["next_attempt_at"] - utcnow()).total_seconds()
    assert 100 < wait <= 120 and row["delivered_at"] is None
    assert push_service.received == []


async def test_preferences_decide_who_is_told(client, invoice, agent_id, supplier_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    agent = Actor("recipient", agent_id)
    # Defaults: PRISE_EN_CHARGE is not pushed.
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=1)
    await drain()
    assert push_service.received == []
    # Opting in to it (and out of rejections) through the account page's form.
    page = await client.get("/account")
    response = await client.post("/push/preferences", data={"_csrf_token": csrf_from(page.text), "events": ["PRISE_EN_CHARGE", "SUSPENDUE"]},
                                 follow_redirects=False)
    assert response.status_code == 303
    assert await service.preferences(supplier_id) == {"PRISE_EN_CHARGE", "SUSPENDUE"}
    await change_status(invoice.id, agent, "REJETEE", expected_version=2, reason_code="DOUBLON", comment="Déjà reçue")
    await drain()
    assert push_service.received == []  # opted out of rejections
    assert await PushDelivery.count() == 0


async def test_unchecking_every_box_turns_notifications_off(client, invoice, agent_id, supplier_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    page = await client.get("/account")
    # A browser sends no "events" field at all when no box is checked.
    response = await client.post("/push/preferences", data={"_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert await service.preferences(supplier_id) == frozenset()
    shown = await client.get("/account")
    assert "Vos préférences de notification sont enregistrées." in shown.text
    assert 'name="events" value="REJETEE" checked' not in shown.text
    await _reject(invoice, Actor("recipient", agent_id))
    await drain()
    assert push_service.received == []  # not even a rejection, pushed by default


async def test_the_author_of_a_change_is_not_told_of_it(client, invoice, agent_id, supplier_id, push_service):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    await service.set_preferences(supplier_id, set(service.ALL_EVENTS))
    await _suspend(invoice, Actor("recipient", agent_id))
    await change_status(invoice.id, Actor("supplier", supplier_id), "COMPLETEE", expected_version=2, comment="Envoyé")
    await drain()
    assert [p["title"] for p in push_service.payloads()] == [f"Facture n°\u00a0{invoice.number} suspendue"]


async def test_a_push_event_is_fanned_out_once(client, invoice, agent_id, push_service):
    """Two workers handling the same event row (a lease that ran out) give one delivery per device."""
    from backend.notifications import delivery

    sub = push_service.subscriber()
    await subscribe(client, sub)
    await _reject(invoice, Actor("recipient", agent_id))
    row = await Outbox.select().where(Outbox.channel == "push").first()
    await delivery.on_event(dict(row))
    await delivery.on_event(dict(row))  # the second finds it done
    assert await Outbox.count().where(Outbox.channel == "push_delivery") == 1
    await drain()
    assert len(push_service.wait_for(1)) == 1


async def test_a_new_message_reaches_the_agents_who_asked_for_it(client, accounts, invoice, recipient, supplier, push_service):
    """The messages domain writes a "push" row for the other side; only those who opted in are told."""
    from backend.accounts.tables import User
    from tests.integration.messages.conftest import join_and_log_in, post_message

    agent = await join_and_log_in(accounts, recipient, can_process=True)
    agent_sub, quiet_sub = push_service.subscriber(), push_service.subscriber()
    assert (await subscribe(client, agent_sub)).status_code == 201
    agent_id = (await User.objects().get(User.email == agent.email)).id
    await service.set_preferences(agent_id, {service.MESSAGE_EVENT})
    await accounts.logout()
    await accounts.login(supplier)
    assert (await subscribe(client, quiet_sub)).status_code == 201  # the author's side: not told of its own message
    assert (await post_message(client, invoice.id, "Le bon de livraison est joint.")).status_code in (302, 303)
    await drain()
    assert push_service.refused == []
    [message] = push_service.payloads()
    assert push_service.payloads(agent_sub) == [message]
    assert message["title"] == f"Nouveau message sur la facture n°\u00a0{invoice.number}"
    assert message["body"].startswith("Le fournisseur\u00a0: Le bon de livraison")
    assert message["url"] == f"/invoices/{invoice.id}#messages" and message["tag"] == f"invoice-{invoice.id}"
    assert push_service.received[0].headers["urgency"] == "normal"


async def test_an_endpoint_whose_name_now_resolves_inside_is_not_called(client, invoice, agent_id, push_service, settings, monkeypatch):
    """A push endpoint is resolved again at each send: a name pointed at this machine after it
    was accepted gets nothing, and the device shows why."""
    from backend.notifications import delivery

    sub = push_service.subscriber()
    await subscribe(client, sub)
    port = push_service.origin.rsplit(":", 1)[1]
    await PushSubscription.update({PushSubscription.endpoint: f"https://localhost:{port}/push/{sub.token}"}, force=True)
    monkeypatch.setattr(delivery, "get_settings", lambda: settings)  # production: no local exception
    await _reject(invoice, Actor("recipient", agent_id))
    await drain()
    row = await Outbox.select().where(Outbox.channel == "push_delivery").first()
    assert row["failed_at"] is not None and "adresse interne" in row["last_error"]
    assert "adresse interne" in (await PushSubscription.objects().first()).last_error
    assert push_service.received == [] and push_service.refused == []
