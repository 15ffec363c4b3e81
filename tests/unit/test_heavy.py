"""Heavy work: at most PER_PROCESS threads at once, MAX_WAITING queued, PER_CALLER per caller."""

from __future__ import annotations

import asyncio
import threading

import pytest

from backend.lib import heavy


async def _started(tasks: list, count: int) -> None:
    for _ in range(200):  # bounded: 2 s
        if sum(1 for t in tasks if not t.done()) >= count:
            await asyncio.sleep(0.05)
            return
        await asyncio.sleep(0.01)


async def test_one_caller_beyond_its_share_is_told_to_come_back():
    release = threading.Event()
    running = [asyncio.create_task(heavy.run("key:1", release.wait, 5)) for _ in range(heavy.PER_CALLER)]
    await _started(running, heavy.PER_CALLER)
    with pytest.raises(heavy.Busy) as refused:
        await heavy.run("key:1", release.wait, 5)
    assert refused.value.status == 429 and refused.value.code == "heavy_work_limit" and refused.value.retry_after > 0
    assert "attendez" in refused.value.message
    other = asyncio.create_task(heavy.run("key:2", lambda: "done"))  # another caller is not refused
    release.set()
    assert await asyncio.gather(*running) == [True] * heavy.PER_CALLER and await other == "done"
    assert await heavy.run("key:1", lambda: 42) == 42  # its share is back once they finished


async def test_the_process_runs_a_few_at_once_and_queues_a_bounded_number(monkeypatch):
    monkeypatch.setattr(heavy, "MAX_WAITING", 2)
    release, inside, peak = threading.Event(), [0], [0]
    lock = threading.Lock()

    def job():
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        release.wait(5)
        with lock:
            inside[0] -= 1
        return True

    jobs = [asyncio.create_task(heavy.run(f"key:{n}", job)) for n in range(heavy.PER_PROCESS + 2)]
    await _started(jobs, heavy.PER_PROCESS + 2)
    with pytest.raises(heavy.Busy) as refused:
        await heavy.run("key:late", job)
    assert refused.value.status == 503 and refused.value.code == "server_busy"
    release.set()
    assert all(await asyncio.gather(*jobs))
    assert peak[0] == heavy.PER_PROCESS


async def test_a_caller_cancelled_while_queued_gives_its_place_back(monkeypatch):
    release = threading.Event()
    holders = [asyncio.create_task(heavy.run(f"key:{n}", release.wait, 5)) for n in range(heavy.PER_PROCESS)]
    await _started(holders, heavy.PER_PROCESS)
    queued = asyncio.create_task(heavy.run("key:q", release.wait, 5))
    await asyncio.sleep(0.05)
    queued.cancel()
    await asyncio.gather(queued, return_exceptions=True)
    bounds = heavy._current()
    assert bounds.waiting == 0 and "key:q" not in bounds.per_caller
    release.set()
    await asyncio.gather(*holders)
