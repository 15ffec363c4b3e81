"""Tracking events: recorded inside the change's transaction, published after its commit.

`record_event` writes an `Event` row with the change, so an event exists exactly when the
change does. `publish` runs after the commit and hands the events to the channels
backend (in memory, or Redis when several processes serve the app), one channel per
structure; each side of the invoice hears it. An event for a few people only (a ticket's
author and receivers, not their colleagues) names them (`audience`): it goes to their
own channels, and the resume finds it through the `event_audience` rows. A lost publish
(process killed, Redis down) is not lost for good: a browser that reconnects with Last-Event-ID gets the
missed events from the table.

Service code runs outside requests too (CLI, worker): the publisher is a module-level
reference the app sets at startup; without it `publish` does nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import msgspec
from litestar.channels import ChannelsPlugin
from litestar.response.sse import ServerSentEventMessage

from backend.lib.common import utcnow
from backend.lib.db import insert_rows
from backend.settings import Settings
from backend.tracking.tables import Event, EventAudience

log = logging.getLogger(__name__)

KINDS = frozenset({"invoice.status_changed", "invoice.received", "message.created", "ticket.updated"})
# The "structure" of an event for its audience only: no structure's channel or resume hears it.
PEOPLE_ONLY = -1
STREAM_RESET = b"reset"  # not an SSE event: the stream that reads it ends
PUBLISH_TIMEOUT = 2.0  # seconds; the caller's response must not wait on a sick Redis

_publisher: ChannelsPlugin | None = None
_loop: asyncio.AbstractEventLoop | None = None  # the app's loop: its backend's connections live there
_namespace = "facteur"


def channel_namespace(settings: Settings) -> str:
    """A prefix that keeps apart apps that must not hear each other on one Redis.

    Redis Pub/Sub ignores the database number, so it is part of the name, and so is a
    digest of the database URL: processes serving the same database share events, two
    test runs on other databases (or other Redis dbs) never cross.
    """
    if not settings.redis_url:
        return "facteur"
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:10]
    return f"facteur:r{_redis_db(settings.redis_url)}:{digest}"


def _redis_db(url: str) -> int:
    parsed = urlparse(url)
    query_db = parse_qs(parsed.query).get("db")
    path = parsed.path.strip("/") if parsed.scheme != "unix" else ""
    raw = query_db[0] if query_db else path
    return int(raw) if raw.isdigit() else 0


def attach(plugin: ChannelsPlugin, namespace: str) -> None:
    """Called by the app at startup (in its loop): from now on `publish` reaches the stream subscribers."""
    global _publisher, _namespace, _loop
    _publisher, _namespace, _loop = plugin, namespace, asyncio.get_running_loop()


def detach(plugin: ChannelsPlugin) -> None:
    global _publisher
    if _publisher is plugin:
        _publisher = None


def publisher() -> ChannelsPlugin | None:
    return _publisher


def channel_for(structure_id: int) -> str:
    return f"{_namespace}:structure:{structure_id}"


def user_channel(user_id: int) -> str:
    """Where a person's streams hear that they must start again (STREAM_RESET)."""
    return f"{_namespace}:user:{user_id}"


def channels_of(event: dict[str, Any]) -> list[str]:
    if event.get("audience") is not None:
        return sorted({user_channel(person) for person in event["audience"]})
    return sorted({channel_for(event["supplier"]), channel_for(event["recipient"])})


async def record_event(kind: str, *, invoice_id: int, supplier_id: int, recipient_id: int, payload: dict,
                       audience: Iterable[int] | None = None) -> int:
    """Insert the event; call it inside the caller's transaction. Returns the event id.

    With `audience` (user ids), only these people hear it, whatever their structures: the
    supplier and recipient are then recorded as PEOPLE_ONLY."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    people = sorted(set(audience)) if audience is not None else None
    if people is not None:
        supplier_id = recipient_id = PEOPLE_ONLY
        payload = {**payload, AUDIENCE_KEY: people}
    if _on_postgres():
        # Ids in commit order: a transaction takes its event id only once the previous one
        # that took an id has committed (the lock lasts until commit). Otherwise a later id
        # could commit first, a browser would see it and resume after it, and the earlier
        # one would be skipped. SQLite commits one writer at a time already. The cost is
        # that the few milliseconds between this insert and the commit are one at a time:
        # callers record their events last.
        await Event.raw("SELECT pg_advisory_xact_lock({})", EVENT_ORDER_LOCK)
    row = {"kind": kind, "invoice": invoice_id, "supplier": supplier_id, "recipient": recipient_id,
           "payload": json.dumps(payload, ensure_ascii=False, default=str), "created_at": utcnow()}
    [event_id] = await insert_rows(Event, row)
    if people:
        await insert_rows(EventAudience, *[{"event": event_id, "person": person} for person in people])
    _remember(event_id, as_message({**row, "id": event_id}))
    return event_id


# The messages of the events this task recorded, until it publishes them after the commit:
# the row was just written, reading it back was a statement (and Piccolo's select to build)
# per change. Per task (a request, a worker pass), so nothing is shared between requests; an
# event whose transaction rolled back is never published and goes with its task.
_recorded: ContextVar[dict[int, dict[str, Any]] | None] = ContextVar("recorded_events", default=None)


def _remember(event_id: int, message: dict[str, Any]) -> None:
    recorded = _recorded.get()
    if recorded is None:
        recorded = {}
        _recorded.set(recorded)
    recorded[event_id] = message


AUDIENCE_KEY = "_audience"  # in the stored payload; moved out of it before any browser sees it


EVENT_ORDER_LOCK = 0x46435452  # "FCTR": the advisory lock that orders event ids


def _on_postgres() -> bool:
    from piccolo.engine.postgres import PostgresEngine

    from backend.lib.db import engine

    return isinstance(engine(), PostgresEngine)


# Read for every whole page: written once rather than built by Piccolo on each request.
_LATEST_EVENT_SQL = "SELECT id FROM event ORDER BY id DESC LIMIT 1"


async def latest_event_id() -> int:
    """The newest event id (0 when none): one step down the primary key."""
    rows = await Event.raw(_LATEST_EVENT_SQL)
    return rows[0]["id"] if rows else 0


def as_message(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON an SSE client receives for an event row."""
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload or "{}")
    payload = dict(payload)
    audience = payload.pop(AUDIENCE_KEY, None)
    created = row["created_at"]
    message = {
        "id": row["id"], "kind": row["kind"], "invoice": row["invoice"], "supplier": row["supplier"],
        "recipient": row["recipient"], "payload": payload,
        "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
    }
    if audience is not None:
        message["audience"] = audience
    return message


def sse_bytes(message: dict[str, Any]) -> bytes:
    """The event as the stream sends it: `invoice-<id>` (or `question-<id>`) with its id, then `changed` without id.

    Published already encoded, so a thousand subscribers share one bytes object; it starts
    with `id: <n>` so a stream reads the id back without parsing JSON.
    """
    shown = {k: v for k, v in message.items() if k != "audience"}  # who else is told is nobody's business
    data = msgspec.json.encode(shown).decode()
    return (
        ServerSentEventMessage(id=message["id"], event=live_name(message), data=data).encode()
        + ServerSentEventMessage(event="changed", data=data).encode()
    )


def live_name(message: dict[str, Any]) -> str:
    """`invoice-<id>`, `question-<id>` for a message of a question, `ticket-<id>` for a ticket (no invoice: 0)."""
    if not message["invoice"] and (message.get("payload") or {}).get("question_id"):
        return f"question-{message['payload']['question_id']}"
    if not message["invoice"] and (message.get("payload") or {}).get("ticket_id"):
        return f"ticket-{message['payload']['ticket_id']}"
    return f"invoice-{message['invoice']}"


def id_of(encoded: bytes) -> int:
    return int(encoded[4:encoded.index(b"\r\n")])


async def events_after(after_id: int, limit: int) -> list[dict[str, Any]]:
    """Every event committed after `after_id`, oldest first (ids follow commit order)."""
    rows = await Event.select().where(Event.id > after_id).order_by(Event.id).limit(limit).output(load_json=True)
    return [as_message(row) for row in rows]


async def events_by_id(event_ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = sorted(set(event_ids))
    if not ids:
        return []
    rows = await Event.select().where(Event.id.is_in(ids)).order_by(Event.id).output(load_json=True)
    return [as_message(row) for row in rows]


async def publish(event_ids: list[int]) -> None:
    """Announce committed events to the live streams; never raises (resume recovers a loss).
    Those this task recorded are sent as written; any other is read from the table."""
    if event_ids:
        recorded = _recorded.get() or {}
        known = [recorded.pop(i) for i in sorted(set(event_ids)) if i in recorded]
        await _hand_over(_publish, (known, [i for i in event_ids if i not in {m["id"] for m in known}]))


async def reset_streams(user_ids: Iterable[int]) -> None:
    """End these people's open streams, in every process: after a membership is removed or
    granted, or a logout, a stream must not go on with the structures it opened with. The
    browser reconnects and the new stream hears what the person may see now. Never raises."""
    channels = [user_channel(u) for u in sorted(set(user_ids))]
    if channels:
        await _hand_over(_send_reset, channels)


async def _hand_over(work, argument) -> None:
    plugin, loop = _publisher, _loop
    if plugin is None:
        return
    if loop is not None and loop is not asyncio.get_running_loop():
        # Called from another thread's loop (a test client's portal): the backend's
        # connections belong to the app's loop, so the work is handed over there.
        coroutine = work(plugin, argument)
        try:
            asyncio.run_coroutine_threadsafe(coroutine, loop)
        except RuntimeError:  # that loop is closed: the app is gone
            coroutine.close()
        return
    await work(plugin, argument)


async def _send_reset(plugin: ChannelsPlugin, channels: list[str]) -> None:
    try:
        with anyio.fail_after(PUBLISH_TIMEOUT):
            await plugin.wait_published(STREAM_RESET, channels)
    except Exception:  # noqa: BLE001 — best effort, like every live message
        log.warning("stream reset on %s not published", channels, exc_info=True)


async def _publish(plugin: ChannelsPlugin, events: tuple[list[dict[str, Any]], list[int]]) -> None:
    known, unknown = events
    event_ids = [m["id"] for m in known] + unknown
    try:
        with anyio.fail_after(PUBLISH_TIMEOUT):
            messages = known + await events_by_id(unknown) if unknown else known
            for event in sorted(messages, key=lambda m: m["id"]):
                if channels := channels_of(event):  # an audience of nobody (an API key's ticket): no channel
                    await plugin.wait_published(sse_bytes(event), channels)
    except Exception:  # noqa: BLE001 — a live update is best effort; the table keeps the event
        log.warning("events %s not published; clients will get them on resume", event_ids, exc_info=True)
