"""Real-time benchmark: 1,000 SSE clients on one `facteur serve` process (PostgreSQL `rtbench`).

    .venv/bin/python bench/realtime/run.py [--clients 1000] [--changes 60] [--interval 0.25]
                                           [--client-procs 4] [--redis redis://127.0.0.1:6379/1]

Every client is a distinct user, member of the supplier structure of the invoices, so each
status change reaches all of them (the worst fan-out). An agent changes statuses through
HTTP (the real handler: lifecycle, event, commit, publish); each client records when the
event's `id:` line arrives. Latency = receipt time − the event row's `created_at`, which is
written inside the transaction just before the commit (so it slightly over-counts).
Memory per idle connection = (server RSS with every stream open − RSS before) / clients.

The clients are raw asyncio streams (no HTTP library) spread over a few processes, on the
same machine as the server. The database `rtbench` is created if missing and its schema
reset. Prints a Markdown block for bench/realtime/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DSN = "postgresql://postgres@127.0.0.1:5432/rtbench"
PASSWORD = "mot-de-passe-du-banc"


# --- client worker (a subprocess holding a share of the SSE connections) -------------------

async def _hold(host: str, port: int, cookie: str, ready: asyncio.Event, received: list[tuple[int, float]],
                opened: list[int], expected: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:200])
    first = True
    while True:  # Transfer-Encoding: chunked
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            return
        chunk = await reader.readexactly(size + 2)
        now = time.time()
        if first:
            first = False
            opened.append(1)
            if len(opened) == expected:
                ready.set()
        for line in chunk.split(b"\r\n"):
            if line.startswith(b"id: "):
                received.append((int(line[4:]), now))


async def client_worker(host: str, port: int, cookies: list[str], ramp: float) -> None:
    ready, received, opened = asyncio.Event(), [], []
    tasks = []
    for cookie in cookies:
        tasks.append(asyncio.create_task(_hold(host, port, cookie, ready, received, opened, len(cookies))))
        await asyncio.sleep(ramp)  # a ramp: the server loads each session once
    await asyncio.wait_for(ready.wait(), 300)
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    failed = sum(1 for t in tasks if t.done() and t.exception())
    for task in tasks:
        task.cancel()
    print(json.dumps({"received": received, "failed": failed}), flush=True)


# --- the parent: database, server, logins, measure ----------------------------------------------

def check_fd_limit(clients: int) -> int:
    """The server and the clients each need one descriptor per connection, plus a margin."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = clients + 512
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {needed} needed for {clients} clients (ulimit -Hn).")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))  # inherited by the server
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ensure_database() -> None:
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                          "SELECT 1 FROM pg_database WHERE datname = 'rtbench'"], capture_output=True, text=True, check=True)
    if out.stdout.strip() != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "rtbench"], check=True)


async def seed(clients: int, changes: int) -> None:
    """Fresh schema, one supplier structure with `clients` members, one public structure, invoices."""
    from argon2 import PasswordHasher

    from backend.lib import db
    from backend.accounts.tables import Membership, User
    from backend.lib.common import fold, utcnow
    from backend.directory.tables import Structure
    from backend.invoices.tables import Invoice, StoredFile

    await db.engine().run_ddl("DROP SCHEMA public CASCADE")
    await db.engine().run_ddl("CREATE SCHEMA public")
    await db.run_migrations()
    supplier = Structure(siret="73282932000074", siren="732829320", name="Fournisseur du banc", search_key=fold("Fournisseur du banc"))
    town = Structure(siret="21690123100011", siren="216901231", name="Mairie du banc", search_key=fold("Mairie du banc"),
                     is_public=True, active=True)
    await supplier.save()
    await town.save()
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)  # logins are not measured
    now = utcnow()
    users = [User(email=f"client{i}@banc.fr", password_hash=cheap, first_name="Client", last_name=str(i),
                  email_confirmed_at=now) for i in range(clients)]
    users.append(User(email="agent@banc.fr", password_hash=cheap, first_name="Agent", last_name="Banc", email_confirmed_at=now))
    ids = [row["id"] for row in await User.insert(*users)]
    await Membership.insert(*[Membership(user=i, structure=supplier.id, status="active", can_deposit=True) for i in ids[:-1]])
    await Membership.insert(Membership(user=ids[-1], structure=town.id, status="active", can_process=True))
    stored = StoredFile(sha256=secrets.token_hex(32), size=1, media_type="application/pdf")
    await stored.save()
    await Invoice.insert(*[Invoice(
        supplier=supplier.id, recipient=town.id, original_file=stored.id, original_name=f"B-{n}.pdf", format="facturx-pdf",
        profile="en16931", number=f"B-{n}", number_year=2026, type_code="380", issue_date=date(2026, 11, 2), currency="EUR",
        seller_siret=supplier.siret, buyer_siret=town.siret, seller_name=supplier.name, buyer_name=town.name,
        total_excl_vat=Decimal("100.00"), total_vat=Decimal("20.00"), total_incl_vat=Decimal("120.00"),
        amount_due=Decimal("120.00"), data="{}", status="MISE_A_DISPOSITION", status_code="203",
        certificate_number=f"AD-B-{n}",
    ) for n in range(changes)])


def start_server(port: int, data_dir: str, redis_url: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {"FACTEUR_DATABASE_URL": DSN, "FACTEUR_DATA_DIR": data_dir, "FACTEUR_BASE_URL": f"http://127.0.0.1:{port}",
            "FACTEUR_OUTBOX_WORKER": "0", "FACTEUR_SECRET_KEY": "banc-" + "x" * 40}
    if redis_url:
        env["FACTEUR_REDIS_URL"] = redis_url
    log = open(Path(data_dir) / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not start; see " + str(Path(data_dir) / "server.log"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def log_in_all(base: str, emails: list[str], concurrency: int = 8) -> list[str]:
    import httpx

    cookies: dict[str, str] = {}
    queue = list(emails)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while queue:
                email = queue.pop()
                client.cookies.clear()
                page = await client.get("/login")
                token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
                response = await client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": token})
                assert response.status_code in (200, 302), (email, response.status_code)
                cookies[email] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [cookies[e] for e in emails]


async def change_statuses(base: str, agent_cookie: str, invoice_ids: list[int], interval: float) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"Cookie": agent_cookie}) as client:
        page = await client.get(f"/invoices/{invoice_ids[0]}")  # one token serves every form of the session
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        for invoice_id in invoice_ids:
            started = time.monotonic()
            response = await client.post(f"/invoices/{invoice_id}/status", data={"target": "PRISE_EN_CHARGE", "_csrf_token": token})
            assert response.status_code in (200, 302), response.status_code
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem_kib = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")))
    return f"{os.cpu_count()} cores (`nproc` {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()}), {cpu}, {mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}"


async def measure(args) -> None:
    limit = check_fd_limit(args.clients)
    ensure_database()
    os.environ["FACTEUR_DATABASE_URL"] = DSN
    os.environ.setdefault("FACTEUR_DATA_DIR", tempfile.mkdtemp(prefix="rtbench-seed-"))
    sys.path.insert(0, str(ROOT))
    await seed(args.clients, args.changes)
    from backend.invoices.tables import Invoice
    from backend.tracking.tables import Event

    invoice_ids = [r["id"] for r in await Invoice.select(Invoice.id).order_by(Invoice.id)]
    data_dir = tempfile.mkdtemp(prefix="rtbench-server-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port, data_dir, args.redis)
    base = f"http://127.0.0.1:{port}"
    workers: list[subprocess.Popen] = []
    try:
        emails = [f"client{i}@banc.fr" for i in range(args.clients)]
        t0 = time.monotonic()
        cookies = await log_in_all(base, emails + ["agent@banc.fr"])
        login_s = time.monotonic() - t0
        agent_cookie = cookies.pop()
        # Warm the stream code path once, then the baseline.
        await asyncio.sleep(1.0)
        rss_before = rss_kib(server.pid)
        share = -(-len(cookies) // args.client_procs)
        t0 = time.monotonic()
        for k in range(args.client_procs):
            part = cookies[k * share:(k + 1) * share]
            if not part:
                continue
            worker = subprocess.Popen([sys.executable, __file__, "--client-worker", str(port), str(args.ramp_ms / 1000)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env={**os.environ, "RT_COOKIES": json.dumps(part)})
            workers.append(worker)
        for worker in workers:
            line = worker.stdout.readline().strip()
            assert line == "READY", line
        connect_s = time.monotonic() - t0
        await asyncio.sleep(2.0)
        rss_open = rss_kib(server.pid)
        load_before, cpu_before = os.getloadavg()[0], cpu_seconds(server.pid)
        await change_statuses(base, agent_cookie, invoice_ids, args.interval)
        await asyncio.sleep(1.0)
        cpu_changes, load_after = cpu_seconds(server.pid) - cpu_before, os.getloadavg()[0]
        await asyncio.sleep(3.0)
        received: list[tuple[int, float]] = []
        failed = 0
        for worker in workers:
            out, _ = worker.communicate("", timeout=120)
            result = json.loads(out.strip().splitlines()[-1])
            received += [tuple(x) for x in result["received"]]
            failed += result["failed"]
        rss_end = rss_kib(server.pid)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    created = {r["id"]: r["created_at"].timestamp() for r in await Event.select(Event.id, Event.created_at)
               .where(Event.kind == "invoice.status_changed")}
    latencies = [(t - created[i]) * 1000 for i, t in received if i in created]
    last_per_event: dict[int, float] = {}
    for i, t in received:
        if i in created:
            last_per_event[i] = max(last_per_event.get(i, 0.0), (t - created[i]) * 1000)
    reach_all = list(last_per_event.values())
    expected = len(created) * args.clients
    print(f"""
### {args.clients} SSE clients, {len(created)} status changes ({args.interval * 1000:.0f} ms apart), backend {'Redis ' + args.redis if args.redis else 'memory'}

Machine: {machine()}. Date: {date.today().isoformat()}. RLIMIT_NOFILE (soft) {limit}.

| measure | value |
|---|---|
| commit → client latency p50 / p95 / p99 / max | {pct(latencies, 50):.1f} / {pct(latencies, 95):.1f} / {pct(latencies, 99):.1f} / {max(latencies):.1f} ms |
| mean | {statistics.fmean(latencies):.1f} ms |
| time until the last of the {args.clients} clients has it, per event: p50 / p95 | {pct(reach_all, 50):.1f} / {pct(reach_all, 95):.1f} ms |
| server CPU per status change (the agent's POST + fan-out to {args.clients} streams) | {cpu_changes / len(created) * 1000:.1f} ms |
| machine load average (1 min) before / after the changes | {load_before:.1f} / {load_after:.1f} |
| receipts / expected | {len(latencies)} / {expected} (failed connections: {failed}) |
| server RSS before streams / with {args.clients} idle streams / at the end | {rss_before / 1024:.1f} / {rss_open / 1024:.1f} / {rss_end / 1024:.1f} MiB |
| memory per idle connection | {(rss_open - rss_before) / args.clients:.1f} KiB |
| time to open the {args.clients} streams ({args.client_procs} client processes) | {connect_s:.1f} s |
| {args.clients + 1} logins (not measured further) | {login_s:.1f} s |
""")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--client-worker":
        asyncio.run(client_worker("127.0.0.1", int(sys.argv[2]), json.loads(os.environ["RT_COOKIES"]), float(sys.argv[3])))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still stops its server
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two status changes")
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--ramp-ms", type=float, default=2.0, help="pause between two connections of one client process")
    parser.add_argument("--redis", default=None, help="use the Redis channels backend (e.g. redis://127.0.0.1:6379/1)")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
