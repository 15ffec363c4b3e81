"""Sessions and counters in the database (backend/lib/stores.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from backend.lib.stores import DatabaseStore
from backend.lib.tables import StoreEntry

DAY = 24 * 3600


async def test_values_expire_and_namespaces_stay_apart(clean_db):
    sessions, counters = DatabaseStore("t").with_namespace("sessions"), DatabaseStore("t").with_namespace("throttle")
    await sessions.set("a", b"session-a", expires_in=60)
    await counters.set("a", b"counter-a")
    await sessions.set("gone", b"x", expires_in=-1)  # already past its expiry
    assert await sessions.get("a") == b"session-a" and await counters.get("a") == b"counter-a"
    assert await sessions.get("gone") is None and not await sessions.exists("gone")
    assert 0 < await sessions.expires_in("a") <= 60 and await counters.expires_in("a") is None

    await sessions.set("a", "remplacée", expires_in=60)
    assert await sessions.get("a") == "remplacée".encode()
    await sessions.delete_expired()
    assert await StoreEntry.count().where(StoreEntry.name == "gone") == 0
    await DatabaseStore("t").delete_all()  # the parent namespace takes its children along
    assert await StoreEntry.count() == 0


async def test_a_counter_counts_every_concurrent_call_once_and_restarts_after_its_window(clean_db):
    store = DatabaseStore("t")
    numbers = await asyncio.gather(*(store.increment("burst", 60) for _ in range(30)))
    assert sorted(numbers) == list(range(1, 31)) and await store.count("burst") == 30
    await StoreEntry.update({StoreEntry.expires_at: int(time.time()) - 1}).where(StoreEntry.name == "burst")
    assert await store.count("burst") == 0  # its window is over
    assert await store.increment("burst", 60) == 1


async def _session_row(client) -> dict:
    return await StoreEntry.select().where(StoreEntry.name == client.cookies.get("facteur_session")).first()


async def test_a_session_is_written_again_only_when_it_changes_or_nears_its_end(client, accounts):
    await accounts.registered()
    row = await _session_row(client)
    assert row is not None
    # Far from its end: reading pages leaves the stored session as it is (no write per page).
    far = int(time.time()) + 13 * DAY
    await StoreEntry.update({StoreEntry.expires_at: far}).where(StoreEntry.id == row["id"])
    for _ in range(2):
        assert (await client.get("/account")).status_code == 200
    assert (await _session_row(client))["expires_at"] == far
    # Past half its life, the next page slides it forward to a whole fortnight again.
    near = int(time.time()) + 2 * DAY
    await StoreEntry.update({StoreEntry.expires_at: near}).where(StoreEntry.id == row["id"])
    assert (await client.get("/account")).status_code == 200
    assert (await _session_row(client))["expires_at"] >= int(time.time()) + 13 * DAY
