"""`GET /events`: the Server-Sent Events stream of the signed-in user.

The stream subscribes to the channels of every structure of the user's active
memberships, and to the user's own channel (events addressed to a few people, such as a
ticket's), *before* it reads the missed events (Last-Event-ID), so nothing committed
in between falls through; ids already sent are skipped, so nothing arrives twice. Each
event goes out twice: `event: invoice-<id>` with its `id:` (the page's live blocks
listen to it) and `event: changed` without id (badges and list heads). Comment lines
keep proxies from closing an idle stream. Whatever ends the stream (client gone, server
shutdown, a too-slow client), the subscription is released.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from array import array
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable

import anyio
from litestar import Request, Router, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.channels.subscriber import Subscriber
from litestar.response import Response, Stream

from backend.accounts.spaces import ACCOUNT, space
from backend.settings import Settings
from backend.tracking.events import (
    PEOPLE_ONLY, STREAM_RESET, as_message, channel_for, channels_of, events_after, id_of, latest_event_id, sse_bytes,
    user_channel,
)
from backend.tracking.tables import Event, EventAudience
from backend.lib.common import parse_id
from backend.lib.web import load_current_user

log = logging.getLogger(__name__)

REPLAY_LIMIT = 500  # missed events sent on one connection; the rest on the next reconnection
BACKLOG_LIMIT = 1000  # unsent live events a slow client may pile up before its stream is closed
RECENT_IDS = 4096  # ids remembered to skip duplicates (an event reaches a user through two structures)
RETRY_MS = 2000  # the browser's reconnection delay after the stream ends
UNAVAILABLE_RETRY_MS = 5000  # the same, while the channels backend (Redis) cannot be reached
RESUBSCRIBE_FIRST_PAUSE = 0.5  # seconds before listening again after the backend failed…
RESUBSCRIBE_MAX_PAUSE = 10.0  # …doubling up to this
KEEPALIVE = b": keepalive\r\n\r\n"
CATCH_UP_INTERVAL = 2.0  # seconds between two reads of the event table for the open streams
CATCH_UP_BATCH = 500


_created: contextvars.ContextVar[StreamSubscriber | None] = contextvars.ContextVar("created_subscriber", default=None)


class StreamSubscriber(Subscriber):
    """A subscriber that notices when its client is too slow."""

    overflowed = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _created.set(self)  # LiveChannels.subscribe removes it again if subscribing fails

    def put_nowait(self, item: bytes | None) -> bool:
        if item is not None and self._queue.qsize() >= BACKLOG_LIMIT:
            # Dropping silently would lose events; ending the stream makes the browser
            # reconnect with Last-Event-ID and read them from the table instead.
            self.overflowed = True
            return False
        return super().put_nowait(item)

    async def next_message(self) -> bytes | None:
        """The next published message (or keepalive); None once unsubscribed."""
        item = await self._queue.get()
        self._queue.task_done()
        return item


class LiveChannels(ChannelsPlugin):
    """The channels plugin, plus the open streams of this app and one ticker for all of them.

    One task puts a keepalive comment into every open stream's queue each interval,
    rather than a timer per stream and per wait: with a thousand streams, that keeps the
    fan-out of an event cheap.
    """

    def __init__(self, backend: ChannelsBackend, keepalive: float, catch_up_interval: float = CATCH_UP_INTERVAL) -> None:
        super().__init__(backend=backend, arbitrary_channels_allowed=True, subscriber_class=StreamSubscriber)
        self.keepalive = keepalive
        self.catch_up_interval = catch_up_interval
        self.streams: set[StreamSubscriber] = set()
        self._ticker: asyncio.Task | None = None
        self._catch_up: asyncio.Task | None = None
        self._read_up_to = 0  # the newest event id the catch-up has handed to the streams
        self._reachable = asyncio.Event()

    def opened(self, subscriber: StreamSubscriber, since: int) -> None:
        """`since`: the newest event id when the stream subscribed."""
        self.streams.add(subscriber)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick())
        if self._catch_up is None or self._catch_up.done():
            self._read_up_to = since
            self._catch_up = asyncio.create_task(self._read_the_table())

    def closed(self, subscriber: StreamSubscriber) -> None:
        self.streams.discard(subscriber)

    async def subscribe(self, channels, history=None):  # type: ignore[override]
        """Litestar's subscribe, undone when the backend refuses it.

        Litestar files the new subscriber under its channels before it asks the backend; if
        the backend fails (Redis down), the subscriber would stay filed for ever, and the
        channel would count as subscribed though Redis never heard of it.
        """
        _created.set(None)
        try:
            subscriber = await super().subscribe(channels, history)
        except Exception:
            failed = _created.get()
            for channel in list(self._channels):
                self._channels[channel].discard(failed)
                if not self._channels[channel]:
                    del self._channels[channel]
            raise
        self._reachable.set()  # the backend answers: a paused listener starts again now
        return subscriber

    def end_streams(self) -> None:
        """Close every open stream: each browser reconnects with Last-Event-ID and reads the
        events it missed from the table."""
        for subscriber in list(self.streams):
            subscriber.put_nowait(None)

    async def _sub_worker(self) -> None:
        """Litestar's loop, made to outlive a Redis outage.

        redis-py reconnects and resubscribes by itself after a short drop; when Redis stays
        away longer, its error would end Litestar's loop for good, and every open stream
        would get keepalives and never another event. Here the loop starts again with a
        growing pause, and the open streams are closed, since what was published during
        the outage never reaches them.
        """
        pause = RESUBSCRIBE_FIRST_PAUSE
        while True:
            try:
                async for channel, payload in self._backend.stream_events():
                    pause = RESUBSCRIBE_FIRST_PAUSE
                    for subscriber in self._channels.get(channel, []):
                        subscriber.put_nowait(payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 — connection refused, reset, timeout…
                log.warning("live events: subscription lost; %s open streams closed, retrying in %.1f s",
                            len(self.streams), pause, exc_info=True)
            self.end_streams()
            self._reachable.clear()
            with anyio.move_on_after(pause):
                await self._reachable.wait()
            pause = min(pause * 2, RESUBSCRIBE_MAX_PAUSE)
            try:  # the channels the backend knows become those of the streams open now
                if self._channels:
                    await self._backend.subscribe(list(self._channels))
            except Exception:  # noqa: BLE001 — still away: stream_events fails again, and we wait longer
                pass

    async def _read_the_table(self) -> None:
        """What a publish failed to carry still reaches the open streams.

        A publish is lost when Redis restarts (the first use of each pooled connection
        fails), is away, or when the process dies between the commit and the publish; the
        event is in the table all the same. While streams are open, this process reads the
        events committed since its last read, one query for all its streams, and gives each
        to the streams of its structures; a stream skips an id it already sent, so an event
        that came through Redis does not arrive twice. Ids follow commit order, so reading
        after the last id read misses nothing."""
        while self.streams:
            await asyncio.sleep(self.catch_up_interval)
            try:
                while batch := await events_after(self._read_up_to, CATCH_UP_BATCH):
                    for message in batch:
                        self._hand_to_streams(message)
                    self._read_up_to = batch[-1]["id"]
                    if len(batch) < CATCH_UP_BATCH:
                        break
            except Exception:  # noqa: BLE001 — the database is away: read again next time
                log.warning("live events: the event table could not be read", exc_info=True)

    def _hand_to_streams(self, message: dict) -> None:
        data = sse_bytes(message)
        for channel in channels_of(message):
            for subscriber in list(self._channels.get(channel, ())):
                subscriber.put_nowait(data)

    async def _tick(self) -> None:
        while self.streams:  # ends with the last stream; the next stream starts it again
            await asyncio.sleep(self.keepalive)
            for subscriber in list(self.streams):
                subscriber.put_nowait(KEEPALIVE)


class RedisPubSubBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis Pub/Sub backend, its SUBSCRIBE and UNSUBSCRIBE sent one at a time.

    redis-py's PubSub opens its connection on the first command, with an await between
    "no connection yet" and "here it is" and no lock: streams subscribing at the same
    moment (a server starting while every open page reconnects) each opened one, the last
    replaced the others, and what was published on the channels subscribed through the
    others was never read: those streams got events only from the catch-up, seconds late.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._commands = asyncio.Lock()

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._commands:
            await super().subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._commands:
            await super().unsubscribe(channels)


def make_channels(settings: Settings) -> LiveChannels:
    """In memory for one process; Redis Pub/Sub when several processes share the work."""
    if settings.redis_url:
        from redis.asyncio import BlockingConnectionPool, Redis

        # A blocking pool: a burst of publishes waits for a connection instead of failing
        # at the default pool's limit (redis-py raises "Too many connections" at once).
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=50, timeout=5)
        backend: ChannelsBackend = RedisPubSubBackend(redis=Redis(connection_pool=pool))
    else:
        backend = MemoryChannelsBackend()
    return LiveChannels(backend, settings.sse_keepalive)


def subscriber_count(plugin: ChannelsPlugin) -> int:
    """How many subscriptions the plugin holds (0 when every stream is closed)."""
    return sum(len(subscribers) for subscribers in plugin._channels.values())


def _last_event_id(request: Request) -> int | None:
    """The header the browser sends on reconnection, or `?last_event_id=` (a new EventSource)."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or ""
    return parse_id(raw, lowest=0)  # 0: from the start; too large for the database (or not a number): from now


async def missed_events(structure_ids: list[int], after_id: int, limit: int = REPLAY_LIMIT, *, user_id: int | None = None) -> list[dict]:
    """Events after `after_id` on either side of the user's structures, or naming the user in
    their audience, oldest first, bounded."""
    heard = Event.supplier.is_in(structure_ids) | Event.recipient.is_in(structure_ids) if structure_ids else None
    if user_id is not None:
        named = (Event.supplier == PEOPLE_ONLY) & Event.id.is_in(EventAudience.select(EventAudience.event).where(
            (EventAudience.person == user_id) & (EventAudience.event > after_id)))
        heard = named if heard is None else heard | named
    if heard is None:
        return []
    rows = await (
        Event.select()
        .where((Event.id > after_id) & heard)
        .order_by(Event.id)
        .limit(limit)
        .output(load_json=True)
    )
    return [as_message(row) for row in rows]


class _Recent:
    """The ids already sent, the `size` highest of them, in a sorted array of 8-byte integers.

    Every event of its structures reaches a stream, so each open stream soon holds `size`
    ids. As a set of int objects with a deque of their order, that was 290 KiB a stream
    at 4,096 ids (290 MiB for 1,000 streams, bench/load); the array holds them in 32 KiB.
    When it is full the lowest id goes: ids follow commit order, so the lowest is the one
    least likely to arrive again.
    """

    def __init__(self, size: int = RECENT_IDS) -> None:
        self._ids = array("q")
        self._size = size

    def add(self, event_id: int) -> bool:
        """False when the id was already sent."""
        at = bisect_left(self._ids, event_id)
        if at < len(self._ids) and self._ids[at] == event_id:
            return False
        if len(self._ids) >= self._size:
            if at == 0:
                return True  # older than all it remembers: sent, and forgotten at once
            self._ids.pop(0)
            at -= 1
        self._ids.insert(at, event_id)
        return True


async def event_stream(plugin: LiveChannels, user_id: int, structure_ids: Iterable[int], last_event_id: int | None) -> AsyncIterator[bytes]:
    structure_ids = sorted(set(structure_ids))
    channels = [channel_for(s) for s in structure_ids] + [user_channel(user_id)]
    newest_before = await latest_event_id()  # what the catch-up reads after, if this stream starts it
    try:
        subscriber: StreamSubscriber = await plugin.subscribe(channels)  # type: ignore[assignment]
    except Exception:  # noqa: BLE001 — Redis unreachable: the browser tries again a bit later
        log.warning("live events: cannot subscribe, stream refused for now", exc_info=True)
        yield f"retry: {UNAVAILABLE_RETRY_MS}\r\n: indisponible\r\n\r\n".encode()
        return
    plugin.opened(subscriber, newest_before)
    try:
        yield f"retry: {RETRY_MS}\r\n: connecté\r\n\r\n".encode()
        sent = _Recent()
        if last_event_id is not None:
            missed = await missed_events(structure_ids, last_event_id, user_id=user_id)
            for message in missed:
                sent.add(message["id"])
                yield sse_bytes(message)
            if len(missed) >= REPLAY_LIMIT:
                return  # more to catch up: the browser reconnects from the last id sent
        # What the browser has already (up to Last-Event-ID), or what came before it asked
        # "from now": the table read may still hand such events to this stream when its last
        # read is older than the browser's resumption point.
        known_up_to = last_event_id if last_event_id is not None else newest_before
        while not subscriber.overflowed:
            data = await subscriber.next_message()
            if data is None or data == STREAM_RESET:
                return  # unsubscribed, or the person's memberships changed: the browser reconnects
            if data is KEEPALIVE:
                yield data
            elif (event_id := id_of(data)) > known_up_to and sent.add(event_id):
                yield data
    finally:
        # Shielded: the stream usually ends by cancellation (client gone), and the
        # unsubscription must still reach the backend.
        with anyio.CancelScope(shield=True):
            plugin.closed(subscriber)
            try:
                await plugin.unsubscribe(subscriber, channels)
            except Exception:  # noqa: BLE001 — the backend is gone (shutdown); nothing left to free
                log.debug("unsubscribe failed", exc_info=True)


@get("/events", include_in_schema=False)
async def events(request: Request) -> Response | Stream:
    current = await load_current_user(request, for_page=False)
    if current is None:
        return Response("Connectez-vous pour suivre vos factures en direct.", status_code=401, media_type="text/plain")
    plugin = request.app.plugins.get(LiveChannels)
    structure_ids = [m["structure"]["id"] for m in current.memberships]
    return Stream(
        event_stream(plugin, current.id, structure_ids, _last_event_id(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router = Router(opt=space(ACCOUNT), path="/", route_handlers=[events])
