"""The gestionnaire's webhook pages: create (secret once), log with status and attempts, Renvoyer, delete."""

from __future__ import annotations

import re

from backend.directory.tables import Structure
from backend.processing.lifecycle import Actor, RECIPIENT, change_status
from backend.webhooks.tables import Webhook, WebhookDelivery
from tests.integration.processing.conftest import make_user
from tests.integration.webhooks.conftest import drain, worker_pass
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import SELLER_SIRET


async def post_page_form(client, page: str, action: str, data: dict):
    token = csrf_from((await client.get(page)).text)
    return await client.post(action, data={**data, "_csrf_token": token})


async def test_the_gestionnaire_creates_follows_redelivers_and_deletes(client, supplier, invoice, receiver):
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    base = f"/structures/{structure.id}/webhooks"
    account = await client.get("/account")
    assert f'href="{base}"' in account.text

    refused = await post_page_form(client, base, base, {"url": "http://erp.exemple.fr/h", "events": ["invoice.status_changed"]})
    assert refused.status_code == 422 and "https://" in refused.text

    created = await post_page_form(client, base, base, {"url": receiver.url("/h"), "events": ["invoice.status_changed"]})
    assert created.status_code == 201
    secret = re.search(r"data-new-webhook-secret>([^<]+)<", created.text).group(1)
    assert secret.startswith("whsec_")
    receiver.secrets["/h"] = secret
    assert secret not in (await client.get(base)).text  # shown once

    agent = Actor(RECIPIENT, await make_user(invoice.recipient, can_process=True))
    receiver.down = True
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await worker_pass()
    await worker_pass()
    hook = await Webhook.objects().first()
    log = await client.get(f"{base}/{hook.id}")
    assert log.status_code == 200
    assert "en cours" in log.text and "HTTP 503" in log.text and "1 tentative" in log.text

    receiver.down = False
    delivery = await WebhookDelivery.objects().first()
    again = await post_page_form(client, f"{base}/{hook.id}", f"{base}/{hook.id}/deliveries/{delivery.delivery_id}/redeliver", {})
    assert again.status_code in (200, 302)
    await drain()
    assert [r.delivery_id for r in receiver.seen("/h")] == [delivery.delivery_id]
    log = await client.get(f"{base}/{hook.id}")
    assert "livrée" in log.text and "HTTP 200" in log.text

    resend = await post_page_form(client, f"{base}/{hook.id}", f"{base}/{hook.id}/deliveries/{delivery.delivery_id}/redeliver", {})
    assert resend.status_code in (200, 302)
    await drain()
    assert len(receiver.seen("/h")) == 2

    gone = await post_page_form(client, base, f"{base}/{hook.id}/delete", {})
    assert gone.status_code in (200, 302)
    assert await Webhook.count() == 0


async def test_only_the_gestionnaire_of_the_structure_sees_its_webhooks(client, supplier, recipient, accounts):
    await accounts.logout()
    await accounts.registered()  # someone else, gestionnaire of another company
    assert (await client.get(f"/structures/{recipient.id}/webhooks")).status_code == 404


async def test_a_suspended_webhook_hears_nothing_until_reactivated(client, supplier, invoice, receiver):
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    base = f"/structures/{structure.id}/webhooks"
    created = await post_page_form(client, base, base, {"url": receiver.url("/h"), "events": ["invoice.status_changed"]})
    receiver.secrets["/h"] = re.search(r"data-new-webhook-secret>([^<]+)<", created.text).group(1)
    hook = await Webhook.objects().first()
    agent = Actor(RECIPIENT, await make_user(invoice.recipient, can_process=True))

    suspended = await post_page_form(client, base, f"{base}/{hook.id}/active", {"active": "0"})
    assert suspended.status_code in (200, 302)
    page = await client.get(base)
    assert "data-webhook-suspended" in page.text and "Réactiver" in page.text
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await drain()
    assert receiver.seen("/h") == []

    await post_page_form(client, base, f"{base}/{hook.id}/active", {"active": "1"})
    assert "data-webhook-suspended" not in (await client.get(base)).text
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=None)
    await drain()
    assert receiver.statuses(invoice.id, "/h") == ["SERVICE_FAIT"]
