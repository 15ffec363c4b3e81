from __future__ import annotations

import shutil

import pytest
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient

from backend.accounts import passwords

from tests.support.accounts import AccountFactory
from tests.support.apps import app_for


async def _forget_sessions_and_counters(settings) -> None:
    """Sessions and login counters live in files or Redis: every test starts from none.

    Done with a client of our own: the app's Redis client must first be used inside the
    test client's event loop.
    """
    for folder in ("sessions", "throttle", "mailbox"):
        shutil.rmtree(settings.data_dir / folder, ignore_errors=True)
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        try:
            keys = await redis.keys("facteur_*")
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()


@pytest.fixture
async def app(clean_db, settings):
    await _forget_sessions_and_counters(settings)
    return app_for(settings)  # built once per settings, as new for every test (tests/support/apps.py)


@pytest.fixture
async def client(app):
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def accounts(client, settings) -> AccountFactory:
    return AccountFactory(client, settings)


CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """argon2id at its cheapest: integration tests sign many people up, hashing is not what they test.

    The production parameters are checked in tests/unit/test_passwords.py and used by the
    browser tests' real server.
    """
    monkeypatch.setattr(passwords, "_hasher", CHEAP_HASHER)
