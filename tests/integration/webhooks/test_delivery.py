"""Deliveries to a real receiver on 127.0.0.1: signed, every status change once and in order
per invoice (after an outage too), redelivery, deletion stops them, the 4xx policy."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from backend.invoices.tables import Invoice
from backend.processing.lifecycle import Actor, Payment, RECIPIENT, SUPPLIER, change_status
from backend.processing.tables import Outbox
from backend.webhooks.delivery import CLIENT_ERROR_TRIES
from backend.webhooks.tables import WebhookAttempt, WebhookDelivery
from tests.integration.processing.conftest import make_user
from tests.integration.webhooks.conftest import drain, pending, worker_pass
from tests.support.webhook_receiver import verify

LIFE = ["PRISE_EN_CHARGE", "SUSPENDUE", "COMPLETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT"]


async def walk_through_the_lifecycle(invoice: Invoice, agent: Actor, seller: Actor) -> None:
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=None, reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    await change_status(invoice.id, seller, "COMPLETEE", expected_version=None, comment="Le voici")
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=None)
    await change_status(invoice.id, agent, "MANDATEE", expected_version=None, mandate_number="M-42")
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=None,
                        payment=Payment(date(2026, 3, 1), Decimal(invoice.amount_due)))


async def actors(invoice: Invoice, supplier_api) -> tuple[Actor, Actor]:
    from backend.accounts.tables import Membership

    agent = Actor(RECIPIENT, await make_user(invoice.recipient, can_process=True))
    seller_user = (await Membership.select(Membership.user).where(Membership.structure == supplier_api.structure_id).first())["user"]
    return agent, Actor(SUPPLIER, seller_user)


async def test_both_parties_see_every_status_change_once_in_order_after_an_outage(
    client, receiver, supplier_api, recipient_api, recipient, supplier,
):
    await supplier_api.subscribe(receiver, "/fournisseur")
    await recipient_api.subscribe(receiver, "/acheteur")
    from tests.integration.invoices.test_deposit import post_files
    from tests.unit.validation.invoice_builders import facturx_pdf

    assert (await post_files(client, [("facture.pdf", facturx_pdf())])).status_code == 201
    invoice = await Invoice.objects().first()
    agent, seller = await actors(invoice, supplier_api)

    receiver.down = True  # the ERPs are down during the whole lifecycle
    await walk_through_the_lifecycle(invoice, agent, seller)
    for _ in range(6):
        await worker_pass()
    assert receiver.seen() == [] and receiver.calls > 0
    assert await pending() > 0
    logged = await WebhookDelivery.select().where(WebhookDelivery.status == "pending")
    assert logged and max(d["attempts"] for d in logged) >= 2
    assert "HTTP 503" in (await WebhookAttempt.objects().first()).error
    # Waiting behind an older event of the same invoice is not an attempt: none of the
    # later deliveries of a webhook has been tried while its first one fails.
    for webhook in {d["webhook"] for d in logged}:
        assert len({d["sequence"] for d in logged if d["webhook"] == webhook and d["attempts"] > 0}) == 1

    receiver.down = False
    await drain()

    assert receiver.statuses(invoice.id, "/fournisseur") == LIFE
    assert receiver.statuses(invoice.id, "/acheteur") == LIFE
    received = [r.body["invoice"]["status"] for r in receiver.seen("/acheteur") if r.event == "invoice.received"]
    assert received == ["MISE_A_DISPOSITION"]
    assert [r for r in receiver.seen("/fournisseur") if r.event == "invoice.received"] == []  # the recipient's event only
    ids = [r.delivery_id for r in receiver.seen()]
    assert len(ids) == len(set(ids)) == 2 * len(LIFE) + 1
    assert receiver.refused == []  # every signature checked out

    suspended = next(r for r in receiver.seen("/fournisseur") if r.body["invoice"]["status"] == "SUSPENDUE")
    assert suspended.body["invoice"] == {"id": invoice.id, "number": invoice.number, "status": "SUSPENDUE", "status_code_2026": "208"}
    assert suspended.body["data"]["reason_code"] == "JUSTIF_ABS" and suspended.body["data"]["previous_status"] == "PRISE_EN_CHARGE"
    assert suspended.body["data"]["recipient"]["siret"] == recipient.siret
    assert suspended.headers["facteur-event"] == "invoice.status_changed"
    assert suspended.headers["facteur-delivery"] == suspended.body["id"]
    assert suspended.headers["content-type"] == "application/json"
    assert await WebhookDelivery.count().where(WebhookDelivery.status != "delivered") == 0


async def test_a_retry_keeps_the_delivery_id_and_the_body(receiver, supplier_api, invoice):
    await supplier_api.subscribe(receiver, "/h")
    agent, _ = await actors(invoice, supplier_api)
    receiver.down = True
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await worker_pass()  # fan-out
    await worker_pass()  # first attempt: 503
    log = await WebhookDelivery.objects().first()
    assert log.attempts == 1 and log.status == "pending"
    receiver.down = False
    await drain()
    [seen] = receiver.seen("/h")
    assert seen.delivery_id == log.delivery_id
    assert json.loads(log.body) == seen.body


async def test_retry_after_is_honoured(receiver, supplier_api, invoice):
    await supplier_api.subscribe(receiver, "/h")
    agent, _ = await actors(invoice, supplier_api)
    receiver.down, receiver.retry_after = True, "120"
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    from backend.processing import worker

    await worker.run_once(["webhook"])
    await worker.run_once(["webhook_delivery"])
    row = await Outbox.objects().where(Outbox.channel == "webhook_delivery").first()
    from backend.lib.common import utcnow

    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert 110 < wait <= 120


async def test_redelivery_sends_the_event_again_with_a_new_id(receiver, supplier_api, invoice):
    hook = await supplier_api.subscribe(receiver, "/h")
    agent, _ = await actors(invoice, supplier_api)
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await drain()
    [first] = receiver.seen("/h")

    response = await supplier_api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first.delivery_id}/redeliver")
    assert response.status_code == 202, response.text
    again = response.json()
    assert again["redelivery_of"] == first.delivery_id and again["id"] != first.delivery_id and again["status"] == "pending"
    await drain()
    second = receiver.seen("/h")[-1]
    assert second.delivery_id == again["id"]
    assert {**second.body, "id": None} == {**first.body, "id": None}

    log = (await supplier_api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert [d["id"] for d in log["items"]] == [again["id"], first.delivery_id]
    assert log["items"][1]["attempt_log"][0]["status_code"] == 200
    detail = (await supplier_api.get(f"/api/v1/webhooks/{hook['id']}")).json()
    assert [d["status"] for d in detail["recent_deliveries"]] == ["delivered", "delivered"]


async def test_deleting_a_webhook_stops_its_deliveries(receiver, supplier_api, invoice):
    hook = await supplier_api.subscribe(receiver, "/h")
    agent, _ = await actors(invoice, supplier_api)
    receiver.down = True
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await worker_pass()
    await worker_pass()
    assert (await supplier_api.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 204
    receiver.down = False
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=None)
    await drain()
    assert receiver.seen() == []
    dropped = await Outbox.objects().where(Outbox.channel == "webhook_delivery").first()
    assert dropped.failed_at is not None and "supprimé" in dropped.last_error
    assert await WebhookDelivery.count() == 0


async def test_a_refusing_receiver_is_given_up_after_a_few_tries(receiver, supplier_api, invoice):
    await supplier_api.subscribe(receiver, "/h")
    agent, _ = await actors(invoice, supplier_api)
    receiver.refuse_with = 400
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=None)
    await drain()
    first, second = await WebhookDelivery.select().order_by(WebhookDelivery.sequence)
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("failed", CLIENT_ERROR_TRIES, 400)
    # The next event was not held forever behind the one given up.
    assert (second["status"], second["attempts"]) == ("failed", CLIENT_ERROR_TRIES)


async def test_events_only_reach_subscribed_webhooks_of_the_parties(client, receiver, supplier_api, invoice):
    from backend.directory.tables import Structure
    from tests.integration.processing.conftest import public_structure
    from tests.integration.webhooks.conftest import api_for

    await supplier_api.subscribe(receiver, "/messages", events=["message.created"])
    outsider = await api_for(client, (await public_structure("Autre mairie")).id)
    await outsider.subscribe(receiver, "/autre")
    agent, _ = await actors(invoice, supplier_api)
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await drain()
    assert receiver.seen() == []
    assert await Structure.count() >= 3


def test_the_receiver_refuses_forged_and_old_deliveries():
    import hashlib
    import hmac

    body = b'{"id":"x"}'
    good = "v1=" + hmac.new(b"whsec_s", b"1000." + body, hashlib.sha256).hexdigest()
    assert verify("whsec_s", {"facteur-timestamp": "1000", "facteur-signature": good}, body, now=1100) is None
    assert verify("whsec_s", {"facteur-timestamp": "1000", "facteur-signature": good}, body + b" ", now=1100) == "signature invalide"
    assert verify("whsec_autre", {"facteur-timestamp": "1000", "facteur-signature": good}, body, now=1100) == "signature invalide"
    assert verify("whsec_s", {"facteur-timestamp": "1000", "facteur-signature": good}, body, now=1000 + 301) == "timestamp trop ancien"


async def test_a_message_reaches_both_parties_with_the_invoice_status(settings, receiver, supplier_api, recipient_api, invoice):
    from backend.messages.service import post_message

    await supplier_api.subscribe(receiver, "/fournisseur", events=["message.created"])
    await recipient_api.subscribe(receiver, "/acheteur", events=["message.created"])
    _, seller = await actors(invoice, supplier_api)
    await post_message(settings, invoice.id, seller.user_id, supplier_api.structure_id, "Le bon de livraison est joint.")
    await drain()
    for path in ("/fournisseur", "/acheteur"):
        [seen] = receiver.seen(path)
        assert seen.event == "message.created"
        assert seen.body["invoice"]["status"] == "MISE_A_DISPOSITION" and seen.body["invoice"]["status_code_2026"] == "203"
        assert seen.body["data"]["body_excerpt"] == "Le bon de livraison est joint."
        assert seen.body["data"]["author_side"] == "supplier"


async def test_in_real_time_a_burst_of_changes_arrives_in_order_within_seconds(receiver, supplier_api, invoice):
    """No time travel here: the worker loop runs as in `facteur serve`, the waits are real."""
    import asyncio
    import time

    from backend.processing import worker

    await supplier_api.subscribe(receiver, "/h", events=["invoice.status_changed"])
    agent, seller = await actors(invoice, supplier_api)
    loop = asyncio.get_running_loop().create_task(worker.run_forever(poll_interval=0.2))
    try:
        started = time.monotonic()
        await walk_through_the_lifecycle(invoice, agent, seller)
        while len(receiver.seen("/h")) < len(LIFE) and time.monotonic() - started < 30:
            await asyncio.sleep(0.05)
    finally:
        await worker.stop(loop)
    assert receiver.statuses(invoice.id, "/h") == LIFE
    assert time.monotonic() - started < 20


async def test_a_webhook_whose_name_now_resolves_inside_is_not_called(receiver, supplier_api, invoice, settings, monkeypatch):
    """Accepted as a public name, later pointed at this machine (DNS rebinding): each send
    resolves the name again, and the delivery fails without any request."""
    from backend.webhooks import delivery
    from backend.webhooks.tables import Webhook

    hook = await supplier_api.subscribe(receiver, "/h", events=["invoice.status_changed"])
    port = receiver.base_url.rsplit(":", 1)[1]
    # What a DNS change does: the same webhook, its name now leading to 127.0.0.1.
    await Webhook.update({Webhook.url: f"https://localhost:{port}/h"}).where(Webhook.id == hook["id"])
    monkeypatch.setattr(delivery, "get_settings", lambda: settings)  # production: no local exception
    agent, _ = await actors(invoice, supplier_api)
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await drain()
    [log] = await WebhookDelivery.select().where(WebhookDelivery.webhook == hook["id"])
    assert log["status"] == "failed" and "adresse interne" in log["last_error"]
    assert receiver.calls == 0
