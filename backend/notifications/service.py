"""Subscriptions and preferences: the rules, no HTTP.

A subscription is what `pushManager.subscribe()` gives a page: the push service's URL for
this browser (`endpoint`) and the keys to encrypt for it. It is checked strictly before
it is stored: the worker later POSTs to that URL, so it must be an https URL of a push
service, not an address of our own network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from backend.lib import outbound
from backend.accounts.tables import Membership
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.invoices.statuses import STATUSES, label
from backend.notifications.tables import PushPreference, PushSubscription
from backend.notifications.vapid import b64url_decode

MESSAGE_EVENT = "message.created"
TICKET_EVENT = "ticket.updated"  # a ticket's step that waits for someone: sent to them, whatever their preferences
OVERDUE_EVENT = "payment.overdue"  # the payment deadline passed, the invoice still unpaid
VALIDATION_EVENT = "validation.requested"  # a subcontractor's invoice waits for this structure's validation (or its reminder)
WORKS_EVENT = "works.requested"  # a works piece waits for this structure (MOE, MOA, titulaire), or its MOE deadline's reminder
DEFAULT_EVENTS = frozenset({"REJETEE", "SUSPENDUE", "A_RECYCLER", "MISE_EN_PAIEMENT", OVERDUE_EVENT,
                            "REFUSEE_1", "REFUSEE_2", VALIDATION_EVENT, WORKS_EVENT})
# Statuses an invoice can reach after the deposit, in the usual order (what a supplier sees).
STATUS_EVENTS = ("MISE_A_DISPOSITION", "PRISE_EN_CHARGE", "SUSPENDUE", "COMPLETEE", "A_RECYCLER", "REJETEE",
                 "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT", "DEPOSEE", "REFUSEE_1", "REFUSEE_2")
ALL_EVENTS = frozenset(STATUS_EVENTS) | {MESSAGE_EVENT, OVERDUE_EVENT, VALIDATION_EVENT, WORKS_EVENT}
MAX_ENDPOINT = 2048
MAX_DEVICES = 20  # per user: a browser that re-subscribes replaces its row (same endpoint)


@dataclass
class PushInputError(Exception):
    code: str
    message_fr: str
    field: str = ""


# --- validation -----------------------------------------------------------------------------

def validate_subscription(data: Any, *, allow_local: bool) -> tuple[str, str, str]:
    """(endpoint, p256dh, auth) from the JSON the page posts, or PushInputError."""
    if not isinstance(data, dict):
        raise PushInputError("invalid_body", "Le corps doit être un objet JSON {endpoint, keys: {p256dh, auth}}.")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not endpoint:
        raise PushInputError("endpoint_required", "L'adresse d'abonnement (endpoint) est obligatoire.", "endpoint")
    _check_endpoint(endpoint, allow_local)
    if not isinstance(keys, dict):
        raise PushInputError("keys_required", "Les clés de l'abonnement (keys.p256dh et keys.auth) sont obligatoires.", "keys")
    p256dh = _key(keys.get("p256dh"), 65, "keys.p256dh", "une clé publique P-256 non compressée (65 octets)")
    if not p256dh.startswith(b"\x04"):
        raise PushInputError("invalid_key", "keys.p256dh doit être une clé publique P-256 non compressée (65 octets).", "keys.p256dh")
    _key(keys.get("auth"), 16, "keys.auth", "un secret de 16 octets")
    return endpoint, keys["p256dh"].rstrip("="), keys["auth"].rstrip("=")


def _key(value: Any, size: int, field: str, what: str) -> bytes:
    try:
        raw = b64url_decode(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise PushInputError("invalid_key", f"{field} doit être {what}, en base64url.", field)
    return raw


def _check_endpoint(endpoint: str, allow_local: bool) -> None:
    bad = PushInputError("invalid_endpoint", "L'adresse d'abonnement doit être une URL https:// d'un service de notification.", "endpoint")
    if len(endpoint) > MAX_ENDPOINT or re.search(r"[\s\x00-\x1f\x7f]", endpoint):
        raise bad
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise bad from None
    if parts.username or parts.password or parts.fragment or not host:
        raise bad
    if parts.scheme == "http" and allow_local and host == "127.0.0.1":
        return
    if parts.scheme != "https" or _is_internal(host):
        raise bad


def _is_internal(host: str) -> bool:
    """An IP literal of our own networks, or a name that can only be local: never a push service."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host:
        return True
    address = outbound.literal_address(host)  # also 127.1, 2130706433, 0x7f.1…
    return address is not None and not address.is_global


# --- subscriptions --------------------------------------------------------------------------

async def subscribe(user_id: int, endpoint: str, p256dh: str, auth: str, user_agent: str) -> tuple[int, bool]:
    """Store (or refresh) a device: (id, created). The same endpoint is the same browser: it
    moves to whoever subscribes it now (a shared phone after a change of user)."""
    async with transaction():
        existing = await PushSubscription.select(PushSubscription.id).where(PushSubscription.endpoint == endpoint).first()
        values = {PushSubscription.user: user_id, PushSubscription.p256dh: p256dh, PushSubscription.auth: auth,
                  PushSubscription.user_agent: user_agent[:300], PushSubscription.last_error: ""}
        if existing is not None:
            await PushSubscription.update(values).where(PushSubscription.id == existing["id"])
            return existing["id"], False
        count = await PushSubscription.count().where(PushSubscription.user == user_id)
        if count >= MAX_DEVICES:
            raise PushInputError("too_many_devices", f"Vous avez déjà {MAX_DEVICES} appareils abonnés : retirez-en un d'abord.")
        rows = await PushSubscription.insert(PushSubscription(
            user=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth, user_agent=user_agent[:300], created_at=utcnow(),
        )).returning(PushSubscription.id)
        return rows[0]["id"], True


async def unsubscribe(user_id: int, subscription_id: int) -> bool:
    """Remove one of the user's own devices; False when it is not theirs (or gone)."""
    removed = await PushSubscription.delete().where(
        (PushSubscription.id == subscription_id) & (PushSubscription.user == user_id)
    ).returning(PushSubscription.id)
    return bool(removed)


async def devices(user_id: int) -> list[dict]:
    rows = await PushSubscription.select(
        PushSubscription.id, PushSubscription.endpoint, PushSubscription.user_agent, PushSubscription.created_at,
        PushSubscription.last_success_at,
    ).where(PushSubscription.user == user_id).order_by(PushSubscription.created_at, ascending=False)
    for row in rows:
        row["device"] = device_summary(row["user_agent"])
    return rows


def device_summary(user_agent: str) -> str:
    """"Chrome sur Android", "Safari sur iPhone"…: enough to tell one's devices apart."""
    ua = user_agent or ""
    browser = next((name for token, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
        ("FxiOS", "Firefox"), ("CriOS", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
    ) if token in ua), "Navigateur")
    system = next((name for token, name in (
        ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
        ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
    ) if token in ua), "")
    return f"{browser} sur {system}" if system else browser


# --- preferences ----------------------------------------------------------------------------

def choices() -> list[dict]:
    """What the preferences form offers, defaults first."""
    statuses = sorted(STATUS_EVENTS, key=lambda s: (s not in DEFAULT_EVENTS, STATUS_EVENTS.index(s)))
    items = [{"key": s, "label": label(s), "default": s in DEFAULT_EVENTS} for s in statuses if s in STATUSES]
    defaults = sum(1 for item in items if item["default"])
    items.insert(defaults, {"key": OVERDUE_EVENT, "label": "Paiement en retard", "default": True})
    items.insert(defaults + 1, {"key": VALIDATION_EVENT, "label": "Facture de sous-traitant ou de cotraitant à valider", "default": True})
    items.insert(defaults + 2, {"key": WORKS_EVENT, "label": "Pièce de travaux à traiter (décompte, état d'acompte)", "default": True})
    items.insert(defaults + 3, {"key": MESSAGE_EVENT, "label": "Nouveau message", "default": False})
    return items


async def preferences(user_id: int) -> frozenset[str]:
    row = await PushPreference.select(PushPreference.events).where(PushPreference.user == user_id).first()
    return DEFAULT_EVENTS if row is None else _parse(row["events"])


async def preferences_of(user_ids: list[int]) -> dict[int, frozenset[str]]:
    rows = await PushPreference.select(PushPreference.user, PushPreference.events).where(PushPreference.user.is_in(user_ids)) if user_ids else []
    found = {r["user"]: _parse(r["events"]) for r in rows}
    return {uid: found.get(uid, DEFAULT_EVENTS) for uid in user_ids}


async def set_preferences(user_id: int, events: set[str]) -> frozenset[str]:
    chosen = frozenset(e for e in events if e in ALL_EVENTS)
    text = ",".join(sorted(chosen))
    async with transaction():
        updated = await PushPreference.update({PushPreference.events: text, PushPreference.updated_at: utcnow()}).where(
            PushPreference.user == user_id).returning(PushPreference.id)
        if not updated:
            await PushPreference.insert(PushPreference(user=user_id, events=text, updated_at=utcnow()))
    return chosen


def _parse(text: str) -> frozenset[str]:
    return frozenset(e for e in (text or "").split(",") if e in ALL_EVENTS)


# --- audience -------------------------------------------------------------------------------

async def members(structure_id: int) -> list[int]:
    """Active people of a structure (who may see its invoices)."""
    rows = await Membership.select(Membership.user).where(
        (Membership.structure == structure_id) & (Membership.status == "active") & (Membership.can_consult == True)  # noqa: E712
        & (Membership.user.is_active == True)  # noqa: E712
    )
    return sorted({r["user"] for r in rows})


async def subscriptions_for(event: str, structure_id: int, *, exclude_user: int | None = None) -> list[int]:
    """The subscriptions of the structure's members who want this event."""
    users = [u for u in await members(structure_id) if u != exclude_user]
    wanted = [u for u, events in (await preferences_of(users)).items() if event in events]
    if not wanted:
        return []
    rows = await PushSubscription.select(PushSubscription.id).where(PushSubscription.user.is_in(wanted)).order_by(PushSubscription.id)
    return [r["id"] for r in rows]


async def subscriptions_of_people(user_ids: list[int], *, exclude_user: int | None = None) -> list[int]:
    """The subscriptions of these people (a ticket waits for them: no preference turns it off)."""
    wanted = sorted({int(u) for u in user_ids if u != exclude_user})
    if not wanted:
        return []
    rows = await PushSubscription.select(PushSubscription.id).where(PushSubscription.user.is_in(wanted)).order_by(PushSubscription.id)
    return [r["id"] for r in rows]


async def account_context(user_id: int) -> dict:
    """What the account page's notifications block shows (devices, preferences)."""
    chosen = await preferences(user_id)
    return {"push_devices": await devices(user_id),
            "push_choices": [{**c, "checked": c["key"] in chosen} for c in choices()]}
