"""Due dates the worker acts on: one mechanism for every deadline (issue #11).

A deadline is a row of the `deadline` table: a kind (the name its handler is registered
under), an invoice, a due time and a payload. `schedule` is called in the transaction of
the change that causes it (the lifecycle), so a deadline exists exactly when its cause was
committed; it is idempotent: one row per (kind, invoice), a second call moves it.

The worker (worker.run_forever, `facteur worker`) runs the due rows each pass. A row is
claimed with a conditional update and a lease, as the outbox's are: two processes never
both run one; a process that dies mid-run leaves a lease that runs out, and the row is
taken again. The handler's writes and the row's "done" mark share one transaction, so a
run either happened entirely or not at all. Handlers therefore only write (an outbox row
for a push, a status change…): anything slow or remote goes through the outbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from backend.lib.common import utcnow
from backend.lib.db import select_rows, transaction
from backend.processing.tables import Deadline
from backend.processing.worker import payload_of  # noqa: F401 — one reading of a row's JSON payload, outbox and deadlines alike

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

LEASE = timedelta(seconds=120)
RETRY = timedelta(minutes=5)  # after a handler's error; doubled each attempt
MAX_ATTEMPTS = 10
BATCH = 100

_kinds: dict[str, Handler] = {}


class Superseded(Exception):
    """The row changed (rescheduled, cancelled, taken by another worker) while its handler ran."""


def register_kind(kind: str, handler: Handler) -> None:
    _kinds[kind] = handler


def kinds() -> list[str]:
    return sorted(_kinds)


# One statement whether the row exists or not (the unique index on kind and invoice): a new
# row pending at due_at, or the existing one made pending again at due_at, its creation kept.
_SCHEDULE_SQL = (
    "INSERT INTO deadline (kind, invoice, due_at, payload, attempts, claimed_until, done_at, outcome, last_error, created_at) "
    "VALUES ({}, {}, {}, {}, 0, NULL, NULL, '', '', {}) ON CONFLICT (kind, invoice) DO UPDATE SET "
    "due_at = excluded.due_at, payload = excluded.payload, attempts = 0, claimed_until = NULL, done_at = NULL, "
    "outcome = '', last_error = ''")


async def schedule(kind: str, invoice_id: int, due_at: datetime, payload: dict[str, Any] | None = None) -> None:
    """Make the (kind, invoice) deadline pending at `due_at`, whether it existed or not.

    Call it inside the transaction of the change that causes it: the caller's own update of
    the invoice serializes two changes of one invoice, and the unique index stops the rest.
    """
    await Deadline.raw(_SCHEDULE_SQL, kind, invoice_id, due_at, json.dumps(payload or {}, ensure_ascii=False, default=str),
                       utcnow())


reschedule = schedule


async def cancel(kind: str, invoice_id: int) -> None:
    """The cause is gone (the invoice was paid, rejected…): the pending deadline will not run."""
    await Deadline.update({Deadline.done_at: utcnow(), Deadline.outcome: "cancelled", Deadline.claimed_until: None}).where(
        (Deadline.kind == kind) & (Deadline.invoice == invoice_id) & Deadline.done_at.is_null())


async def pending(kind: str, invoice_id: int) -> dict[str, Any] | None:
    return await Deadline.select().where(
        (Deadline.kind == kind) & (Deadline.invoice == invoice_id) & Deadline.done_at.is_null()).first()


# --- the worker's side -----------------------------------------------------------------------

async def _due(limit: int) -> list[dict[str, Any]]:
    """Asked at every pass of the worker (after each change, and at each poll): written once."""
    now, names = utcnow(), kinds()
    return await select_rows(
        Deadline, "done_at IS NULL AND due_at <= {} AND (claimed_until IS NULL OR claimed_until <= {}) "
                  f"AND kind IN ({', '.join('{}' for _ in names)}) ORDER BY due_at, id LIMIT {{}}", now, now, *names, limit)


async def _claim(row: dict[str, Any]) -> bool:
    """Take the row if it is still as read: due, not leased, not run or moved since."""
    now = utcnow()
    claimed = await Deadline.update({Deadline.attempts: row["attempts"] + 1, Deadline.claimed_until: now + LEASE}).where(
        (Deadline.id == row["id"]) & (Deadline.attempts == row["attempts"]) & Deadline.done_at.is_null()
        & (Deadline.due_at <= now) & (Deadline.claimed_until.is_null() | (Deadline.claimed_until <= now))
    ).returning(Deadline.id)
    if claimed:
        row["attempts"] += 1
    return bool(claimed)


async def _run(row: dict[str, Any]) -> None:
    """The handler and the done mark in one transaction; on error, a later retry."""
    try:
        async with transaction():
            await _kinds[row["kind"]](row)
            finished = await Deadline.update({Deadline.done_at: utcnow(), Deadline.outcome: "done", Deadline.last_error: ""}).where(
                (Deadline.id == row["id"]) & (Deadline.attempts == row["attempts"]) & Deadline.done_at.is_null()
                & Deadline.claimed_until.is_not_null()
            ).returning(Deadline.id)
            if not finished:
                raise Superseded()  # undo the handler's writes: the row's new state decides
    except Superseded:
        return
    except Exception as exc:  # a handler's bug must not stop the other deadlines
        log.exception("deadline %s (%s, invoice %s) failed", row["id"], row["kind"], row["invoice"])
        error = f"{type(exc).__name__}: {exc}"[:2000]
        values: dict[Any, Any] = {Deadline.last_error: error, Deadline.claimed_until: utcnow() + RETRY * 2 ** (row["attempts"] - 1)}
        if row["attempts"] >= MAX_ATTEMPTS:
            values.update({Deadline.done_at: utcnow(), Deadline.outcome: "failed", Deadline.claimed_until: None})
        await Deadline.update(values).where((Deadline.id == row["id"]) & (Deadline.attempts == row["attempts"]))


async def run_due(limit: int = BATCH) -> int:
    """Run the deadlines due now, one after the other; returns how many this process ran."""
    if not _kinds:
        return 0
    ran = 0
    for row in await _due(limit):
        if row["kind"] in _kinds and await _claim(row):
            await _run(row)
            ran += 1
    return ran
