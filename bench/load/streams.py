"""SSE holders of the load bench: a subprocess keeping its share of the `GET /events` streams open.

    python bench/load/streams.py PORT RAMP_SECONDS   (cookies as JSON in $LOAD_COOKIES)

Started by bench/load/run.py. Raw asyncio sockets (no HTTP library: a thousand idle
streams must cost the client side little). Each stream behaves like a browser's
EventSource: when the server ends it or the connection breaks, it counts a drop, waits
the `retry:` delay and reconnects with `Last-Event-ID`. Prints `READY` once every stream
has its first bytes; then reads one line `E0 E1` on stdin (the event ids that bound the
measure) and prints a JSON report: drops by reason, per stream how many distinct event
ids in (E0, E1] arrived, duplicates, and per event id (count, summed receipt time, last
receipt time) for the delivery latencies.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter

RETRY_SECONDS = 2.0
CONNECT_TIMEOUT = 30.0


class Stream:
    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.ids: set[int] = set()
        self.duplicates = 0
        self.last_id: int | None = None
        self.opened = asyncio.Event()


async def _read_events(stream: Stream, reader: asyncio.StreamReader, receipts: dict[int, list[float]]) -> None:
    """Chunked transfer: one chunk per SSE message; note every `id:` line."""
    while True:
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return
        chunk = await reader.readexactly(size + 2)
        stream.opened.set()
        now = time.time()
        for line in chunk.split(b"\r\n"):
            if not line.startswith(b"id: "):
                continue
            event_id = int(line[4:])
            stream.last_id = max(event_id, stream.last_id or 0)
            if event_id in stream.ids:
                stream.duplicates += 1
                continue
            stream.ids.add(event_id)
            entry = receipts.setdefault(event_id, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += now
            entry[2] = max(entry[2], now)


async def hold(stream: Stream, drops: Counter, receipts: dict[int, list[float]]) -> None:
    """One EventSource: connect, read until the stream ends, count the drop, reconnect."""
    while True:
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(stream.host, stream.port), CONNECT_TIMEOUT)
            resume = f"Last-Event-ID: {stream.last_id}\r\n" if stream.last_id is not None else ""
            writer.write(f"GET /events HTTP/1.1\r\nHost: {stream.host}:{stream.port}\r\nCookie: {stream.cookie}\r\n"
                         f"Accept: text/event-stream\r\n{resume}\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CONNECT_TIMEOUT)
            status = head.split(b" ", 2)[1].decode()
            if status != "200":
                drops[f"status {status}"] += 1
            else:
                await _read_events(stream, reader, receipts)
                drops["ended by the server"] += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — every way a stream breaks is a result of the bench
            drops[type(exc).__name__] += 1
        finally:
            if writer is not None:
                writer.close()
        await asyncio.sleep(RETRY_SECONDS)


async def main(host: str, port: int, cookies: list[str], ramp: float) -> None:
    streams = [Stream(host, port, c) for c in cookies]
    drops: Counter = Counter()
    receipts: dict[int, list[float]] = {}
    tasks = []
    for stream in streams:
        tasks.append(asyncio.create_task(hold(stream, drops, receipts)))
        await asyncio.sleep(ramp)
    await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), 300)
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    first, last = (int(x) for x in line.split())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({
        "streams": len(streams),
        "drops": dict(drops),
        "duplicates": sum(s.duplicates for s in streams),
        "received": [sum(1 for i in s.ids if first < i <= last) for s in streams],
        "receipts": {i: r for i, r in receipts.items() if first < i <= last},
    }), flush=True)


if __name__ == "__main__":
    asyncio.run(main("127.0.0.1", int(sys.argv[1]), json.loads(os.environ["LOAD_COOKIES"]), float(sys.argv[2])))
