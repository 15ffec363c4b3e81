"""A small reader of Server-Sent Events over a real HTTP connection (httpx), with bounded waits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import anyio
import httpx


@dataclass
class Message:
    id: str | None = None
    event: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict:
        return json.loads(self.data)


class SSEReader:
    """Reads one message (or one comment block) at a time from a streamed response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 5.0) -> Message:
        message, data = Message(), []
        with anyio.fail_after(timeout):
            async for line in self._lines:
                if line == "":
                    if data or message.event or message.id or message.comments:
                        message.data = "\n".join(data)
                        return message
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "":
                    message.comments.append(value)
                elif name == "data":
                    data.append(value)
                elif name in ("id", "event"):
                    setattr(message, name, value)
        raise EOFError("the stream ended")

    async def next_event(self, timeout: float = 5.0) -> Message:
        """The next message that is an event (comments skipped)."""
        with anyio.fail_after(timeout):
            while True:
                message = await self.next(timeout)
                if message.event is not None:
                    return message

    async def pair(self, timeout: float = 5.0) -> tuple[Message, Message]:
        """An event as the contract sends it: `invoice-<id>` with its id, then `changed`."""
        first = await self.next_event(timeout)
        second = await self.next_event(timeout)
        assert first.event.startswith("invoice-") and first.id is not None, first
        assert second.event == "changed" and second.id is None and second.json["id"] == int(first.id), second
        return first, second

    async def silence(self, seconds: float) -> list[Message]:
        """Every event that arrives within `seconds` (expected: none)."""
        got: list[Message] = []
        with anyio.move_on_after(seconds):
            while True:
                message = await self.next(seconds + 1)
                if message.event is not None:
                    got.append(message)
        return got
