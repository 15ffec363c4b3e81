"""The outbox worker: delivers the rows written next to each change, with retries.

Each channel ("push", "webhook", and the per-recipient channels their handlers fan out
to) has one handler. The worker claims due rows with an optimistic update on `attempts`,
so several processes (uvicorn workers, `facteur worker`) can run it side by side on
SQLite or PostgreSQL without delivering a row twice at the same time. A claimed row is
leased: if the process dies mid-delivery, the row becomes due again when the lease
expires, and another worker takes it. Delivery is therefore at least once; handlers make
duplicates harmless (a push tag per invoice, a webhook delivery id).
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

import anyio

from backend.lib.common import utcnow
from backend.lib.db import select_rows, transaction
from backend.processing.tables import Outbox

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

MAX_RETRY_AFTER = 3600.0  # a receiver may not park a row for longer than an hour
LEASE = timedelta(seconds=120)  # longer than any handler's own timeouts
MAX_ATTEMPTS = 15  # with the backoff below, about two days of trying
BATCH = 100
CONCURRENCY = 32

_handlers: dict[str, Handler] = {}
_stopping: set[asyncio.Task] = set()  # loops being stopped on purpose (see stop())
_wake = asyncio.Event()


class Retry(Exception):
    """Deliver later: after `delay` seconds (e.g. Retry-After), or the worker's backoff."""

    def __init__(self, delay: float | None = None, error: str = "", *, count_attempt: bool = True) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error
        # False when the row waited for something else (e.g. the previous delivery of the
        # same invoice) without trying: waiting must not use up the attempts.
        self.count_attempt = count_attempt


class Drop(Exception):
    """The recipient refused for good (a bad URL, a subscription gone): stop trying."""

    def __init__(self, error: str = "") -> None:
        super().__init__(error)
        self.error = error


# The modules that register a handler when imported (each domain owns its delivery).
HANDLER_MODULES: tuple[str, ...] = ("backend.webhooks.delivery", "backend.notifications.delivery",
                                     "backend.processing.payment_delays", "backend.tickets.mails",
                                     "backend.processing.validation", "backend.tickets.expiry",
                                     "backend.works.pieces")


def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row's payload as a dict (text on SQLite, decoded on PostgreSQL; {} when unreadable)."""
    raw = row.get("payload")
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP Retry-After (seconds or a date) as seconds bounded to [1 s, 1 h], or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = (when - utcnow()).total_seconds()
    return max(1.0, min(seconds, MAX_RETRY_AFTER))


def register_channel(channel: str, handler: Handler) -> None:
    _handlers[channel] = handler


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def channels() -> list[str]:
    return sorted(_handlers)


def backoff(attempts: int) -> float:
    """5 s, 10 s, 20 s… capped at 6 h, with jitter so that retries do not arrive together."""
    base = min(5 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return base * random.uniform(0.8, 1.2)


def wake() -> None:
    """Called after a commit that wrote outbox rows: the worker of this process starts now."""
    _wake.set()


async def fan_out(row: dict[str, Any], children: Iterable[Outbox]) -> None:
    """Replace an event row by one row per recipient, atomically: each is then retried alone.

    With no recipient there is nothing to write: the handler returns and the worker marks
    the row delivered (_settle), in one statement instead of a transaction of its own."""
    children = list(children)
    if not children:
        return
    async with transaction():
        await Outbox.insert(*children)
        await Outbox.update({Outbox.delivered_at: utcnow(), Outbox.last_error: ""}).where(
            (Outbox.id == row["id"]) & Outbox.delivered_at.is_null()
        )
    wake()


# The worker's own statements run after every change that writes an outbox row, and at each
# poll: written once (Piccolo built them anew each time, 0.5 to 1 ms of CPU apiece).
_CLAIM_SQL = ("UPDATE outbox SET attempts = {}, next_attempt_at = {} WHERE id = {} AND attempts = {} "
              "AND delivered_at IS NULL AND next_attempt_at <= {} RETURNING id")
_FINISH_SQL = {column: f"UPDATE outbox SET {column} = {{}}, last_error = {{}} WHERE id = {{}} AND delivered_at IS NULL"
               for column in ("delivered_at", "failed_at")}


async def _due(channel_names: list[str], limit: int) -> list[dict[str, Any]]:
    names = ", ".join("{}" for _ in channel_names)
    return await select_rows(
        Outbox, f"delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= {{}} AND channel IN ({names}) "
                "ORDER BY next_attempt_at, id LIMIT {}", utcnow(), *channel_names, limit)


async def _claim(row: dict[str, Any]) -> bool:
    now = utcnow()
    # Still due and not touched since it was read: a row leased or rescheduled by another
    # worker in the meantime is left alone.
    claimed = await Outbox.raw(_CLAIM_SQL, row["attempts"] + 1, now + LEASE, row["id"], row["attempts"], now)
    if claimed:
        row["attempts"] += 1
    return bool(claimed)


async def _settle(row: dict[str, Any], handler: Handler) -> None:
    now = utcnow()
    try:
        await handler(row)
    except Retry as retry:
        if retry.count_attempt and row["attempts"] >= MAX_ATTEMPTS:
            await _finish(row, failed=True, error=f"abandon après {row['attempts']} tentatives : {retry.error}")
            return
        delay = retry.delay if retry.delay is not None else backoff(row["attempts"])
        attempts = row["attempts"] if retry.count_attempt else row["attempts"] - 1
        await Outbox.update({
            Outbox.next_attempt_at: now + timedelta(seconds=delay), Outbox.last_error: retry.error[:2000],
            Outbox.attempts: attempts,
        }).where(Outbox.id == row["id"])
    except Drop as drop:
        await _finish(row, failed=True, error=drop.error)
    except Exception as exc:  # a bug in a handler must not stop the others: retry later, loudly
        log.exception("outbox row %s (%s) failed", row["id"], row["channel"])
        if row["attempts"] >= MAX_ATTEMPTS:
            await _finish(row, failed=True, error=f"{type(exc).__name__}: {exc}"[:2000])
            return
        await Outbox.update({
            Outbox.next_attempt_at: now + timedelta(seconds=backoff(row["attempts"])),
            Outbox.last_error: f"{type(exc).__name__}: {exc}"[:2000],
        }).where(Outbox.id == row["id"])
    else:
        await _finish(row, failed=False, error="")


async def _finish(row: dict[str, Any], *, failed: bool, error: str) -> None:
    await Outbox.raw(_FINISH_SQL["failed_at" if failed else "delivered_at"], utcnow(), error, row["id"])


async def run_once(channel_names: Iterable[str] | None = None, *, limit: int = BATCH) -> int:
    """Deliver the rows due now on these channels (all registered ones by default); returns how many were handled."""
    names = [c for c in (channel_names or channels()) if c in _handlers]
    if not names:
        return 0
    rows = await _due(names, limit)
    handled = 0
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def deliver(row: dict[str, Any]) -> None:
        nonlocal handled
        async with limiter:
            if await _claim(row):
                await _settle(row, _handlers[row["channel"]])
                handled += 1

    async with anyio.create_task_group() as group:
        for row in rows:
            group.start_soon(deliver, row)
    return handled


async def run_pass() -> int:
    """One pass: the deadlines due now (their handlers write outbox rows), then the outbox."""
    from backend.processing import deadlines

    if await deadlines.run_due():
        _wake.set()
    return await run_once()


async def run_forever(*, poll_interval: float = 1.0) -> None:
    """Loop until cancelled: run the due deadlines, deliver what is due, then sleep until woken or the next poll."""
    while True:
        # Cleared before the pass, not after: a wake() during the pass (a fan-out's new rows,
        # a change committed meanwhile) must start the next pass at once, not a poll later.
        _wake.clear()
        try:
            handled = await run_pass()
        except asyncio.CancelledError:
            if asyncio.current_task() in _stopping:  # our own stop(): end the loop
                raise
            # A cancellation that escaped a handler's timeout is not a reason to stop
            # delivering: the row it was on is retried when its lease runs out.
            log.error("outbox worker pass cancelled from inside; continuing")
            handled = 0
        except Exception:  # the database may be briefly unreachable: keep the loop alive
            log.exception("outbox worker pass failed")
            handled = 0
        if handled >= BATCH:
            continue
        with anyio.move_on_after(poll_interval):
            await _wake.wait()


def start() -> asyncio.Task:
    """The worker as a background task of the web process (`facteur serve`)."""
    load_handlers()
    return asyncio.get_running_loop().create_task(run_forever(), name="outbox-worker")


async def stop(task: asyncio.Task | None, *, timeout: float = 10.0) -> None:
    """Cancel the loop and wait for it, bounded: shutting down never hangs on the worker."""
    if task is None:
        return
    # Marked first: the loop tells this cancellation from a stray one by the mark, not by
    # Task.cancelling(), which anyio's cancel scopes may reset on the way out.
    _stopping.add(task)
    task.cancel()
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.error("outbox worker did not stop within %s s", timeout)
    finally:
        _stopping.discard(task)


async def main() -> None:
    """`facteur worker`: the worker alone, for deployments that separate it from the web."""
    from backend.lib import db

    load_handlers()
    await db.start_pool()
    try:
        await run_forever()
    finally:
        await db.close_pool()
