"""What a request has committed, written in the same transaction as the change itself.

A client that retries after a crash must get the first answer when the first attempt did
commit (backend/api/idempotency.py). Only a write inside the change's own transaction can
say so without a gap: a domain calls `await note_committed(kind, row_id)` right where it
writes (a deposit, a status change); the request in flight, if it cares, has registered a
recorder for that kind. Without one the call does nothing, so domains need not know who
is listening.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from contextvars import ContextVar

Recorder = Callable[[str, int], Awaitable[None]]

_recorder: ContextVar[tuple[frozenset[str], Recorder] | None] = ContextVar("effect_recorder", default=None)


async def note_committed(kind: str, row_id: int) -> None:
    """Call inside the transaction that writes the effect: recorded with it, or not at all."""
    current = _recorder.get()
    if current is not None and kind in current[0]:
        await current[1](kind, row_id)


@contextmanager
def recording(kinds: frozenset[str], recorder: Recorder):
    """While the block runs, effects of these kinds are passed to `recorder`."""
    token = _recorder.set((kinds, recorder))
    try:
        yield
    finally:
        _recorder.reset(token)
