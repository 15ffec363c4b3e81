"""Delivering push notifications from the outbox worker.

Channel "push": an event row written with the change (lifecycle for every status change
the supplier sees, messages for a new message), with `audience.structure_id`. Its handler
picks the subscriptions of the structure's members who want this event (their
preferences; never the author of the change) and fans the row out to one
"push_delivery" row per subscription, with the notification built once. A unique index
on (event row, subscription) makes a second fan-out of the same event fail, so a worker
that lost its lease can never double the notifications.

Channel "push_delivery": one encrypted POST (RFC 8030/8291/8292) to the subscription's
push service. 201/202 = delivered (and the subscription's last success is recorded).
Network errors, 429 and 5xx are retried with the worker's backoff or the service's
Retry-After; 404/410 mean the browser dropped the subscription: it is deleted and the row
given up; other 4xx are given up.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from webpush import WebPush, WebPushSubscription

from backend.lib import outbound
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.directory.tables import Structure
from backend.lib.formats import money
from backend.invoices.statuses import status_sentence
from backend.invoices.tables import Invoice
from backend.notifications import service
from backend.notifications.tables import PushDelivery, PushSubscription
from backend.notifications.vapid import TokenCache, VapidKeys
from backend.processing import worker
from backend.processing.tables import Outbox
from backend.settings import get_settings


EVENT_CHANNEL = "push"
DELIVERY_CHANNEL = "push_delivery"
TTL = 86400  # a phone off for a day still gets it; older news is not worth waking it for
HIGH_URGENCY = frozenset({"REJETEE", "SUSPENDUE"})
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 15.0
EXCERPT = 120
USER_AGENT = "Facteur-Push/1"


# --- fan-out ---------------------------------------------------------------------------------

def event_key(row: dict[str, Any], payload: dict[str, Any]) -> str:
    """What preferences are about: the new status, or "message.created"."""
    if (payload.get("event") or row["event_type"]) in (service.MESSAGE_EVENT, service.OVERDUE_EVENT, service.TICKET_EVENT,
                                                         service.VALIDATION_EVENT, service.WORKS_EVENT):
        return payload.get("event") or row["event_type"]
    return str(payload.get("status") or "")


async def on_event(row: dict[str, Any]) -> None:
    payload = worker.payload_of(row)
    key = event_key(row, payload)
    audience = payload.get("audience") or {}
    structure_id = audience.get("structure_id")
    if audience.get("user_ids"):  # a ticket's step names the people it waits for
        subscriptions = await service.subscriptions_of_people(audience["user_ids"], exclude_user=payload.get("actor_user_id"))
    else:
        subscriptions = await service.subscriptions_for(key, structure_id, exclude_user=payload.get("actor_user_id")) if structure_id else []
    if not subscriptions:
        await worker.fan_out(row, [])
        return
    notification = await build_notification(key, payload, row["invoice"])
    now = utcnow()
    children = [Outbox(event_type=row["event_type"], channel=DELIVERY_CHANNEL, invoice=row["invoice"], created_at=now,
                       next_attempt_at=now, payload=json.dumps({"event_row": row["id"], "subscription": sid, **notification}, ensure_ascii=False))
                for sid in subscriptions]
    async with transaction():
        # Lock the event row first: a second worker (lease expired) waits here, then finds it done.
        mine = await Outbox.update({Outbox.last_error: ""}).where(
            (Outbox.id == row["id"]) & Outbox.delivered_at.is_null()).returning(Outbox.id)
        if not mine:
            return
        await PushDelivery.insert(*(PushDelivery(event=row["id"], subscription=sid, created_at=now) for sid in subscriptions))
        await worker.fan_out(row, children)  # joins this transaction
    worker.wake()


async def build_notification(key: str, payload: dict[str, Any], invoice_id: int | None) -> dict[str, Any]:
    """{message: {title, body, url, tag}, urgency}: built once per event, the same for every device."""
    invoice_id = payload.get("invoice_id", invoice_id)
    invoice = await Invoice.select(Invoice.number, Invoice.type_code, Invoice.amount_due, Invoice.recipient, Invoice.buyer_name).where(
        Invoice.id == invoice_id).first() if invoice_id else None
    number = payload.get("number") or (invoice or {}).get("number") or ""
    url = payload.get("url") or (f"/invoices/{invoice_id}" if invoice_id else "/")
    message = {"url": url, "tag": payload.get("tag") or (f"invoice-{invoice_id}" if invoice_id else "facteur")}
    if key in (service.MESSAGE_EVENT, service.TICKET_EVENT):
        message.update(title=payload.get("title") or f"Nouveau message sur la facture n°\u00a0{number}", body=payload.get("body") or "")
        return {"message": message, "urgency": "normal"}
    message.update(title=payload.get("title") or status_sentence(key, number, (invoice or {}).get("type_code")),
                   body=await _status_body(payload, invoice))
    return {"message": message, "urgency": "high" if key in HIGH_URGENCY | {service.OVERDUE_EVENT, service.VALIDATION_EVENT, service.WORKS_EVENT} else "normal"}


async def _status_body(payload: dict[str, Any], invoice: dict[str, Any] | None) -> str:
    """"Commune de Paris · 1 234,56 € · Motif : …": who, how much, and why when there is a reason."""
    recipient_id = payload.get("recipient_id") or (invoice or {}).get("recipient")
    name = await Structure.select(Structure.name).where(Structure.id == recipient_id).first() if recipient_id else None
    parts = [(name or {}).get("name") or (invoice or {}).get("buyer_name") or ""]
    if invoice is not None and invoice.get("amount_due") is not None:
        parts.append(money(Decimal(invoice["amount_due"])))
    payment = ((payload.get("details") or {}).get("payment") or {}).get("amount")
    if payment:
        parts.append(f"paiement de {money(Decimal(str(payment)))}")
    if payload.get("reason_label"):
        parts.append(f"Motif\u00a0: {payload['reason_label']}")
    comment = (payload.get("comment") or "").strip()
    if comment:
        parts.append(comment if len(comment) <= EXCERPT else comment[: EXCERPT - 1].rstrip() + "…")
    return " · ".join(p for p in parts if p)


# --- one delivery ----------------------------------------------------------------------------

async def on_delivery(row: dict[str, Any]) -> None:
    payload = worker.payload_of(row)
    target = await _target(payload.get("event_row"), payload.get("subscription"))
    if target is None:
        raise worker.Drop("abonnement retiré")
    if target["sent"]:
        return  # sent already: the process died before the worker marked the row
    if refusal := await _refused_destination(target["endpoint"]):
        await PushSubscription.update({PushSubscription.last_error: refusal}).where(PushSubscription.id == target["id"])
        raise worker.Drop(refusal)
    status_code, error, retry_after = await send(target, payload.get("message") or {}, payload.get("urgency") or "normal",
                                                 topic=(payload.get("message") or {}).get("tag"))
    if status_code is not None and 200 <= status_code < 300:
        await _succeeded(target)
        return
    if status_code in (404, 410):
        await PushSubscription.delete().where(PushSubscription.id == target["id"])
        raise worker.Drop(f"{error} : abonnement supprimé")
    await PushSubscription.update({PushSubscription.last_error: error[:2000]}).where(PushSubscription.id == target["id"])
    if status_code is None or status_code == 429 or status_code >= 500:
        raise worker.Retry(retry_after, error)
    raise worker.Drop(error)


async def _refused_destination(endpoint: str) -> str | None:
    """The endpoint was checked when posted; its name may resolve elsewhere now."""
    settings = get_settings()
    if (settings.push_allow_local or settings.debug) and urlsplit(endpoint).hostname == "127.0.0.1":
        return None  # the tests' push service
    return await outbound.refusal_at_send(endpoint)


async def _target(event_row: Any, subscription_id: Any) -> dict[str, Any] | None:
    """The subscription and whether this event was sent to it already: one query per delivery."""
    if not isinstance(event_row, int) or not isinstance(subscription_id, int):
        return None
    rows = await PushSubscription.raw(
        "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.last_success_at, s.last_error, d.id AS ledger, d.sent AS sent "
        "FROM push_subscription s LEFT JOIN push_delivery d ON d.subscription = s.id AND d.event = {} WHERE s.id = {}",
        event_row, subscription_id,
    )
    if not rows:
        return None
    target = rows[0]
    target["sent"] = bool(target["sent"])  # SQLite gives 0/1, a missing ledger row None
    return target


async def _succeeded(target: dict[str, Any]) -> None:
    if target["ledger"] is not None:
        await PushDelivery.update({PushDelivery.sent: True}).where(PushDelivery.id == target["ledger"])
    # The account page shows the last success to the minute: no need to write it for every message.
    last = target["last_success_at"]
    now = utcnow()
    if last is None or target["last_error"] or (now - _aware(last)).total_seconds() > 60:
        await PushSubscription.update({PushSubscription.last_success_at: now, PushSubscription.last_error: ""}).where(
            PushSubscription.id == target["id"])


def _aware(value: Any) -> datetime:
    """Raw SQL on SQLite returns timestamps as text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def send(subscription: dict[str, Any], message: dict[str, Any], urgency: str, *, topic: str | None = None) -> tuple[int | None, str, float | None]:
    """Encrypt for this browser and POST: (status code or None, French error or "", Retry-After)."""
    body, headers = await anyio.to_thread.run_sync(_encrypt, subscription, message)  # ECDH + AES: off the loop
    headers.update({"TTL": str(TTL), "Urgency": urgency, "User-Agent": USER_AGENT})
    if topic:
        headers["Topic"] = topic[:32]  # the push service keeps only the newest pending message per invoice
    try:
        with anyio.fail_after(DEADLINE):
            response = await _client().post(subscription["endpoint"], content=body, headers=headers)
    except TimeoutError:
        return None, f"Pas de réponse dans les {int(DEADLINE)} secondes.", None
    except httpx.HTTPError as exc:
        return None, f"Service de notification injoignable : {type(exc).__name__} {exc}".strip(), None
    except OSError as exc:
        return None, f"Service de notification injoignable : {exc}", None
    code = response.status_code
    if 200 <= code < 300:
        return code, "", None
    return code, f"Réponse HTTP {code} du service de notification : {response.text[:200].strip()}", worker.retry_after_seconds(response.headers.get("retry-after"))


# --- encryption and HTTP client, built once per process (or per event loop) ----------------

_pusher: tuple[VapidKeys, WebPush, TokenCache] | None = None


def _encrypt(subscription: dict[str, Any], message: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    keys, pusher, tokens = _crypto()
    target = WebPushSubscription.model_validate(
        {"endpoint": subscription["endpoint"], "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}})
    sealed = pusher.get(json.dumps(message, ensure_ascii=False).encode(), target)
    # webpush's own token names the origin without its port; RFC 8292 wants the origin: ours.
    return sealed.encrypted, {"Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
                              "Authorization": tokens.authorization(subscription["endpoint"])}


def _crypto() -> tuple[VapidKeys, WebPush, TokenCache]:
    global _pusher
    settings = get_settings()
    keys = VapidKeys(settings.vapid_private_key, settings.vapid_public_key, settings.vapid_subject)
    if _pusher is None or _pusher[0] != keys:
        public_pem = _public_pem(settings.vapid_private_key)
        subscriber = keys.subject.removeprefix("mailto:") if keys.subject.startswith("mailto:") else "no-reply@facteur.localhost"
        _pusher = (keys, WebPush(private_key=keys.private_pem.encode(), public_key=public_pem, subscriber=subscriber, ttl=TTL), TokenCache(keys))
    return _pusher


def _public_pem(private_pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


_client_state: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None


def _client() -> httpx.AsyncClient:
    """One pooled client per event loop (tests run several loops; a client cannot cross them)."""
    global _client_state
    loop = asyncio.get_running_loop()
    if _client_state is None or _client_state[0] is not loop or _client_state[1].is_closed:
        client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, limits=httpx.Limits(max_connections=64))
        _client_state = (loop, client)
    return _client_state[1]


worker.register_channel(EVENT_CHANNEL, on_event)
worker.register_channel(DELIVERY_CHANNEL, on_delivery)
