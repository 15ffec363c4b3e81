"""Push benchmark: status changes posted to `facteur serve` (outbox worker inside) until the
notifications are received, decrypted and checked by the loopback push service.

    .venv/bin/python bench/push/run.py [--latency-changes 100] [--changes 200] [--subscriptions 10] [--concurrency 4]

Latency: one agent rejects invoices one at a time; for each, the time from the POST of the
status form to the moment the push service has checked the VAPID token and decrypted the
payload (p50 / p95). Throughput: `--concurrency` agents' clients reject `--changes`
invoices as fast as they can; the supplier has `--subscriptions` devices, so each change
fans out to that many notifications; notifications per second = all notifications /
(last received − first change posted).

Uses PostgreSQL on 127.0.0.1:5432, database `pushbench` (dropped and created anew), a
temporary data folder, and the demo accounts (`facteur demo`). Everything (server, worker,
push service, clients) runs on this machine. Prints a Markdown block for RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
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

DB = "pushbench"
DSN = f"postgresql://postgres@127.0.0.1:5432/{DB}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def fresh_database() -> None:
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB}")
    finally:
        await admin.close()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout


async def seed(count: int, subscriptions: int, service) -> tuple[list[int], str, str]:
    """`count` copies of a demo invoice at MISE_A_DISPOSITION, and the supplier's devices."""
    from backend.lib import db
    from backend.accounts.tables import User
    from backend.demo import PUBLIC, SUPPLIER
    from backend.directory.tables import Structure
    from backend.invoices.tables import Invoice
    from backend.lib.common import utcnow
    from backend.notifications.tables import PushSubscription
    from backend.processing.tables import Outbox

    await db.start_pool()
    try:
        template = (await Invoice.select().where(Invoice.status == "MISE_A_DISPOSITION").first())
        assert template, "the demo has no invoice at MISE_A_DISPOSITION"
        recipient = await Structure.select(Structure.siret).where(Structure.id == template["recipient"]).first()
        agent = next(p["agent"] for p in PUBLIC if p["siret"] == recipient["siret"])
        ids = []
        for n in range(count):
            row = {k: v for k, v in template.items() if k != "id"}
            row.update(number=f"BENCH-{n:05d}", certificate_number=f"BENCH-{secrets.token_hex(8)}", version=1)
            saved = await Invoice.insert(Invoice(**{k: v for k, v in row.items()})).returning(Invoice.id)
            ids.append(saved[0]["id"])
        # The demo's own status changes left push rows: settled now, so that only ours are counted.
        await Outbox.update({Outbox.delivered_at: utcnow()}).where(Outbox.delivered_at.is_null())
        user = await User.select(User.id).where(User.email == SUPPLIER["user"]["email"]).first()
        for _ in range(subscriptions):
            sub = service.subscriber()
            await PushSubscription.insert(PushSubscription(user=user["id"], endpoint=sub.endpoint, p256dh=sub.p256dh,
                                                           auth=sub.subscription_json()["keys"]["auth"], user_agent="bench"))
        return ids, agent["email"], agent["password"]
    finally:
        await db.close_pool()


async def log_in(base: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})
    assert response.status_code in (200, 302, 303) and "facteur_session" in client.cookies, response.text[:300]
    return client


async def reject(client: httpx.AsyncClient, invoice_id: int) -> None:
    page = await client.get(f"/invoices/{invoice_id}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post(f"/invoices/{invoice_id}/status", data={
        "_csrf_token": token, "target": "REJETEE", "version": "1", "reason_code": "DOUBLON", "comment": "Déjà reçue"})
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])


def wait_tag(service, tag: str, count: int, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [r for r in list(service.received) if r.payload.get("tag") == tag]
        if len(got) >= count:
            return got
        time.sleep(0.002)
    raise TimeoutError(f"{tag}: {count} notifications not received")


async def latency(base, creds, invoices, service, subscriptions) -> list[float]:
    client = await log_in(base, *creds)
    results = []
    try:
        for invoice_id in invoices:
            page = await client.get(f"/invoices/{invoice_id}")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            started = time.time()
            response = await client.post(f"/invoices/{invoice_id}/status", data={
                "_csrf_token": token, "target": "REJETEE", "version": "1", "reason_code": "DOUBLON", "comment": "Déjà reçue"})
            assert response.status_code in (302, 303), response.status_code
            got = await asyncio.to_thread(wait_tag, service, f"invoice-{invoice_id}", subscriptions)
            results.append(max(r.at for r in got) - started)
    finally:
        await client.aclose()
    return results


async def throughput(base, creds, invoices, service, concurrency, subscriptions) -> tuple[float, float, int]:
    clients = [await log_in(base, *creds) for _ in range(concurrency)]
    before = len(service.received)
    expected = before + len(invoices) * subscriptions
    queue = list(invoices)

    async def run(client):
        while queue:
            await reject(client, queue.pop())

    started = time.time()
    await asyncio.gather(*(run(c) for c in clients))
    posted = time.time() - started
    deadline = time.monotonic() + 120
    while len(service.received) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    for c in clients:
        await c.aclose()
    received = service.received[before:]
    last = max(r.at for r in received)
    return len(received) / (last - started), posted, len(received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-changes", type=int, default=100)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="pushbench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    # The loopback push service is on http://127.0.0.1: allowed for tests and benches only.
    env |= {"FACTEUR_DATA_DIR": str(data_dir), "FACTEUR_DATABASE_URL": DSN, "FACTEUR_PUSH_ALLOW_LOCAL": "1", "PYTHONUNBUFFERED": "1"}
    if os.environ.get("FACTEUR_REDIS_URL"):
        env["FACTEUR_REDIS_URL"] = os.environ["FACTEUR_REDIS_URL"]
    os.environ.update(env)  # the seeding below uses the same settings as the server

    asyncio.run(fresh_database())
    cli(env, "migrate")
    cli(env, "demo", "--json")

    from backend.settings import get_settings
    from tests.support.push_service import PushService

    service = PushService(get_settings().vapid_public_key).start()
    total = args.latency_changes + args.changes
    invoices, email, password = asyncio.run(seed(total, args.subscriptions, service))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=ROOT, env=env | {"FACTEUR_BASE_URL": base}, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        lat = [] if not args.latency_changes else asyncio.run(latency(base, (email, password), invoices[: args.latency_changes], service, args.subscriptions))
        rate, posted, received = asyncio.run(throughput(base, (email, password), invoices[args.latency_changes:], service,
                                                        args.concurrency, args.subscriptions))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print("(server did not stop within 20 s of SIGTERM: killed)", file=sys.stderr)
            server.kill()
            server.wait()
        service.stop()
    assert service.refused == [], service.refused[:3]
    lat_ms = sorted(x * 1000 for x in lat)
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · {platform.platform()}")
    print(f"command: {' '.join(sys.argv)}")
    print()
    print("| measure | value |")
    print("|---|---|")
    if lat_ms:
        p95 = lat_ms[max(0, round(0.95 * len(lat_ms)) - 1)]
        print(f"| latency, status change → push decrypted ({len(lat_ms)} changes, {args.subscriptions} devices each) | "
              f"p50 {statistics.median(lat_ms):.1f} ms · p95 {p95:.1f} ms · max {lat_ms[-1]:.1f} ms |")
    per_device = {}
    for r in service.received:
        key = (r.token, r.payload.get("tag"))
        per_device[key] = per_device.get(key, 0) + 1
    doubles = sum(n - 1 for n in per_device.values())
    print(f"| notifications received twice by a device | {doubles} |")
    print(f"| throughput ({args.changes} changes × {args.subscriptions} devices, {args.concurrency} clients) | "
          f"{rate:.0f} notifications/s ({received} received; changes posted in {posted:.2f} s) |")


if __name__ == "__main__":
    main()
