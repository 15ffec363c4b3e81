"""Many live streams subscribing at the same moment, on the Redis channels backend.

That moment is real: a server (re)starts and every open page's EventSource reconnects at
once. Found by bench/load: with 1,000 streams opened together, no event came through
Redis; the streams got them only from the 2-second catch-up read of the event table.
The channels use a Redis server of this test's own (see test_redis_outage.py), so the
Pub/Sub connections counted are this process's only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
from litestar import Litestar
from redis.asyncio import Redis

from backend.settings import Settings
from backend.tracking.stream import make_channels
from tests.integration.tracking.test_redis_outage import own_redis  # noqa: F401  (the fixture)

STREAMS = 30


async def test_streams_subscribing_together_all_hear_their_channels(own_redis):  # noqa: F811
    settings = Settings(data_dir=Path("/tmp"), database_url="sqlite:///unused", secret_key="k" * 32, redis_url=own_redis.url)
    plugin = make_channels(settings)
    async with Litestar(plugins=[plugin]).lifespan():
        channels = [f"facteur:test:structure:{n}" for n in range(STREAMS)]
        subscribers = await asyncio.gather(*(plugin.subscribe([channel]) for channel in channels))
        for channel in channels:
            await plugin.wait_published(f"event of {channel}".encode(), [channel])
        with anyio.fail_after(3):  # through Redis, not after a catch-up: at once
            heard = [await subscriber.next_message() for subscriber in subscribers]
        assert heard == [f"event of {channel}".encode() for channel in channels]
        redis = Redis.from_url(own_redis.url)
        try:
            assert len(await redis.client_list(_type="pubsub")) == 1  # one listening connection per process
        finally:
            await redis.aclose()
        for subscriber, channel in zip(subscribers, channels):
            await plugin.unsubscribe(subscriber, [channel])
