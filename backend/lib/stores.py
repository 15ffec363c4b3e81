"""Sessions and counters in the database, so that pages and the API need no Redis.

Every page already needs the database; Redis only carries live events. With the sessions
and the counters here, a Redis outage pauses live updates and nothing else, and every
process and host sees the same sessions and counts (the database is shared).
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from litestar.stores.base import NamespacedStore

from backend.lib.tables import StoreEntry

CLEAN_UP_ONE_WRITE_IN = 200  # expired rows go away now and then, on a write, never in a read


def _seconds(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


def _expiry(expires_in: int | timedelta | None) -> int | None:
    seconds = _seconds(expires_in)
    return None if seconds is None else int(time.time()) + seconds


_LIVE = "(expires_at IS NULL OR expires_at > {})"


class DatabaseStore(NamespacedStore):
    """A Litestar store on the `store_entry` table, with an atomic counter for rate limits."""

    __slots__ = ()

    def __init__(self, namespace: str = "facteur") -> None:
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(f"{self.namespace}:{namespace}")

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await StoreEntry.raw(
            "INSERT INTO store_entry (namespace, name, value, counter, expires_at) VALUES ({}, {}, {}, 0, {}) "
            "ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            self.namespace, key, data, _expiry(expires_in))
        if random.randrange(CLEAN_UP_ONE_WRITE_IN) == 0:
            await self.delete_expired()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        entry = await self.get_entry(key)
        if entry is None:
            return None
        if renew_for is not None:
            await StoreEntry.update({StoreEntry.expires_at: _expiry(renew_for)}).where(self._is(key))
        return entry[0]

    async def get_entry(self, key: str) -> tuple[bytes, int | None] | None:
        """The value and its expiry (Unix seconds), or None when absent or expired."""
        rows = await StoreEntry.raw(
            f"SELECT value, expires_at FROM store_entry WHERE namespace = {{}} AND name = {{}} AND {_LIVE}",
            self.namespace, key, int(time.time()))
        return (bytes(rows[0]["value"]), rows[0]["expires_at"]) if rows else None

    async def increment(self, key: str, expires_in: int | timedelta) -> int:
        """This call's number in the key's window, atomically (one UPSERT): a burst of
        concurrent calls, in any process, gets 1, 2, 3… and never twice the same."""
        now = int(time.time())
        expired = "store_entry.expires_at IS NOT NULL AND store_entry.expires_at <= {}"
        rows = await StoreEntry.raw(
            "INSERT INTO store_entry (namespace, name, value, counter, expires_at) VALUES ({}, {}, {}, 1, {}) "
            f"ON CONFLICT (namespace, name) DO UPDATE SET "
            f"counter = CASE WHEN {expired} THEN 1 ELSE store_entry.counter + 1 END, "
            f"expires_at = CASE WHEN {expired} THEN excluded.expires_at ELSE store_entry.expires_at END "
            "RETURNING counter",
            self.namespace, key, b"", now + _seconds(expires_in), now, now)
        return int(rows[0]["counter"])

    async def count(self, key: str) -> int:
        """The counter's value now (0 when absent or expired)."""
        rows = await StoreEntry.raw(
            f"SELECT counter FROM store_entry WHERE namespace = {{}} AND name = {{}} AND {_LIVE}",
            self.namespace, key, int(time.time()))
        return int(rows[0]["counter"]) if rows else 0

    async def delete(self, key: str) -> None:
        await StoreEntry.delete().where(self._is(key))

    async def delete_all(self) -> None:
        """This namespace and its children."""
        await StoreEntry.delete().where(
            (StoreEntry.namespace == self.namespace) | StoreEntry.namespace.like(f"{self.namespace}:%"))

    async def delete_expired(self) -> None:
        await StoreEntry.delete().where(StoreEntry.expires_at <= int(time.time()))

    async def exists(self, key: str) -> bool:
        return await self.get_entry(key) is not None

    async def expires_in(self, key: str) -> int | None:
        entry = await self.get_entry(key)
        if entry is None or entry[1] is None:
            return None
        return max(entry[1] - int(time.time()), 0)

    def _is(self, key: str):
        return (StoreEntry.namespace == self.namespace) & (StoreEntry.name == key)
