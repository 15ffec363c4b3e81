"""Two Facteur hosts behind one load balancer, as the README's "Plusieurs hôtes" section sets them up.

Two `facteur serve` processes, each with its own data folder (nothing shared on disk), share
a PostgreSQL database (created for this test and dropped after it), Redis, an S3 bucket
(moto's server, started here) and the secret key. Both run the outbox worker. A deposit
through host A is read and processed through host B; the supplier's live stream, open on
A, gets B's change; the webhook receiver gets every event exactly once.

PostgreSQL and Redis are required: the test skips without them on a laptop and fails under CI=true.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec
import pytest

from tests.conftest import require_component
from tests.integration.test_components import REDIS_URL, _redis_answers
from tests.integration.tracking.servers import launch, stop, wait_healthy
from tests.integration.tracking.sse_client import SSEReader
from tests.support.s3_server import start_s3_server
from tests.support.web import csrf_from
from tests.support.webhook_receiver import Receiver
from tests.unit.validation.invoice_builders import BASE_INVOICE, cii_bytes, facturx_pdf, invoice_data

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
DELIVERY_WAIT = 30.0  # seconds for both outbox events to reach the receiver
QUIET_WAIT = 4.0  # then long enough for a second worker's duplicate (both poll every second) to show


async def _pg_admin(server: str):
    import asyncpg

    try:
        return await asyncio.wait_for(asyncpg.connect(f"{server}/postgres"), 5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return None


@pytest.fixture
async def shared_database(settings):
    """A database of its own on the run's PostgreSQL server (or 127.0.0.1), dropped at the end."""
    server = settings.database_url.rsplit("/", 1)[0] if settings.is_postgres else PG_SERVER
    admin = await _pg_admin(server)
    require_component(admin is not None, f"PostgreSQL ({server})")
    name = f"facteur_hosts_{os.getpid()}_test"  # ends in "test": the suite's rule for what it may wipe
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{server}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def s3(tmp_path):
    server = start_s3_server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _invoice_for(demo: dict) -> tuple[str, bytes]:
    """A Factur-X invoice from the demo supplier to the demo commune (service code required)."""
    supplier, commune = demo["supplier"], demo["public_structures"][0]
    seller = {**BASE_INVOICE["BG-4"], "name": supplier["name"], "identifiers": {"0009": supplier["siret"]},
              "legal_identifier": supplier["siret"][:9], "einvoicing_addr": supplier["siret"], "vat_identifier": "FR11123456782"}
    buyer = {**BASE_INVOICE["BG-7"], "name": commune["name"], "identifiers": {"0009": commune["siret"]},
             "legal_identifier": commune["siret"][:9], "einvoicing_addr": commune["siret"]}
    data = invoice_data(**{"BT-1": "F2026-HOTES-1", "BT-10": commune["services"][0]["code"], "BG-4": seller, "BG-7": buyer})
    return "F2026-HOTES-1.pdf", facturx_pdf(cii_bytes(data))


async def _log_in(http: httpx.AsyncClient, email: str, password: str) -> None:
    page = await http.get("/login")
    response = await http.post("/login", data={"email": email, "password": password, "_csrf_token": csrf_from(page.text)})
    assert response.status_code in (200, 302, 303), response.text[:300]


async def _subscribe(http: httpx.AsyncClient, key: str, receiver: Receiver, path: str, events: list[str]) -> None:
    response = await http.post("/api/v1/webhooks", headers={"Authorization": f"Bearer {key}"},
                               json={"url": receiver.url(path), "events": events})
    assert response.status_code == 201, response.text
    receiver.secrets[path] = response.json()["secret"]


def _deliveries(receiver: Receiver, path: str, invoice_id: int) -> list[str]:
    return [r.event for r in receiver.seen(path) if r.body["invoice"]["id"] == invoice_id]


async def _settled(receiver: Receiver, invoice_id: int) -> None:
    """Both events of the invoice arrived, then QUIET_WAIT seconds for any second copy."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while not (_deliveries(receiver, "/commune", invoice_id) and _deliveries(receiver, "/supplier", invoice_id)):
        assert time.monotonic() < deadline, [(r.event, r.body) for r in receiver.seen()]
        await asyncio.sleep(0.2)
    await asyncio.sleep(QUIET_WAIT)


async def test_a_deposit_on_one_host_is_read_processed_and_streamed_through_the_other(
        settings, shared_database, s3, receiver, tmp_path):
    redis_url = settings.redis_url or REDIS_URL
    require_component(await _redis_answers(redis_url), f"Redis ({redis_url})")
    bucket = s3.new_bucket()
    shared = {**s3.env(bucket), "FACTEUR_REDIS_URL": redis_url, "FACTEUR_WEBHOOK_ALLOW_LOCAL": "1"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {**shared, "FACTEUR_DATABASE_URL": shared_database, "FACTEUR_SECRET_KEY": settings.secret_key,
            "FACTEUR_DATA_DIR": str(tmp_path / "setup")}
    demo = json.loads(_cli(env, "demo", "--json"))  # migrates, then people and structures
    commune = demo["public_structures"][0]
    supplier_key = _cli(env, "apikey", "create", "--structure", demo["supplier"]["siret"], "--scopes", "deposit,read").split()[-1]
    commune_key = _cli(env, "apikey", "create", "--structure", commune["siret"], "--scopes", "read,process").split()[-1]

    host_settings = msgspec.structs.replace(settings, database_url=shared_database)
    # Both hosts deliver the outbox (FACTEUR_OUTBOX_WORKER=1): each row must still go out once.
    hosts = [launch(host_settings, tmp_path / name, redis_url=redis_url, FACTEUR_OUTBOX_WORKER="1", **shared)
             for name in ("host-a", "host-b")]
    try:
        for host in hosts:
            wait_healthy(host)
        a, b = hosts
        async with httpx.AsyncClient(base_url=a.base_url, timeout=30) as on_a, \
                httpx.AsyncClient(base_url=b.base_url, timeout=30) as on_b:
            await _subscribe(on_a, supplier_key, receiver, "/supplier", ["invoice.status_changed"])
            await _subscribe(on_b, commune_key, receiver, "/commune", ["invoice.received"])
            await _log_in(on_a, demo["supplier"]["email"], demo["supplier"]["password"])
            async with on_a.stream("GET", "/events", timeout=httpx.Timeout(10, read=None)) as live:
                assert live.status_code == 200
                stream = SSEReader(live)
                assert (await stream.next()).comments  # subscribed on host A

                # Deposit through host A.
                name, pdf = _invoice_for(demo)
                deposited = await on_a.post("/api/v1/deposits", headers={"Authorization": f"Bearer {supplier_key}"},
                                            files=[("file", (name, pdf, "application/pdf"))])
                assert deposited.status_code == 201, deposited.text
                (invoice,) = deposited.json()["invoices"]
                arrival, _ = await stream.pair(timeout=10)  # the new invoice, on the supplier's list
                assert arrival.event == f"invoice-{invoice['id']}"
                assert arrival.json["payload"]["status"] == "MISE_A_DISPOSITION"

                # Read through host B: its data folder has never seen the file.
                commune_headers = {"Authorization": f"Bearer {commune_key}"}
                original = await on_b.get(f"/api/v1/invoices/{invoice['id']}/file", headers=commune_headers)
                assert original.status_code == 200 and original.content == pdf

                # Processed through host B; the stream held by host A hears of it.
                received = (await on_b.get(f"/api/v1/received/{invoice['id']}", headers=commune_headers)).json()
                taken = await on_b.post(f"/api/v1/received/{invoice['id']}/status", headers=commune_headers,
                                        json={"status": "PRISE_EN_CHARGE", "version": received["version"]})
                assert taken.status_code == 200, taken.text
                event, _ = await stream.pair(timeout=10)
                assert event.event == f"invoice-{invoice['id']}"
                assert event.json["payload"]["status"] == "PRISE_EN_CHARGE"

        await _settled(receiver, invoice["id"])
    finally:
        for host in hosts:
            stop(host)

    # Each event exactly once, although two workers polled the same outbox (the demo's own
    # invoices may have events too: each of them once as well).
    assert receiver.duplicates == 0 and receiver.calls == len(receiver.received), receiver.received
    assert _deliveries(receiver, "/commune", invoice["id"]) == ["invoice.received"]
    assert receiver.statuses(invoice["id"], "/supplier") == ["PRISE_EN_CHARGE"]
    # The files are in the bucket, on neither host's disk.
    for host in hosts:
        assert not (host.data_dir / "files").exists() or not any((host.data_dir / "files").rglob("*"))
    assert any(key.endswith(original.headers["x-content-sha256"]) for key in s3.keys(bucket))
