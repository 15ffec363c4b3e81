"""Counting failures in the shared store (the database, see backend/lib/stores.py).

Used to slow down password guessing: per account and per client address.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.lib.stores import DatabaseStore


@dataclass(frozen=True)
class Limit:
    attempts: int
    window_seconds: int


class FailureCounter:
    def __init__(self, store: DatabaseStore, limit: Limit) -> None:
        self.store = store
        self.limit = limit

    async def is_blocked(self, key: str) -> bool:
        return await self.store.count(key) >= self.limit.attempts

    async def record_failure(self, key: str) -> None:
        # Atomic: a burst of guesses in parallel counts every one of them.
        await self.store.increment(key, self.limit.window_seconds)

    async def reset(self, key: str) -> None:
        await self.store.delete(key)
