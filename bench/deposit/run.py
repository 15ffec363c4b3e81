"""Deposit benchmark: Factur-X deposits through HTTP (PostgreSQL, N worker processes) beside
the bare cost of the same files (factur-x extraction + XSD + schematron called directly).
Besides wall times it prints the CPU the server workers and their PostgreSQL backends used
per deposit (Linux /proc), which a machine shared with other work disturbs much less.

    .venv/bin/python bench/deposit/run.py [--invoices 300] [--concurrency 4] [--workers 2] [--database facteur_bench]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); uses its own database (`facteur_bench` unless
--database names another, for runs side by side), dropped and created anew. Prints a Markdown block to paste into bench/deposit/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.demo import PUBLIC, SUPPLIER  # noqa: E402
from tests.unit.validation.invoice_builders import facturx_pdf, cii_bytes, invoice_data  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
NOTES: list[str] = []  # printed with the results
RECIPIENT = PUBLIC[0]  # requires a service code: FIN exists


def _lines(count: int) -> tuple[list[dict], dict]:
    """`count` lines at 20 % VAT and the matching totals (a realistic invoice has several)."""
    lines = [{"BT-126": str(i + 1), "BT-129": "2.0000", "BT-130": "C62", "BT-131": "100.00", "BT-146": "50.0000",
              "BT-151": "S", "BT-152": "20.00", "BT-153": f"Prestation {i + 1}"} for i in range(count)]
    net = 100 * count
    totals = {"BG-23": [{"BT-116": f"{net}.00", "BT-117": f"{net // 5}.00", "BT-118": "S", "BT-119": "20.00"}],
              "BT-106": f"{net}.00", "BT-109": f"{net}.00", "BT-110": f"{net // 5}.00", "BT-112": f"{net * 6 // 5}.00",
              "BT-113": "0.00", "BT-115": f"{net * 6 // 5}.00"}
    return lines, totals


def make_invoices(count: int, line_count: int = 2) -> list[bytes]:
    seller = {
        "name": SUPPLIER["name"], "identifiers": {"0009": SUPPLIER["siret"]},
        "legal_identifier": SUPPLIER["siret"][:9], "legal_identifier_schemeid": "0002",
        "vat_identifier": SUPPLIER["vat_number"], "einvoicing_addr": SUPPLIER["siret"], "einvoicing_addr_schemeid": "0009",
        "addr_l1": SUPPLIER["address_line1"], "city": SUPPLIER["city"], "postcode": SUPPLIER["postal_code"], "country_code": "FR",
    }
    buyer = {
        "name": RECIPIENT["name"], "identifiers": {"0009": RECIPIENT["siret"]},
        "legal_identifier": RECIPIENT["siret"][:9], "legal_identifier_schemeid": "0002",
        "einvoicing_addr": RECIPIENT["siret"], "einvoicing_addr_schemeid": "0009",
        "addr_l1": RECIPIENT["address_line1"], "city": RECIPIENT["city"], "postcode": RECIPIENT["postal_code"], "country_code": "FR",
    }
    run_id = int(time.time())
    lines, totals = _lines(line_count)
    return [
        facturx_pdf(cii_bytes(invoice_data(**{"BT-1": f"B{run_id}-{i:05d}", "BT-10": "FIN", "BG-4": seller, "BG-7": buyer,
                                              "BG-25": lines, **totals})))
        for i in range(count)
    ]


def bare_costs(files: list[bytes]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each validation, called directly in this process."""
    from backend.invoices.validation import validate_bytes, warm_up

    warm_up()
    costs, cpu_costs = [], []
    for data in files:
        start, cpu_start = time.perf_counter(), time.process_time()
        result = validate_bytes(data, "f.pdf")
        costs.append(time.perf_counter() - start)
        cpu_costs.append(time.process_time() - cpu_start)
        assert result.valid, [f.rule for f in result.findings]
    return costs, cpu_costs


# CPU seconds used so far by processes of this host (Linux /proc): on a machine shared with
# other work, wall times swing with the load, CPU times much less.
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def idle_seconds() -> float:
    """CPU seconds every core of the host spent idle so far (Linux /proc/stat: idle + iowait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return (int(fields[4]) + int(fields[5])) / _TICKS


def process_tree(pid: int) -> list[int]:
    """The server and its worker processes."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def connections_per_process(pids: list[int], port: int) -> dict[int, int]:
    """How many established connections to `port` each process holds (Linux /proc): with
    keep-alive, the worker that accepted a client's connection serves all its deposits."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # local port, ESTABLISHED
                inodes.add(fields[9])
    counts = {}
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except (FileNotFoundError, PermissionError):
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if held:
            counts[pid] = held
    return counts


async def database_backends(name: str) -> list[int]:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        return [row["pid"] for row in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)]
    finally:
        await conn.close()


async def reset_database(name: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, data_dir: str, database: str) -> subprocess.Popen:
    env = {**os.environ, "FACTEUR_DATABASE_URL": f"{SERVER}/{database}", "FACTEUR_DATA_DIR": data_dir, "FACTEUR_BASE_URL": f"http://127.0.0.1:{port}",
           # The demo supplier is a gestionnaire: under the default policy its login would ask for a
           # second factor. The bench measures deposits, not logins.
           "FACTEUR_TWO_FACTOR": "optional"}
    demo = subprocess.run([sys.executable, "-m", "backend.cli", "demo"], env=env, capture_output=True, text=True, cwd=ROOT)
    if demo.returncode:
        sys.exit(f"facteur demo a échoué :\n{demo.stdout[-2000:]}\n{demo.stderr[-4000:]}")
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a loaded 2-core host took over a minute to start two workers
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.kill()
    raise RuntimeError("server did not start")


async def logged_in_client(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    user = SUPPLIER["user"]
    response = await client.post("/login", data={"email": user["email"], "password": user["password"], "_csrf_token": token})
    assert response.status_code in (200, 302), response.status_code
    return client


async def spread_over_workers(base: str, clients: list[httpx.AsyncClient], spread, workers: int) -> tuple[list[httpx.AsyncClient], dict, int]:
    """Reconnect the clients (same sessions) until their keep-alive connections are spread evenly
    over the worker processes; returns the clients, the first spread seen and the reconnections.

    The kernel gives a new connection to whichever worker accepts it first: the 4 connections
    opened one after the other at login often went 3 + 1 (or 4 + 0) to the 2 workers, and as
    each worker serves its connections' deposits, one worker then queued 3 clients while the
    other idled part of the time — the run measured that split, not the deposit."""
    first = spread()
    for attempt in range(40):
        counts = spread()
        if len(counts) >= min(workers, len(clients)) and max(counts.values()) - min(counts.values()) <= 1:
            return clients, first, attempt
        fresh = []
        for client in clients:
            again = httpx.AsyncClient(base_url=base, timeout=60, cookies=client.cookies)
            await client.aclose()
            await again.get("/healthz")
            fresh.append(again)
        clients = fresh
    return clients, first, 40


async def deposit_all(base: str, files: list[bytes], concurrency: int, spread=None, workers: int = 2) -> tuple[list[float], float]:
    clients = [await logged_in_client(base) for _ in range(concurrency)]
    if spread:
        clients, first, reconnections = await spread_over_workers(base, clients, spread, workers)
        NOTES.append(f"- the clients' keep-alive connections per worker: {sorted(first.values(), reverse=True)} at login, "
                     f"{sorted(spread().values(), reverse=True)} after {reconnections} reconnections")
    tokens = []
    for client in clients:
        page = await client.get("/deposits")
        tokens.append(re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1))
    queue: asyncio.Queue = asyncio.Queue()
    for data in files:
        queue.put_nowait(data)
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient, token: str) -> None:
        while not queue.empty():
            data = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post("/deposits", files=[("file", ("f.pdf", data, "application/pdf"))], headers={"X-CSRFToken": token})
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text[:500]

    start = time.perf_counter()
    await asyncio.gather(*(worker(c, t) for c, t in zip(clients, tokens)))
    elapsed = time.perf_counter() - start
    for client in clients:
        await client.aclose()
    return latencies, elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lines", type=int, default=2, help="lines per invoice")
    parser.add_argument("--database", default="facteur_bench", help="PostgreSQL database to drop and create anew")
    args = parser.parse_args()

    files = make_invoices(args.invoices + 20, args.lines)
    warmup, files = files[:20], files[20:]
    bare, bare_cpu = bare_costs(files)
    asyncio.run(reset_database(args.database))
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(port, args.workers, data_dir, args.database)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(deposit_all(base, warmup, args.concurrency))  # warms every worker's stylesheets
            workers, backends = process_tree(server.pid), asyncio.run(database_backends(args.database))
            server_cpu, database_cpu = sum(map(cpu_seconds, workers)), sum(map(cpu_seconds, backends))
            each_before = {pid: cpu_seconds(pid) for pid in workers}
            client_cpu, idle = time.process_time(), idle_seconds()
            latencies, elapsed = asyncio.run(deposit_all(base, files, args.concurrency, lambda: connections_per_process(workers, port),
                                                         args.workers))
            client_cpu, idle = time.process_time() - client_cpu, idle_seconds() - idle
            server_cpu = sum(map(cpu_seconds, workers)) - server_cpu
            each = sorted((cpu_seconds(pid) - each_before[pid] for pid in workers), reverse=True)
            database_cpu = sum(map(cpu_seconds, set(backends) | set(asyncio.run(database_backends(args.database))))) - database_cpu
        finally:
            server.terminate()
            server.wait(timeout=30)
    throughput = len(files) / elapsed
    bare_p50 = statistics.median(bare)
    print(f"## {time.strftime('%Y-%m-%d')} — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    database = "" if args.database == "facteur_bench" else f" --database {args.database}"
    sessions = " (sessions in the database)"  # since 16a795a sessions never live in Redis or files
    print(f"command: {'FACTEUR_REDIS_URL=… ' if os.environ.get('FACTEUR_REDIS_URL') else ''}.venv/bin/python bench/deposit/run.py --invoices {args.invoices} --concurrency {args.concurrency} --workers {args.workers} --lines {args.lines}{database}{sessions}")
    print(f"- bare cost per Factur-X (validate_bytes in-process, 1 core): p50 {bare_p50*1000:.1f} ms, p95 {pct(bare, 95)*1000:.1f} ms")
    print(f"- HTTP deposit latency ({args.concurrency} concurrent clients, {args.workers} workers, PostgreSQL): p50 {statistics.median(latencies)*1000:.1f} ms, p95 {pct(latencies, 95)*1000:.1f} ms")
    print(f"- throughput: {throughput:.1f} deposits/s ({len(files)} deposits in {elapsed:.1f} s)")
    print(f"- end-to-end time per deposit (wall time / deposits): {elapsed / len(files) * 1000:.1f} ms = {elapsed / len(files) / bare_p50:.2f} × bare p50")
    bare_cpu_p50, per_deposit = statistics.median(bare_cpu), 1000 / len(files)
    print(f"- CPU per deposit: server workers {server_cpu * per_deposit:.1f} ms + their PostgreSQL backends {database_cpu * per_deposit:.1f} ms"
          f" = {(server_cpu + database_cpu) / len(files) / bare_cpu_p50:.2f} × bare CPU p50 ({bare_cpu_p50 * 1000:.1f} ms);"
          f" load average {os.getloadavg()[0]:.1f} at the end")
    print(f"- where the {os.cpu_count()} cores' time per deposit went ({elapsed * os.cpu_count() * per_deposit:.1f} ms): workers"
          f" {server_cpu * per_deposit:.1f}, PostgreSQL {database_cpu * per_deposit:.1f}, this load generator {client_cpu * per_deposit:.1f},"
          f" idle {idle * per_deposit:.1f} ms (tick counts from /proc: the parts do not add up exactly)")
    print(*NOTES, sep="\n")
    print(f"- CPU seconds of each server process during the run (busiest first): {', '.join(f'{c:.1f}' for c in each)}")


if __name__ == "__main__":
    main()
