"""Counting failures in a shared store (files by default, Redis when configured).

Used to slow down password guessing: per account and per client address.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.stores.base import Store


@dataclass(frozen=True)
class Limit:
    attempts: int
    window_seconds: int


class FailureCounter:
    def __init__(self, store: Store, limit: Limit) -> None:
        self.store = store
        self.limit = limit

    async def is_blocked(self, key: str) -> bool:
        return await self._count(key) >= self.limit.attempts

    async def record_failure(self, key: str) -> None:
        count = await self._count(key) + 1
        await self.store.set(key, str(count).encode(), expires_in=self.limit.window_seconds)

    async def reset(self, key: str) -> None:
        await self.store.delete(key)

    async def _count(self, key: str) -> int:
        raw = await self.store.get(key)
        try:
            return int(raw) if raw else 0
        except ValueError:
            return 0
