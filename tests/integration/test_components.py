"""The real components the product relies on when configured: PostgreSQL, Redis.

On a laptop without them these tests skip; under CI=true they fail, so a CI machine
that lost a service cannot pass silently.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import IN_CI, require_component

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


async def test_sessions_are_stored_in_redis_when_configured(settings, client, accounts):
    if not settings.redis_url:
        if IN_CI:
            pytest.skip("run without FACTEUR_REDIS_URL: the PostgreSQL + Redis run covers this")
        pytest.skip("FACTEUR_REDIS_URL is not set")
    require_component(await _redis_answers(settings.redis_url), f"Redis ({settings.redis_url})")
    from redis.asyncio import Redis

    await accounts.registered()
    session_id = client.cookies.get("facteur_session")
    redis = Redis.from_url(settings.redis_url)
    try:
        keys = [k.decode() for k in await redis.keys("facteur_sessions:*")]
    finally:
        await redis.aclose()
    assert any(k.endswith(session_id) for k in keys), keys
