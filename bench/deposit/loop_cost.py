"""What one web deposit costs the server's event loop: the statements it sends to PostgreSQL
and the CPU of the event-loop thread (validation runs in worker threads and is left out),
deposits one at a time, so that a change to the deposit path can be judged on a busy machine.

    .venv/bin/python bench/deposit/loop_cost.py [--deposits 60] [--lines 2] [--database facteur_profile]
                                             [--statements] [--cprofile out.prof]

One process: the application served by uvicorn on this thread's event loop, the client
(httpx) on a thread of its own, so the event loop's CPU (time.thread_time of this thread)
is the server's only: HTTP and multipart, session, access, portal rules, the transaction,
the report page, the live publication, and the outbox worker's pass. `--statements` prints
the statements of the last deposit (with the worker's); `--cprofile` profiles the event
loop only (cProfile follows the thread that enabled it). The database is dropped and made anew.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "deposit"))

SERVER = "postgresql://postgres@127.0.0.1:5432"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deposits", type=int, default=60)
    parser.add_argument("--lines", type=int, default=2)
    parser.add_argument("--database", default="facteur_profile")
    parser.add_argument("--statements", action="store_true", help="print the statements of the last deposit")
    parser.add_argument("--cprofile", help="write a cProfile of the event loop there")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="facteur-profile-")
    os.environ.update({"FACTEUR_DATABASE_URL": f"{SERVER}/{args.database}", "FACTEUR_DATA_DIR": data_dir,
                       "FACTEUR_TWO_FACTOR": "optional", "FACTEUR_BASE_URL": "http://127.0.0.1:8000"})

    import asyncpg
    import httpx
    import uvicorn

    from run import free_port, make_invoices, reset_database, logged_in_client  # the bench's own helpers

    files = make_invoices(args.deposits + 10, args.lines)
    asyncio.run(reset_database(args.database))
    import subprocess

    demo = subprocess.run([sys.executable, "-m", "backend.cli", "demo"], env=os.environ, capture_output=True, text=True, cwd=ROOT)
    if demo.returncode:
        sys.exit(demo.stderr[-4000:])

    sent: list[str] = []
    recording = threading.Event()

    def record(method):
        async def wrapper(self, query, *a, **k):
            if recording.is_set():
                sent.append(" ".join(str(query).split()))
            return await method(self, query, *a, **k)
        return wrapper

    for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
        setattr(asyncpg.Connection, name, record(getattr(asyncpg.Connection, name)))

    from backend.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    marks: dict[str, float] = {}
    done = threading.Event()
    results: dict[str, object] = {}
    profiler = cProfile.Profile(time.thread_time) if args.cprofile else None  # CPU, not wall: a busy host preempts

    def client() -> None:
        async def run() -> None:
            base = f"http://127.0.0.1:{port}"
            while not server.started:
                await asyncio.sleep(0.05)
            c = await logged_in_client(base)
            page = await c.get("/deposits")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)

            async def one(data: bytes) -> float:
                start = time.perf_counter()
                response = await c.post("/deposits", files=[("file", ("f.pdf", data, "application/pdf"))], headers={"X-CSRFToken": token})
                assert response.status_code == 201, response.text[:500]
                return time.perf_counter() - start

            for data in files[:10]:
                await one(data)
            await asyncio.sleep(1)  # the outbox worker's passes of the warm-up
            results["loop_cpu_start"] = marks["loop_cpu"]
            marks["go"] = 1
            latencies = []
            for i, data in enumerate(files[10:]):
                if i == len(files) - 11:
                    sent.clear()
                latencies.append(await one(data))
            await asyncio.sleep(1)  # the worker's pass after the last one
            marks["stop"] = 1
            results["latencies"] = latencies
            await c.aclose()

        asyncio.run(run())
        done.set()

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        await asyncio.sleep(0)
        while "go" not in marks:
            marks["loop_cpu"] = time.thread_time()
            await asyncio.sleep(0.05)
        recording.set()
        start_cpu = time.thread_time()
        if profiler:
            profiler.enable()
        while "stop" not in marks:
            await asyncio.sleep(0.05)
        if profiler:
            profiler.disable()
        results["loop_cpu"] = time.thread_time() - start_cpu
        recording.clear()
        server.should_exit = True
        await task

    threading.Thread(target=client, daemon=True).start()
    asyncio.run(serve())
    done.wait(30)

    n = args.deposits
    per = 1000 / n
    print(f"{n} deposits of {args.lines}-line Factur-X, one at a time; load average {os.getloadavg()[0]:.1f}")
    print(f"- event-loop CPU per deposit (worker's pass included): {results['loop_cpu'] * per:.2f} ms")
    print(f"- latency p50 {statistics.median(results['latencies']) * 1000:.1f} ms")
    print(f"- statements of the last deposit (the worker's included): {len(sent)}")
    if args.statements:
        for query in sent:
            print("   ", query[:220])
        counts = collections.Counter(q.split()[0].upper() for q in sent)
        print("   ", dict(counts))
    if profiler:
        profiler.dump_stats(args.cprofile)
        print(f"- profile of the event loop: {args.cprofile}")


if __name__ == "__main__":
    main()
