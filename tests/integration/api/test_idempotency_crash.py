"""A server dies between committing a deposit and storing its answer for the Idempotency-Key.

Before leases, the key stayed "in progress" for 24 h: every retry got 409 while the
invoice was there. Now the retry waits out a short lease, then gets the first answer,
built from what the dead request committed, and no second deposit is made.

How the server is caught in that window: a database trigger holds (PostgreSQL:
pg_sleep) or refuses (SQLite, which cannot sleep in a trigger) the one UPDATE that stores
the answer, so the deposit is committed and its answer never recorded; then the server
gets SIGKILL. The lease running out is simulated by moving it into the past (the
controlled clock), not by sleeping.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import httpx
from piccolo.table import Table

from backend.api.tables import IdempotencyRecord
from backend.invoices.tables import Deposit
from backend.lib.common import utcnow
from tests.integration.api.conftest import invoice_file
from tests.integration.tracking.servers import start_server, stop

KEY = {"Idempotency-Key": "crash-1"}

HOLD = {
    "postgres": [
        """CREATE FUNCTION hold_answer() RETURNS trigger AS $$
           BEGIN
             IF NEW.status_code IS NOT NULL AND OLD.status_code IS NULL THEN PERFORM pg_sleep(60); END IF;
             RETURN NEW;
           END $$ LANGUAGE plpgsql""",
        "CREATE TRIGGER hold_answer BEFORE UPDATE ON idempotency_record FOR EACH ROW EXECUTE FUNCTION hold_answer()",
    ],
    "sqlite": [
        """CREATE TRIGGER hold_answer BEFORE UPDATE OF status_code ON idempotency_record
           WHEN NEW.status_code IS NOT NULL AND OLD.status_code IS NULL
           BEGIN SELECT RAISE(ABORT, 'answer held by the test'); END""",
    ],
}
RELEASE = {
    "postgres": [
        # The held UPDATE's backend outlives the killed server until its sleep ends: end it now.
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
        "DROP TRIGGER hold_answer ON idempotency_record", "DROP FUNCTION hold_answer()",
    ],
    "sqlite": ["DROP TRIGGER hold_answer"],
}


async def _committed_but_unanswered() -> bool:
    record = await IdempotencyRecord.select().where(IdempotencyRecord.key == "crash-1").first()
    return bool(record and record["effect_id"] and record["status_code"] is None and await Deposit.count() == 1)


async def _post(http: httpx.AsyncClient, secret: str, file) -> httpx.Response:
    return await http.post("/api/v1/deposits", files=[("file", (file[0], file[1], "application/pdf"))],
                           headers={"Authorization": f"Bearer {secret}", **KEY})


async def test_a_retry_after_a_killed_worker_gets_the_committed_deposit(settings, supplier_api, tmp_path):
    engine = "postgres" if settings.is_postgres else "sqlite"
    for statement in HOLD[engine]:
        await Table.raw(statement)
    file = invoice_file("CRASH-1")
    server = start_server(settings, tmp_path / "first")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=90) as http:
            pending = asyncio.create_task(_post(http, supplier_api.secret, file))
            for _ in range(600):  # bounded: 60 s
                if await _committed_but_unanswered():
                    break
                await asyncio.sleep(0.1)
            assert await _committed_but_unanswered(), server.log_tail()
            server.process.send_signal(signal.SIGKILL)  # mid-request on PostgreSQL, just after it on SQLite
            server.process.wait(timeout=10)
            await asyncio.gather(pending, return_exceptions=True)
    finally:
        stop(server)
    for statement in RELEASE[engine]:
        await Table.raw(statement)

    deposit_id = (await Deposit.select(Deposit.id).first())["id"]
    server = start_server(settings, tmp_path / "second")
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=90) as http:
            # While the dead holder's lease runs (as if it died a moment ago: restarts take varying time here),
            # a retry is told to come back when it ends.
            await IdempotencyRecord.update({IdempotencyRecord.lease_until: utcnow() + timedelta(seconds=10)}).where(
                IdempotencyRecord.key == "crash-1")
            early = await _post(http, supplier_api.secret, file)
            assert early.status_code == 409 and early.json()["code"] == "idempotency_in_progress"
            assert 1 <= int(early.headers["retry-after"]) <= 10

            # The lease runs out (nobody renews it: its holder is dead).
            await IdempotencyRecord.update({IdempotencyRecord.lease_until: IdempotencyRecord.created_at}).where(
                IdempotencyRecord.key == "crash-1")
            retry = await _post(http, supplier_api.secret, file)
            assert retry.status_code == 201, retry.text
            assert retry.headers["idempotent-replayed"] == "true"
            assert retry.json()["id"] == deposit_id and retry.json()["report"][0]["file"] == "CRASH-1.pdf"
            again = await _post(http, supplier_api.secret, file)
            assert again.status_code == 201 and again.json() == retry.json()
    finally:
        stop(server)
    assert await Deposit.count() == 1
