"""The real components the product relies on when configured: PostgreSQL, Redis.

On a laptop without them these tests skip; under CI=true they fail, so a CI machine
that lost a service cannot pass silently.
"""

from __future__ import annotations

import asyncio

from tests.conftest import require_component

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


async def _pg_answers() -> bool:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_DSN), 5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return False
    try:
        return await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def _redis_answers(url: str) -> bool:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=5)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def test_postgresql_is_reachable():
    require_component(await _pg_answers(), "PostgreSQL (127.0.0.1:5432, base test)")


async def test_redis_is_reachable():
    require_component(await _redis_answers(REDIS_URL), "Redis (127.0.0.1:6379)")


async def test_sessions_are_stored_in_the_database_even_with_redis(settings, clean_db):
    """Sessions live in the database (shared by every process and host), not in Redis: a
    Redis outage must not sign anyone out. Checked in both CI runs."""
    require_component(await _redis_answers(REDIS_URL), "Redis (127.0.0.1:6379)")
    import msgspec
    from litestar.testing import AsyncTestClient
    from redis.asyncio import Redis

    from backend.app import create_app
    from backend.lib.tables import StoreEntry
    from tests.support.accounts import AccountFactory

    with_redis = msgspec.structs.replace(settings, redis_url=settings.redis_url or REDIS_URL)
    async with AsyncTestClient(app=create_app(with_redis, connection_pool=False)) as client:
        await AccountFactory(client, with_redis).registered()
        session_id = client.cookies.get("facteur_session")
    redis = Redis.from_url(with_redis.redis_url)
    try:
        in_redis = await redis.exists(f"facteur_sessions:{session_id}")
    finally:
        await redis.aclose()
    in_database = await StoreEntry.exists().where(StoreEntry.name == session_id)
    assert session_id and in_database and in_redis == 0

    # Another process (another app on the same database) knows the session.
    async with AsyncTestClient(app=create_app(settings, connection_pool=False)) as other:
        other.cookies.set("facteur_session", session_id)
        assert (await other.get("/account", follow_redirects=False)).status_code == 200
