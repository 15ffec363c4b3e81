"""Webhooks of a structure: validation, creation (secret shown once), listing, deletion, redelivery.

Everything takes the structure the caller acts for (an API key's, or the gestionnaire's
structure) and only ever finds that structure's webhooks: another structure's webhook is
"not found" (404), never "forbidden", so its existence does not leak.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from backend.lib import outbound
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.processing import worker
from backend.processing.tables import Outbox
from backend.webhooks import signing
from backend.webhooks.tables import DELIVERED, FAILED, PENDING, Webhook, WebhookAttempt, WebhookDelivery

EVENTS = ("invoice.status_changed", "invoice.received", "invoice.rejection_acknowledged", "message.created",
          "ticket.updated", "market.created", "market.confirmed")
EVENT_LABELS = {
    "invoice.status_changed": "Changement de statut d'une facture (émise ou reçue)",
    "invoice.received": "Nouvelle facture reçue (structures publiques)",
    "invoice.rejection_acknowledged": "Rejet pris en compte par le fournisseur",
    "message.created": "Nouveau message sur une facture ou une question à une structure publique",
    "ticket.updated": "Étape d'un ticket (sollicitation) ouvert ou reçu par la structure",
    "market.created": "Marché de travaux déclaré où la structure est acteur",
    "market.confirmed": "Marché de travaux confirmé par le maître d'ouvrage",
}
DELIVERY_CHANNEL = "webhook_delivery"
MAX_URL = 1000
MAX_WEBHOOKS = 20  # per structure: each one multiplies the deliveries of every event
RECENT = 20
MAX_PAGE = 100
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class WebhookError(Exception):
    """A refused request: a stable code, a French message, an HTTP status (404 or 422, 409)."""

    def __init__(self, code: str, message: str, http_status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


NOT_FOUND = WebhookError("not_found", "Ce webhook n'existe pas ou vous n'y avez pas accès.", 404)
DELIVERY_NOT_FOUND = WebhookError("not_found", "Cette livraison n'existe pas ou vous n'y avez pas accès.", 404)


def _bad_url(message: str) -> WebhookError:
    return WebhookError("url_invalid", message)


def validate_url(raw: str, *, allow_local: bool = False) -> str:
    """An https:// URL without credentials; http:// only to this machine when allowed (tests, dev)."""
    url = (raw or "").strip()
    if not url:
        raise _bad_url("Indiquez l'adresse (URL) à laquelle Facteur doit envoyer les événements.")
    if len(url) > MAX_URL:
        raise _bad_url(f"L'adresse du webhook dépasse {MAX_URL} caractères.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _bad_url("L'adresse du webhook ne doit contenir ni espace ni caractère de contrôle.")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise _bad_url("L'adresse du webhook n'est pas une URL valide.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise _bad_url("L'adresse du webhook doit être une URL complète commençant par https://.")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("L'adresse du webhook ne doit pas contenir d'identifiants (utilisateur:mot de passe@) : "
                       "la signature de chaque envoi authentifie Facteur.")
    if parts.fragment:
        raise _bad_url("L'adresse du webhook ne doit pas contenir de fragment (#…).")
    local = host in LOCAL_HOSTS
    if local and allow_local:
        return url
    if scheme != "https":
        raise _bad_url("L'adresse du webhook doit commencer par https:// : les événements ne circulent que chiffrés.")
    if local or outbound.literal_is_forbidden(host):
        raise _bad_url("L'adresse du webhook désigne une adresse interne (boucle locale, lien local, multidiffusion) : "
                       "indiquez l'adresse publique de votre serveur.")
    return url


def validate_events(raw: list[str] | None) -> list[str]:
    events = [str(e).strip() for e in (raw or []) if str(e).strip()]
    if not events:
        raise WebhookError("events_invalid", "Choisissez au moins un événement : " + ", ".join(EVENTS) + ".")
    for event in events:
        if event not in EVENTS:
            raise WebhookError("events_invalid", f"L'événement « {event[:64]} » n'existe pas. Événements possibles : "
                               + ", ".join(EVENTS) + ".")
    return sorted(set(events))


@dataclass(frozen=True)
class NewWebhook:
    webhook: dict[str, Any]
    secret: str  # shown once, never again


async def create_webhook(
    structure_id: int, url: str, events: list[str] | None, *, app_secret: str, allow_local: bool = False,
    user_id: int | None = None, api_key_id: int | None = None,
) -> NewWebhook:
    url = validate_url(url, allow_local=allow_local)
    chosen = validate_events(events)
    if await Webhook.count().where(Webhook.structure == structure_id) >= MAX_WEBHOOKS:
        raise WebhookError("too_many_webhooks", f"Une structure peut avoir au plus {MAX_WEBHOOKS} webhooks : supprimez-en un d'abord.", 409)
    secret = signing.new_secret()
    row = Webhook(
        structure=structure_id, url=url, events=",".join(chosen), active=True,
        secret_sealed=signing.seal(secret, app_secret=app_secret, structure_id=structure_id),
        secret_hint=signing.hint(secret), created_by=user_id, created_api_key=api_key_id, created_at=utcnow(),
    )
    await row.save()
    return NewWebhook(await get_webhook(structure_id, row.id), secret)


_COLUMNS = (Webhook.id, Webhook.url, Webhook.events, Webhook.secret_hint, Webhook.active, Webhook.created_at)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "events": [e for e in row["events"].split(",") if e]}


async def list_webhooks(structure_id: int) -> list[dict[str, Any]]:
    rows = await Webhook.select(*_COLUMNS).where(Webhook.structure == structure_id).order_by(Webhook.id)
    return [_shape(r) for r in rows]


async def get_webhook(structure_id: int, webhook_id: int) -> dict[str, Any]:
    row = await Webhook.select(*_COLUMNS).where((Webhook.id == webhook_id) & (Webhook.structure == structure_id)).first()
    if row is None:
        raise NOT_FOUND
    return _shape(row)


async def set_active(structure_id: int, webhook_id: int, active: bool) -> None:
    """Suspended, a webhook is sent nothing: new events skip it and its pending deliveries
    end as failed at their next try. Reactivated, it hears the events that follow; the
    ones in between are in `GET /api/v1/invoices?updated_since=`."""
    await get_webhook(structure_id, webhook_id)
    await Webhook.update({Webhook.active: active}).where((Webhook.id == webhook_id) & (Webhook.structure == structure_id))


async def delete_webhook(structure_id: int, webhook_id: int) -> None:
    """The webhook, its secret and its log go; its pending deliveries find nothing and stop."""
    await get_webhook(structure_id, webhook_id)
    async with transaction():
        ids = [d["id"] for d in await WebhookDelivery.select(WebhookDelivery.id).where(WebhookDelivery.webhook == webhook_id)]
        if ids:
            await WebhookAttempt.delete().where(WebhookAttempt.delivery.is_in(ids))
            await WebhookDelivery.delete().where(WebhookDelivery.webhook == webhook_id)
        await Webhook.delete().where((Webhook.id == webhook_id) & (Webhook.structure == structure_id))


_DELIVERY_COLUMNS = (
    WebhookDelivery.id, WebhookDelivery.delivery_id, WebhookDelivery.event, WebhookDelivery.invoice,
    WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.last_status_code, WebhookDelivery.last_error,
    WebhookDelivery.redelivery_of, WebhookDelivery.created_at, WebhookDelivery.last_attempt_at, WebhookDelivery.delivered_at,
)


async def deliveries(structure_id: int, webhook_id: int, *, limit: int = RECENT, before: int | None = None,
                     with_attempts: bool = True) -> list[dict[str, Any]]:
    """The webhook's deliveries, newest first (keyset on the row id), each with its attempts."""
    await get_webhook(structure_id, webhook_id)
    where = WebhookDelivery.webhook == webhook_id
    if before is not None:
        where &= WebhookDelivery.id < before
    rows = await WebhookDelivery.select(*_DELIVERY_COLUMNS).where(where).order_by(WebhookDelivery.id, ascending=False).limit(
        max(1, min(limit, MAX_PAGE)))
    if with_attempts and rows:
        attempts = await WebhookAttempt.select().where(WebhookAttempt.delivery.is_in([r["id"] for r in rows])).order_by(WebhookAttempt.id)
        by_delivery: dict[int, list] = {}
        for a in attempts:
            by_delivery.setdefault(a["delivery"], []).append(a)
        for r in rows:
            r["attempt_log"] = by_delivery.get(r["id"], [])
    return rows


async def redeliver(structure_id: int, webhook_id: int, delivery_id: str) -> dict[str, Any]:
    """Send a delivery again. A pending one is made due now (after an outage is fixed);
    a delivered or failed one is sent as a new delivery (new id, same event)."""
    await get_webhook(structure_id, webhook_id)
    original = await WebhookDelivery.select().where(
        (WebhookDelivery.delivery_id == delivery_id) & (WebhookDelivery.webhook == webhook_id)
    ).first()
    if original is None:
        raise DELIVERY_NOT_FOUND
    if original["status"] == PENDING:
        if original["outbox"] is not None:
            await Outbox.update({Outbox.next_attempt_at: utcnow()}).where(
                (Outbox.id == original["outbox"]) & Outbox.delivered_at.is_null() & Outbox.failed_at.is_null())
        worker.wake()
        return await _delivery(original["delivery_id"])
    new_id = str(uuid.uuid4())
    body = json.loads(original["body"])
    body["id"] = new_id
    now = utcnow()
    async with transaction():
        await WebhookDelivery.insert(WebhookDelivery(
            webhook=webhook_id, delivery_id=new_id, event=original["event"], invoice=original["invoice"],
            sequence=original["sequence"], body=encode_body(body), redelivery_of=original["delivery_id"], created_at=now,
        ))
        await Outbox.insert(delivery_outbox_row(original["event"], original["invoice"], webhook_id, new_id, now))
    worker.wake()
    return await _delivery(new_id)


async def _delivery(delivery_id: str) -> dict[str, Any]:
    row = await WebhookDelivery.select(*_DELIVERY_COLUMNS).where(WebhookDelivery.delivery_id == delivery_id).first()
    assert row is not None
    row["attempt_log"] = await WebhookAttempt.select().where(WebhookAttempt.delivery == row["id"]).order_by(WebhookAttempt.id)
    return row


def encode_body(body: dict[str, Any]) -> str:
    """Compact JSON, keys in a fixed order: the exact text signed and sent at every attempt."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def delivery_outbox_row(event: str, invoice_id: int | None, webhook_id: int, delivery_id: str, now) -> Outbox:
    return Outbox(
        event_type=event, channel=DELIVERY_CHANNEL, invoice=invoice_id,
        payload=json.dumps({"webhook_id": webhook_id, "delivery_id": delivery_id}), created_at=now, next_attempt_at=now,
    )


STATUS_LABELS = {PENDING: "en cours", DELIVERED: "livrée", FAILED: "abandonnée"}
