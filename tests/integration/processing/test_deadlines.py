"""The one deadline mechanism (issue #11): idempotent rows run by the worker at their due time,
once, across processes and restarts. Time moves with the controlled clock, never by sleeping."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.processing import deadlines, worker
from backend.processing.tables import Deadline, Outbox
from tests.support.deadline_racer import KIND as RACE_KIND

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def kind():
    """A test kind whose handler writes an outbox row (or fails while `failing` says so)."""
    state = {"failing": False}

    async def handler(row):
        await Outbox.insert(Outbox(event_type="test.deadline", channel="test_deadline", invoice=row["invoice"],
                                   payload=deadlines.payload_of(row)))
        if state["failing"]:
            raise RuntimeError("boom")

    deadlines.register_kind("test_kind", handler)
    yield state
    deadlines._kinds.pop("test_kind", None)


async def runs(invoice_id: int) -> int:
    return await Outbox.count().where((Outbox.event_type == "test.deadline") & (Outbox.invoice == invoice_id))


async def test_a_deadline_runs_once_at_its_due_time_and_not_before(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow() + timedelta(days=30), {"why": "test"})
    assert await deadlines.run_due() == 0
    clock.advance(days=29, seconds=86399 - 60)
    assert await deadlines.run_due() == 0
    clock.advance(seconds=61)
    assert await deadlines.run_due() == 1
    assert await deadlines.run_due() == 0
    assert await runs(7) == 1
    row = await Deadline.select().first()
    assert row["outcome"] == "done" and row["done_at"] is not None


async def test_scheduling_twice_keeps_one_row_at_the_last_time(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow() + timedelta(days=1))
    await deadlines.reschedule("test_kind", 7, utcnow() + timedelta(days=5))
    assert await Deadline.count() == 1
    clock.advance(days=2)
    assert await deadlines.run_due() == 0  # moved to day 5
    clock.advance(days=4)
    assert await deadlines.run_due() == 1


async def test_a_done_deadline_scheduled_again_runs_again(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow())
    assert await deadlines.run_due() == 1
    await deadlines.schedule("test_kind", 7, utcnow() + timedelta(days=1))
    clock.advance(days=2)
    assert await deadlines.run_due() == 1
    assert await runs(7) == 2


async def test_a_cancelled_deadline_never_runs(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow() + timedelta(days=1))
    await deadlines.cancel("test_kind", 7)
    clock.advance(days=2)
    assert await deadlines.run_due() == 0
    assert (await Deadline.select().first())["outcome"] == "cancelled"


async def test_scheduling_is_part_of_the_callers_transaction(clean_db, kind):
    with pytest.raises(RuntimeError):
        async with transaction():
            await deadlines.schedule("test_kind", 7, utcnow())
            raise RuntimeError("the change failed")
    assert await Deadline.count() == 0


async def test_a_failing_handler_writes_nothing_and_is_retried_later(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow())
    kind["failing"] = True
    assert await deadlines.run_due() == 1
    assert await runs(7) == 0  # its writes were rolled back with the failure
    row = await Deadline.select().first()
    assert row["done_at"] is None and "boom" in row["last_error"]
    kind["failing"] = False
    assert await deadlines.run_due() == 0  # waits for the retry delay
    clock.advance(seconds=deadlines.RETRY.total_seconds() + 1)
    assert await deadlines.run_due() == 1
    assert await runs(7) == 1


async def test_a_deadline_claimed_by_a_process_that_died_runs_after_its_lease(clean_db, kind, clock):
    await deadlines.schedule("test_kind", 7, utcnow())
    row = await Deadline.select().first()
    assert await deadlines._claim(row)  # claimed, then the process "dies" before running it
    assert await deadlines.run_due() == 0  # leased: nobody else takes it
    clock.advance(seconds=deadlines.LEASE.total_seconds() + 1)
    assert await deadlines.run_due() == 1
    assert await runs(7) == 1


async def test_the_worker_pass_runs_due_deadlines_then_delivers_their_outbox_rows(clean_db, kind):
    delivered = []

    async def deliver(row):
        delivered.append(row["invoice"])

    worker.register_channel("test_deadline", deliver)
    try:
        await deadlines.schedule("test_kind", 9, utcnow())
        await worker.run_pass()
        assert delivered == [9]
    finally:
        worker._handlers.pop("test_deadline", None)


async def test_two_processes_racing_run_each_deadline_once(clean_db, settings):
    for invoice_id in range(1, 41):
        await deadlines.schedule(RACE_KIND, invoice_id, utcnow() - timedelta(seconds=1))
    env = {**os.environ, "FACTEUR_DATABASE_URL": settings.database_url}
    racers = [subprocess.Popen([sys.executable, "-m", "tests.support.deadline_racer"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    for racer in racers:
        output, _ = racer.communicate(timeout=120)
        assert racer.returncode == 0, output.decode()
    rows = await Outbox.select(Outbox.invoice, Outbox.payload).where(Outbox.event_type == "test.race")
    assert sorted(r["invoice"] for r in rows) == list(range(1, 41))
    assert await Deadline.count().where(Deadline.done_at.is_null()) == 0
