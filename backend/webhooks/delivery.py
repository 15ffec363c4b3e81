"""Delivering events to webhooks, from the outbox worker.

Channel "webhook": an event row written with the change (lifecycle, deposit, messages).
Its handler fans it out to one "webhook_delivery" row per active webhook of the
concerned structures that subscribed to the event, and writes the delivery log rows in
the same transaction.

Channel "webhook_delivery": one signed JSON POST. 2xx = delivered. No answer, 408,
425, 429 and 5xx are retried with the worker's backoff (or the receiver's Retry-After),
up to the worker's limit (about two days). Other answers (3xx, since redirects are not
followed, and 4xx) are retried CLIENT_ERROR_TRIES times, for a receiver being redeployed
or reconfigured, then given up.

Order: a delivery is not sent while an older delivery of the same invoice to the same
webhook is still pending (nor while an older event of the invoice is not fanned out
yet): it waits, without counting an attempt. So a receiver sees the events of one
invoice once each (by delivery id: delivery is at least once) and in order, also after
an outage.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from backend.lib import outbound
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.processing import worker
from backend.processing.tables import Outbox
from backend.settings import get_settings
from backend.webhooks import signing
from backend.webhooks.service import EVENTS, LOCAL_HOSTS, delivery_outbox_row, encode_body
from backend.webhooks.tables import DELIVERED, FAILED, PENDING, Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

EVENT_CHANNEL = "webhook"
DELIVERY_CHANNEL = "webhook_delivery"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 15.0  # seconds for a whole attempt, whatever the receiver does
CLIENT_ERROR_TRIES = 3
ORDER_WAIT_MAX = 60.0  # a settled delivery wakes the next one; this bounds a missed wake-up
SNIPPET = 300  # characters of the receiver's answer kept in the log
USER_AGENT = "Facteur-Webhooks/1"
RETRYABLE = frozenset({408, 425, 429})

# Keys of the outbox payload that the body carries elsewhere (or that are for push only).
_ENVELOPE = frozenset({"event", "invoice_id", "number", "status", "status_code", "occurred_at", "audience",
                       "supplier_id", "recipient_id", "url", "title", "body", "structures"})


# --- fan-out ---------------------------------------------------------------------------------

def concerned_structures(event: str, payload: dict[str, Any]) -> set[int]:
    """invoice.received is for the recipient; market.* for every actor of the market; the other
    events for both parties of the invoice (and, for a recycling, the recipient the invoice leaves)."""
    if "structures" in payload:  # a works market's events: every actor of the market
        return {s for s in payload["structures"] if s}
    if event == "invoice.received":
        audience = (payload.get("audience") or {}).get("structure_id") or payload.get("recipient_id")
        return {audience} if audience else set()
    if payload.get("validator_id"):  # a validation step: the recipient does not have the invoice yet
        return {s for s in (payload.get("supplier_id"), payload["validator_id"]) if s}
    found = {payload.get("supplier_id"), payload.get("recipient_id")}
    recycled = ((payload.get("details") or {}).get("recycled") or {}).get("before") or {}
    found.add(recycled.get("recipient"))
    return {s for s in found if s}


async def on_event(row: dict[str, Any]) -> None:
    payload = worker.payload_of(row)
    event = payload.get("event") or row["event_type"]
    hooks = await _subscribed(event, concerned_structures(event, payload)) if event in EVENTS else []
    if not hooks:
        await worker.fan_out(row, [])
        return
    common = await _body(event, payload, row["invoice"])
    now = utcnow()
    logs, children = [], []
    for hook_id in hooks:
        delivery_id = str(uuid.uuid4())
        logs.append(WebhookDelivery(
            webhook=hook_id, delivery_id=delivery_id, event=event, invoice=row["invoice"], sequence=row["id"],
            body=encode_body({"id": delivery_id, **common}), created_at=now,
        ))
        children.append(delivery_outbox_row(event, row["invoice"], hook_id, delivery_id, now))
    async with transaction():
        # Another worker may have fanned this row out after our lease ran out: once only.
        if await Outbox.exists().where((Outbox.id == row["id"]) & Outbox.delivered_at.is_null()):
            await WebhookDelivery.insert(*logs)
            await worker.fan_out(row, children)  # joins this transaction
    worker.wake()


async def _subscribed(event: str, structures: set[int]) -> list[int]:
    if not structures:
        return []
    # Asked for every event (most structures have no webhook): plain SQL, not built by Piccolo each time.
    ids = sorted(structures)
    rows = await Webhook.raw(f"SELECT id, events FROM webhook WHERE structure IN ({', '.join('{}' for _ in ids)}) "
                             "AND active = {} ORDER BY id", *ids, True)
    return [r["id"] for r in rows if event in r["events"].split(",")]


async def _body(event: str, payload: dict[str, Any], invoice_id: int | None) -> dict[str, Any]:
    """What every delivery of this event says: {event, occurred_at, invoice, data} (the id is added per delivery).

    A question's message (to a public structure, without an invoice) has `invoice: null` and
    `data.question: {id, subject}`.
    """
    invoice = {"id": payload.get("invoice_id", invoice_id), "number": payload.get("number"),
               "status": payload.get("status"), "status_code_2026": payload.get("status_code")}
    if invoice["id"] is None:
        invoice = None
    elif invoice["status"] is None:  # a message: the invoice as it is now
        current = await Invoice.select(Invoice.number, Invoice.status, Invoice.status_code).where(Invoice.id == invoice["id"]).first()
        if current:
            invoice.update(number=current["number"], status=current["status"], status_code_2026=current["status_code"])
    data = {k: v for k, v in payload.items() if k not in _ENVELOPE}
    parties = await _parties(payload.get("supplier_id"), payload.get("recipient_id"))
    data.update(parties)
    return {"event": event, "occurred_at": payload.get("occurred_at") or utcnow().isoformat(), "invoice": invoice, "data": data}


async def _parties(supplier_id: int | None, recipient_id: int | None) -> dict[str, Any]:
    """ERPs know structures by SIRET, not by our ids."""
    ids = [i for i in (supplier_id, recipient_id) if i]
    rows = {r["id"]: r for r in await Structure.select(Structure.id, Structure.siret, Structure.name).where(Structure.id.is_in(ids))} if ids else {}
    shaped = {}
    for key, sid in (("supplier", supplier_id), ("recipient", recipient_id)):
        if sid in rows:
            shaped[key] = {"siret": rows[sid]["siret"], "name": rows[sid]["name"]}
    return shaped


# --- one delivery ----------------------------------------------------------------------------

async def on_delivery(row: dict[str, Any]) -> None:
    payload = worker.payload_of(row)
    delivery = await WebhookDelivery.select().where(WebhookDelivery.delivery_id == str(payload.get("delivery_id"))).first()
    if delivery is None:
        raise worker.Drop("webhook supprimé")
    if delivery["status"] != PENDING:
        return  # settled already (the process died between our log and the worker's mark)
    hook = await Webhook.select().where(Webhook.id == delivery["webhook"]).first()
    if hook is None:
        raise worker.Drop("webhook supprimé")
    if delivery["outbox"] != row["id"]:
        await WebhookDelivery.update({WebhookDelivery.outbox: row["id"]}).where(WebhookDelivery.id == delivery["id"])
    wait = await _order_wait(delivery)
    if wait is not None:
        raise worker.Retry(wait, "En attente de la livraison précédente de cette facture.", count_attempt=False)
    if not hook["active"]:
        await _settle(delivery, FAILED, error="Webhook désactivé.")
        raise worker.Drop("webhook désactivé")
    try:
        secret = signing.unseal(hook["secret_sealed"], app_secret=get_settings().secret_key, structure_id=hook["structure"])
    except signing.SealError:
        await _settle(delivery, FAILED, error="Le secret du webhook est illisible (la clé FACTEUR_SECRET_KEY a changé) : recréez le webhook.")
        raise worker.Drop("secret illisible") from None
    if refusal := await _refused_destination(hook["url"]):
        await _settle(delivery, FAILED, error=refusal)
        raise worker.Drop(refusal)
    await _attempt(row, hook, delivery, secret)


async def _refused_destination(url: str) -> str | None:
    """The URL was checked when the webhook was made; its name may resolve elsewhere now."""
    if get_settings().webhook_allow_local and (urlsplit(url).hostname or "") in LOCAL_HOSTS:
        return None  # tests and development: the receiver is on this machine on purpose
    return await outbound.refusal_at_send(url)


async def _attempt(row: dict[str, Any], hook: dict[str, Any], delivery: dict[str, Any], secret: str) -> None:
    body = delivery["body"].encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Facteur-Event": delivery["event"], "Facteur-Delivery": delivery["delivery_id"],
        "Facteur-Timestamp": str(timestamp), "Facteur-Signature": signing.sign(secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, error, retry_after = await post(hook["url"], headers, body)
    duration = int((time.monotonic() - started) * 1000)
    attempts = delivery["attempts"] + 1
    outcome, delay = decide(status_code, attempts, retry_after)
    if outcome == "retry" and row["attempts"] >= worker.MAX_ATTEMPTS:
        outcome = "drop"
    state = {"delivered": DELIVERED, "drop": FAILED, "retry": PENDING}[outcome]
    try:
        async with transaction():  # one commit for the attempt and the delivery's new state
            await WebhookAttempt.insert(WebhookAttempt(delivery=delivery["id"], attempted_at=utcnow(), status_code=status_code,
                                                       error=error[:2000], duration_ms=duration))
            await _settle(delivery, state, error=error, status_code=status_code, attempts=attempts)
    except Exception:
        if not await WebhookDelivery.exists().where(WebhookDelivery.id == delivery["id"]):
            raise worker.Drop("webhook supprimé pendant l'envoi") from None
        raise
    if outcome == "retry":
        raise worker.Retry(delay, error)
    if outcome == "drop":
        raise worker.Drop(error)


def decide(status_code: int | None, attempts: int, retry_after: float | None) -> tuple[str, float | None]:
    """("delivered" | "retry" | "drop", delay): the policy of the module docstring."""
    if status_code is not None and 200 <= status_code < 300:
        return "delivered", None
    if status_code is None or status_code >= 500 or status_code in RETRYABLE:
        return "retry", retry_after
    if attempts >= CLIENT_ERROR_TRIES:
        return "drop", None
    return "retry", retry_after


_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    """One client per event loop: building one costs milliseconds of CPU (TLS context, pool),
    and its pool keeps connections to receivers alive between deliveries. Proxy variables
    (HTTPS_PROXY, NO_PROXY) are honoured, for servers that reach the Internet through one."""
    key = id(asyncio.get_running_loop())
    client = _clients.get(key)
    if client is None or client.is_closed:
        _clients.clear()  # a client belongs to its loop; an old loop's client is of no use
        client = _clients[key] = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                                   headers={"User-Agent": USER_AGENT})
    return client


async def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int | None, str, float | None]:
    """(status code or None, French error for the log or "", Retry-After seconds or None)."""
    try:
        async with asyncio.timeout(DEADLINE):
            async with _client().stream("POST", url, content=body, headers=headers) as response:
                snippet = await _read_some(response)
    except TimeoutError:
        return None, f"Pas de réponse dans les {int(DEADLINE)} secondes.", None
    except httpx.TimeoutException:
        return None, "Pas de réponse dans le délai (connexion ou lecture).", None
    except httpx.HTTPError as exc:
        return None, f"Connexion impossible : {type(exc).__name__} {exc}".strip(), None
    except (OSError, ssl.SSLError) as exc:
        return None, f"Connexion impossible : {exc}", None
    code = response.status_code
    if 200 <= code < 300:
        return code, "", None
    if 300 <= code < 400:
        where = response.headers.get("location", "")[:200]
        return code, f"Redirection HTTP {code} non suivie{f' (vers {where})' if where else ''} : indiquez l'adresse finale.", None
    text = f"Réponse HTTP {code}" + (f" : {snippet}" if snippet else "")
    return code, text, worker.retry_after_seconds(response.headers.get("retry-after"))


async def _read_some(response: httpx.Response) -> str:
    """The start of the answer, for the log; never the whole of a large answer."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= SNIPPET * 4:
            break
    return data.decode("utf-8", "replace")[:SNIPPET].strip()


async def _order_wait(delivery: dict[str, Any]) -> float | None:
    """Seconds to wait when an older event of the same invoice is not delivered yet to this webhook."""
    if delivery["invoice"] is None:
        return None
    older = await WebhookDelivery.select(
        WebhookDelivery.id, WebhookDelivery.outbox, WebhookDelivery.webhook, WebhookDelivery.invoice, WebhookDelivery.sequence,
        WebhookDelivery.attempts,
    ).where(
        (WebhookDelivery.webhook == delivery["webhook"]) & (WebhookDelivery.invoice == delivery["invoice"])
        & (WebhookDelivery.status == PENDING) & (WebhookDelivery.sequence < delivery["sequence"])
    ).order_by(WebhookDelivery.sequence).first()
    if older is not None:
        return await _until_due(older)
    unfanned = await Outbox.exists().where(
        (Outbox.channel == EVENT_CHANNEL) & (Outbox.invoice == delivery["invoice"]) & (Outbox.id < delivery["sequence"])
        & Outbox.delivered_at.is_null() & Outbox.failed_at.is_null()
    )
    return 2.0 if unfanned else None


async def _until_due(older: dict[str, Any]) -> float:
    """Just after the blocking delivery's own next attempt (no point looking before)."""
    if older["outbox"] is None:  # not picked up yet: it is due now
        return 2.0
    row = await Outbox.select(Outbox.next_attempt_at, Outbox.delivered_at, Outbox.failed_at).where(Outbox.id == older["outbox"]).first()
    if row is None or row["delivered_at"] is not None or row["failed_at"] is not None:
        # The worker finished it without its handler's say (a crash at its last attempt):
        # it will never be sent, so it must not hold the others back.
        gone = row is None or row["failed_at"] is not None
        await _settle(older, FAILED if gone else DELIVERED, error="Abandonnée par le worker." if gone else "")
        return 1.0
    if older["attempts"] == 0:
        return 1.0  # being sent for the first time: it will most likely be delivered in a moment
    # In its backoff after a failure: look again just after its next attempt (its delivery
    # also wakes this one at once, see _wake_next).
    seconds = (row["next_attempt_at"] - utcnow()).total_seconds() + 1
    return max(1.0, min(seconds, ORDER_WAIT_MAX))


async def _settle(delivery: dict[str, Any], status: str, *, error: str = "", status_code: int | None = None,
                  attempts: int | None = None) -> None:
    now = utcnow()
    values: dict[Any, Any] = {WebhookDelivery.status: status, WebhookDelivery.last_error: error[:2000]}
    if attempts is not None:
        values.update({WebhookDelivery.attempts: attempts, WebhookDelivery.last_status_code: status_code,
                       WebhookDelivery.last_attempt_at: now})
    if status == DELIVERED:
        values[WebhookDelivery.delivered_at] = now
    await WebhookDelivery.update(values).where(WebhookDelivery.id == delivery["id"])
    if status != PENDING:
        await _wake_next(delivery)


async def _wake_next(delivery: dict[str, Any]) -> None:
    """The next event of the invoice for this webhook was waiting for this one: it is due now."""
    if delivery.get("invoice") is None:
        return
    following = await WebhookDelivery.select(WebhookDelivery.outbox).where(
        (WebhookDelivery.webhook == delivery["webhook"]) & (WebhookDelivery.invoice == delivery["invoice"])
        & (WebhookDelivery.status == PENDING) & (WebhookDelivery.sequence >= delivery["sequence"])
        & (WebhookDelivery.id != delivery["id"])
    ).order_by(WebhookDelivery.sequence).first()
    if following is None or following["outbox"] is None:  # none, or never picked up: due already
        return
    await Outbox.update({Outbox.next_attempt_at: utcnow()}).where(
        (Outbox.id == following["outbox"]) & Outbox.delivered_at.is_null() & Outbox.failed_at.is_null())
    worker.wake()


worker.register_channel(EVENT_CHANNEL, on_event)
worker.register_channel(DELIVERY_CHANNEL, on_delivery)
