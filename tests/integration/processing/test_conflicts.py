"""A status change that meets another transaction holding what it needs lands once.

On PostgreSQL the other transaction holds a counter row the change's trigger must
update, then asks for the invoice row the change holds: a deadlock, which PostgreSQL
breaks by aborting the change (the other session waits longer before it looks for
deadlocks, so the change is always the one aborted). The change runs again and lands.
On SQLite writers queue (BEGIN IMMEDIATE): the change waits for the other writer.
"""

from __future__ import annotations

import asyncio

import pytest

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing.lifecycle import Actor, change_status


async def _waiting_on_a_lock(conn) -> bool:
    return bool(await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))


async def _deadlock_then_land(settings, invoice: Invoice, agent: Actor) -> Invoice:
    import asyncpg

    other, watcher = await asyncpg.connect(settings.database_url), await asyncpg.connect(settings.database_url)
    try:
        await other.execute("SET deadlock_timeout = '30s'")
        held = other.transaction()
        await held.start()
        await other.execute(
            "INSERT INTO invoice_count (structure, side, status, n, cents) VALUES ($1, 'recipient', 'PRISE_EN_CHARGE', 0, 0) "
            "ON CONFLICT (structure, side, status) DO UPDATE SET n = invoice_count.n", invoice.recipient)
        change = asyncio.create_task(change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None))
        for _ in range(200):  # the change holds the invoice row and waits for our counter row
            if await _waiting_on_a_lock(watcher):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the change never waited for the counter row")
        # The cycle: PostgreSQL aborts the change (its deadlock check comes first), which
        # frees the invoice row for us; its retry then waits for our rollback.
        await asyncio.wait_for(other.execute("UPDATE invoice SET updated_at = updated_at WHERE id = $1", invoice.id), 20)
        assert not change.done()
        await held.rollback()
        return await asyncio.wait_for(change, 20)
    finally:
        await other.close()
        await watcher.close()


async def _queue_then_land(settings, invoice: Invoice, agent: Actor) -> Invoice:
    import aiosqlite

    async with aiosqlite.connect(settings.sqlite_path) as other:
        await other.execute("BEGIN IMMEDIATE")
        change = asyncio.create_task(change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None))
        await asyncio.sleep(0.5)
        assert not change.done()  # waiting for the other writer, not failing
        await other.rollback()
        return await asyncio.wait_for(change, 20)


async def test_a_change_caught_by_another_transaction_lands_once(settings, invoice, agent_id):
    agent = Actor("recipient", agent_id)
    land = _deadlock_then_land if settings.is_postgres else _queue_then_land
    saved = await land(settings, invoice, agent)
    assert saved.status == "PRISE_EN_CHARGE" and saved.version == invoice.version + 1
    assert await InvoiceHistory.count().where(
        (InvoiceHistory.invoice == invoice.id) & (InvoiceHistory.status == "PRISE_EN_CHARGE")) == 1
