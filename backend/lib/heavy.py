"""Heavy CPU work (rendering PDFs, validating large files) bounded per process and per caller.

Threads share one interpreter lock: ten 999-line invoices rendered at once do not finish
sooner than two at a time, they make every other request of the process wait behind them
(one such invoice is about 10 s of CPU). So heavy work runs in at most `PER_PROCESS` threads
of each process; at most `MAX_WAITING` more wait for their turn, beyond which the process
answers 503 with Retry-After; and one caller (an API key, a user) has at most `PER_CALLER`
jobs running or waiting in a process, beyond which it gets 429 with Retry-After. Light work
(a usual deposit) does not go through here, so it is never queued behind heavy work.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import anyio

T = TypeVar("T")

PER_PROCESS = 2  # threads doing heavy work at once, per process (the machine's cores are shared with the pages)
MAX_WAITING = 16  # heavy jobs queued per process before new ones are refused (503)
PER_CALLER = 2  # heavy jobs one API key or user may have running or queued, per process (429)
LARGE_FILE = 1_000_000  # bytes: a deposited file from which validating it is heavy work
RETRY_AFTER_CALLER = 10  # seconds: about one heavy job
RETRY_AFTER_PROCESS = 30  # seconds: the queue drains PER_PROCESS jobs at a time


class Busy(Exception):
    """Refused for now: the caller's share, or the process's queue, is full."""

    def __init__(self, status: int, code: str, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass
class _Bounds:
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PER_PROCESS))
    waiting: int = 0
    per_caller: Counter = field(default_factory=Counter)


# One set of bounds per event loop: a process serves from one loop; the tests open several.
_bounds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bounds] = weakref.WeakKeyDictionary()


def _current() -> _Bounds:
    loop = asyncio.get_running_loop()
    if loop not in _bounds:
        _bounds[loop] = _Bounds()
    return _bounds[loop]


def _admit(bounds: _Bounds, caller: str | None) -> None:
    if caller is not None and bounds.per_caller[caller] >= PER_CALLER:
        raise Busy(429, "heavy_work_limit",
                   f"Vous avez déjà {PER_CALLER} traitements lourds en cours (génération de PDF, gros fichiers) : "
                   "attendez leur réponse avant d'en lancer un autre.", RETRY_AFTER_CALLER)
    if bounds.waiting >= MAX_WAITING:
        raise Busy(503, "server_busy",
                   "Le serveur traite déjà beaucoup de documents lourds : réessayez dans quelques instants.",
                   RETRY_AFTER_PROCESS)


async def run(caller: str | None, function: Callable[..., T], *args) -> T:
    """`function(*args)` in a worker thread, within the bounds; raises Busy when over them."""
    bounds = _current()
    _admit(bounds, caller)
    if caller is not None:
        bounds.per_caller[caller] += 1
    bounds.waiting += 1
    queued = True
    try:
        async with bounds.slots:
            bounds.waiting -= 1
            queued = False
            return await anyio.to_thread.run_sync(partial(function, *args))
    finally:
        if queued:  # cancelled while waiting for a slot
            bounds.waiting -= 1
        if caller is not None:
            bounds.per_caller[caller] -= 1
            if not bounds.per_caller[caller]:
                del bounds.per_caller[caller]
