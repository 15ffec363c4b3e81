"""The outbox worker: delivery, retries with backoff, giving up, fan-out, no double delivery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.lib.common import utcnow
from backend.processing import worker
from backend.processing.tables import Outbox


@pytest.fixture
def channels():
    """Test channels registered for one test, then removed so no other test sees them."""
    added: list[str] = []

    def register(name, handler):
        worker.register_channel(name, handler)
        added.append(name)

    yield register
    for name in added:
        worker._handlers.pop(name, None)


async def add_row(channel: str, payload: str = "{}") -> int:
    rows = await Outbox.insert(Outbox(event_type="test.event", channel=channel, payload=payload)).returning(Outbox.id)
    return rows[0]["id"]


async def row(row_id: int) -> dict:
    return await Outbox.select().where(Outbox.id == row_id).first()


async def make_due(row_id: int) -> None:
    await Outbox.update({Outbox.next_attempt_at: utcnow() - timedelta(seconds=1)}).where(Outbox.id == row_id)


async def test_a_delivered_row_is_marked_and_not_sent_again(clean_db, channels):
    seen = []

    async def handler(r):
        seen.append(r["id"])

    channels("t_ok", handler)
    row_id = await add_row("t_ok")
    assert await worker.run_once(["t_ok"]) == 1
    assert await worker.run_once(["t_ok"]) == 0
    saved = await row(row_id)
    assert seen == [row_id]
    assert saved["delivered_at"] is not None and saved["failed_at"] is None and saved["attempts"] == 1


async def test_retry_waits_for_the_delay_then_delivers(clean_db, channels):
    calls = []

    async def handler(r):
        calls.append(r["attempts"])
        if len(calls) == 1:
            raise worker.Retry(30, "503 du service")

    channels("t_retry", handler)
    row_id = await add_row("t_retry")
    await worker.run_once(["t_retry"])
    saved = await row(row_id)
    assert saved["delivered_at"] is None and saved["last_error"] == "503 du service"
    assert saved["next_attempt_at"] > utcnow() + timedelta(seconds=25)
    assert await worker.run_once(["t_retry"]) == 0  # not due yet
    await make_due(row_id)
    await worker.run_once(["t_retry"])
    saved = await row(row_id)
    assert calls == [1, 2]
    assert saved["delivered_at"] is not None


async def test_an_unexpected_error_is_retried_with_backoff(clean_db, channels):
    async def handler(r):
        raise RuntimeError("boom")

    channels("t_bug", handler)
    row_id = await add_row("t_bug")
    await worker.run_once(["t_bug"])
    saved = await row(row_id)
    assert saved["delivered_at"] is None and saved["failed_at"] is None
    assert "RuntimeError: boom" in saved["last_error"]
    assert saved["next_attempt_at"] > utcnow()


async def test_drop_and_too_many_attempts_give_up(clean_db, channels):
    async def drop(r):
        raise worker.Drop("410 Gone")

    async def always_retry(r):
        raise worker.Retry(0, "toujours indisponible")

    channels("t_drop", drop)
    channels("t_tired", always_retry)
    dropped = await add_row("t_drop")
    tired = await add_row("t_tired")
    await worker.run_once(["t_drop"])
    assert (await row(dropped))["failed_at"] is not None
    for _ in range(worker.MAX_ATTEMPTS):
        await make_due(tired)
        await worker.run_once(["t_tired"])
    saved = await row(tired)
    assert saved["failed_at"] is not None and saved["attempts"] == worker.MAX_ATTEMPTS
    assert "abandon" in saved["last_error"]
    await make_due(tired)
    assert await worker.run_once(["t_tired"]) == 0


async def test_two_workers_at_once_deliver_each_row_once(clean_db, channels):
    seen: list[int] = []

    async def slow(r):
        seen.append(r["id"])
        await asyncio.sleep(0.01)

    channels("t_slow", slow)
    ids = [await add_row("t_slow") for _ in range(20)]
    await asyncio.gather(worker.run_once(["t_slow"]), worker.run_once(["t_slow"]), worker.run_once(["t_slow"]))
    assert sorted(seen) == ids


async def test_a_row_left_by_a_dead_worker_is_taken_again_after_its_lease(clean_db, channels):
    seen = []

    async def handler(r):
        seen.append(r["id"])

    channels("t_lease", handler)
    row_id = await add_row("t_lease")
    assert await worker._claim(await row(row_id))  # claimed, then the process "dies"
    assert await worker.run_once(["t_lease"]) == 0  # leased: nobody else takes it
    await make_due(row_id)  # the lease has run out
    assert await worker.run_once(["t_lease"]) == 1
    assert seen == [row_id]


async def test_fan_out_replaces_the_event_by_one_row_per_recipient(clean_db, channels):
    delivered = []

    async def event(r):
        await worker.fan_out(r, [Outbox(event_type=r["event_type"], channel="t_each", payload=f'{{"to": {n}}}') for n in range(3)])

    async def each(r):
        delivered.append(r["payload"])

    channels("t_event", event)
    channels("t_each", each)
    parent = await add_row("t_event")
    await worker.run_once(["t_event"])
    assert (await row(parent))["delivered_at"] is not None
    await worker.run_once(["t_each"])
    assert len(delivered) == 3
    await worker.run_once(["t_event"])
    assert await Outbox.count().where(Outbox.channel == "t_each") == 3  # the parent is not fanned out twice


async def test_waiting_without_trying_does_not_use_up_the_attempts(clean_db, channels):
    async def waiting(r):
        raise worker.Retry(0, "en attente de la livraison précédente", count_attempt=False)

    channels("t_wait", waiting)
    row_id = await add_row("t_wait")
    for _ in range(worker.MAX_ATTEMPTS + 3):
        await make_due(row_id)
        await worker.run_once(["t_wait"])
    saved = await row(row_id)
    assert saved["failed_at"] is None and saved["attempts"] == 0


async def test_a_rescheduled_row_is_not_claimed_by_a_worker_that_read_it_before(clean_db, channels):
    row_id = await add_row("t_any")
    stale = await row(row_id)  # read by a slow worker…
    await Outbox.update({Outbox.next_attempt_at: utcnow() + timedelta(minutes=5)}).where(Outbox.id == row_id)  # …rescheduled meanwhile
    assert not await worker._claim(stale)


async def test_the_loop_stops_when_asked_even_in_the_middle_of_a_delivery(clean_db, channels):
    started = asyncio.Event()

    async def slow(r):
        started.set()
        await asyncio.sleep(30)

    channels("t_stop", slow)
    await add_row("t_stop")
    loop = asyncio.get_running_loop().create_task(worker.run_forever(poll_interval=0.05))
    await asyncio.wait_for(started.wait(), 10)
    await worker.stop(loop, timeout=5)
    assert loop.done()


async def test_a_stray_cancellation_inside_a_pass_does_not_stop_the_loop(clean_db, channels):
    calls = []

    async def cancelled_once(r):
        calls.append(r["id"])
        if len(calls) == 1:
            raise asyncio.CancelledError  # e.g. a timeout's cancellation that escaped a library
        return None

    channels("t_stray", cancelled_once)
    row_id = await add_row("t_stray")
    loop = asyncio.get_running_loop().create_task(worker.run_forever(poll_interval=0.05))
    try:
        for _ in range(100):
            if len(calls) >= 1:
                break
            await asyncio.sleep(0.05)
        await make_due(row_id)  # its lease would otherwise keep it for two minutes
        for _ in range(100):
            if (await row(row_id))["delivered_at"] is not None:
                break
            await asyncio.sleep(0.05)
        assert not loop.done()
    finally:
        await worker.stop(loop, timeout=5)
    assert (await row(row_id))["delivered_at"] is not None and len(calls) == 2


async def test_the_served_app_runs_the_worker_and_stops_it_on_shutdown(clean_db, channels, settings):
    """`facteur serve` delivers by itself unless FACTEUR_OUTBOX_WORKER=0 (tests turn it off)."""
    import msgspec
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    seen = []

    async def handler(r):
        seen.append(r["id"])

    channels("t_served", handler)
    row_id = await add_row("t_served")
    app = create_app(msgspec.structs.replace(settings, outbox_worker=True), connection_pool=False)
    async with AsyncTestClient(app=app):
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.05)
        task = app.state.outbox_task
    assert seen == [row_id]
    assert task.done()
    idle = create_app(settings, connection_pool=False)  # FACTEUR_OUTBOX_WORKER=0
    async with AsyncTestClient(app=idle):
        assert idle.state.get("outbox_task") is None
