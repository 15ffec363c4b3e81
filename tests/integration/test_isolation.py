"""What the suite's speed-ups must not cost: nothing of one test reaches the next.

Integration tests share one app per settings (tests/support/apps.py), have their tables
emptied by one statement (tests/support/database.py `truncate_all`), and a module may build
its world once and restore it for each test (`snapshot_rows` / `restore_rows`). Each is
checked here against what a test relies on: an app as if new, empty tables whose ids start
again at 1, and a restored world equal to the snapshot, row for row, that new rows follow.
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar.testing import AsyncTestClient

from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from backend.tracking.stream import LiveChannels, subscriber_count
from tests.support.apps import app_for
from tests.support.database import restore_rows, snapshot_rows, truncate_all


async def test_the_next_test_gets_the_shared_app_as_if_new(clean_db, settings):
    app = app_for(settings)
    plugin = app.plugins.get(LiveChannels)
    async with AsyncTestClient(app=app) as first:
        # What a test may leave behind: state it set, settings it replaced, a subscriber.
        app.state.api_rate_limit = 3
        app.state.settings = msgspec.structs.replace(settings, max_file_size=1024)
        first.blocking_portal.call(plugin.subscribe, ["left-behind"])
        assert subscriber_count(plugin) == 1
        assert (await first.get("/healthz")).status_code == 200

    again = app_for(settings)
    assert again is app  # built once: that is the point
    assert "api_rate_limit" not in again.state and again.state.settings == settings
    assert again.plugins.get(LiveChannels) is plugin and subscriber_count(plugin) == 0
    async with AsyncTestClient(app=again) as second:
        assert (await second.get("/healthz")).status_code == 200
        # Live events work in the new client's event loop (with Redis: a new connection).
        subscriber = second.blocking_portal.call(plugin.subscribe, ["fresh"])
        second.blocking_portal.call(plugin.publish, b"hello", "fresh")
        heard = second.blocking_portal.call(lambda: asyncio.wait_for(subscriber.next_message(), 10))
        assert heard == b"hello"


async def test_emptied_tables_start_their_ids_again_at_one(clean_db, accounts):
    await accounts.registered()
    await accounts.registered()
    await truncate_all()
    assert await User.count() == 0 and await Structure.count() == 0 and await Membership.count() == 0
    person = await accounts.registered()
    assert [u["id"] for u in await User.select(User.id)] == [1]
    assert (await Structure.objects().get(Structure.siret == person.siret)).id == 1


async def test_a_restored_world_is_the_snapshot_and_new_rows_follow_it(clean_db, accounts):
    first = await accounts.registered(company="Structure Alpha")
    await accounts.registered()
    world = await snapshot_rows()
    assert world["app_user"] and world["structure"] and world["membership"]

    # A test changes everything it can: new rows, changed rows, deleted rows.
    await accounts.registered()
    await Structure.update({Structure.name: "Structure modifiée"}).where(Structure.siret == first.siret)
    await Membership.delete().where(Membership.id == world["membership"][0]["id"])
    assert await snapshot_rows() != world

    await restore_rows(world)
    assert await snapshot_rows() == world
    # Rows added after the restore get ids after the restored ones, on every table.
    newcomer = await accounts.registered()
    user = await User.objects().get(User.email == newcomer.email)
    assert user.id > max(u["id"] for u in world["app_user"])
    structure = await Structure.objects().get(Structure.siret == newcomer.siret)
    assert structure.id > max(s["id"] for s in world["structure"])
    assert await User.count() == len(world["app_user"]) + 1
