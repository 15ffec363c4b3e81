"""Redis goes away: people stay signed in, pages and the API keep working, /healthz says
what is missing; only live updates pause. The app under test talks to a redis-server of
this test's own, which it stops and starts again."""

from __future__ import annotations

import httpx
import msgspec

from backend.api.keys import create_key
from backend.app import create_app
from tests.integration.api.conftest import company
from tests.integration.tracking.conftest import served
from tests.integration.tracking.test_redis_outage import own_redis  # noqa: F401 — the fixture
from tests.support.accounts import AccountFactory


async def test_pages_and_api_work_while_redis_is_down(clean_db, settings, own_redis):  # noqa: F811
    with_redis = msgspec.structs.replace(settings, redis_url=own_redis.url)
    async with served(create_app(with_redis, connection_pool=False), with_redis) as live:
        structure = await company()
        key = await create_key(structure, "ERP", ("read",), None)
        async with live.client() as browser:
            await AccountFactory(browser, with_redis).registered()
            assert (await browser.get("/healthz")).json()["redis"] == "ok"

            own_redis.stop()
            account = await browser.get("/account", follow_redirects=False)
            assert account.status_code == 200, "a Redis outage signed the person out"
            assert (await browser.get("/")).status_code == 200
            api = await browser.get("/api/v1/invoices", headers={"Authorization": f"Bearer {key.secret}"})
            assert api.status_code == 200 and api.json()["items"] == []
            health = await browser.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"status": "degraded", "database": "ok", "redis": "unreachable", "live_events": "paused", "files": "ok"}

            own_redis.start()
            assert (await browser.get("/healthz")).json()["status"] == "ok"
            assert (await browser.get("/account", follow_redirects=False)).status_code == 200


async def test_healthz_polled_often_does_not_open_a_connection_each_time(clean_db, settings, own_redis):  # noqa: F811
    """A load balancer polls /healthz every second or so: one kept connection, not one per poll."""
    from redis import Redis

    with_redis = msgspec.structs.replace(settings, redis_url=own_redis.url)
    counter = Redis.from_url(own_redis.url)
    async with served(create_app(with_redis, connection_pool=False), with_redis) as live:
        async with live.client() as browser:
            assert (await browser.get("/healthz")).json()["redis"] == "ok"
            before = counter.info("stats")["total_connections_received"]
            for _ in range(30):
                assert (await browser.get("/healthz")).json()["redis"] == "ok"
            assert counter.info("stats")["total_connections_received"] - before <= 2
    counter.close()
