"""Idempotency-Key: a retried POST gets the first answer and has no second effect."""

from __future__ import annotations

import asyncio

from backend.api.tables import IdempotencyRecord
from backend.invoices.tables import Deposit, Invoice, InvoiceHistory
from tests.integration.api.conftest import invoice_file, key_for
from tests.integration.api.test_endpoints import structured


async def test_same_key_same_body_replays_the_first_response(supplier_api):
    file = invoice_file()
    first = await supplier_api.deposit(file, headers={"Idempotency-Key": "dep-1"})
    again = await supplier_api.deposit(file, headers={"Idempotency-Key": "dep-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert await Deposit.count() == 1


async def test_same_key_other_body_is_422(supplier_api):
    assert (await supplier_api.post("/api/v1/invoices", json=structured(), headers={"Idempotency-Key": "k"})).status_code == 201
    other = await supplier_api.post("/api/v1/invoices", json=structured(number="OTHER-1"), headers={"Idempotency-Key": "k"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await Invoice.count() == 1


async def test_keys_are_per_api_key(client, supplier_api):
    second = await key_for(client, supplier_api.structure)
    assert (await supplier_api.deposit(invoice_file("A-1"), headers={"Idempotency-Key": "same"})).status_code == 201
    assert (await second.deposit(invoice_file("A-2"), headers={"Idempotency-Key": "same"})).status_code == 201
    assert await Deposit.count() == 2


async def test_a_failed_request_can_be_retried(invoice, supplier_api, recipient_api):
    url = f"/api/v1/invoices/{invoice.id}/completion"
    early = await supplier_api.post(url, json={"comment": "ok"}, headers={"Idempotency-Key": "c1"})
    assert early.status_code == 409 and await IdempotencyRecord.count() == 0
    suspend = {"status": "SUSPENDUE", "reason_code": "JUSTIF_ABS", "comment": "?"}
    await recipient_api.post(f"/api/v1/received/{invoice.id}/status", json=suspend)
    done = await supplier_api.post(url, json={"comment": "ok"}, headers={"Idempotency-Key": "c1"})
    replay = await supplier_api.post(url, json={"comment": "ok"}, headers={"Idempotency-Key": "c1"})
    assert done.status_code == replay.status_code == 200 and replay.json() == done.json()
    assert await InvoiceHistory.count().where(InvoiceHistory.status == "COMPLETEE") == 1


async def test_concurrent_duplicates_do_not_both_execute(invoice, recipient_api):
    url = f"/api/v1/received/{invoice.id}/status"
    body = {"status": "PRISE_EN_CHARGE"}
    responses = await asyncio.gather(*(recipient_api.post(url, json=body, headers={"Idempotency-Key": "twice"}) for _ in range(4)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}, codes
    assert all(r.json()["code"] == "idempotency_in_progress" for r in responses if r.status_code == 409)
    assert await InvoiceHistory.count().where(InvoiceHistory.status == "PRISE_EN_CHARGE") == 1


async def test_invalid_idempotency_key_is_422(supplier_api):
    response = await supplier_api.deposit(invoice_file(), headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_invalid"


async def test_records_older_than_the_retention_are_forgotten(supplier_api):
    from backend.api.idempotency import RETENTION
    from backend.lib.common import utcnow

    assert (await supplier_api.deposit(invoice_file("OLD-1"), headers={"Idempotency-Key": "old"})).status_code == 201
    await IdempotencyRecord.update({IdempotencyRecord.created_at: utcnow() - RETENTION * 2}).where(IdempotencyRecord.key == "old")
    assert (await supplier_api.deposit(invoice_file("NEW-1"), headers={"Idempotency-Key": "new"})).status_code == 201
    assert [r["key"] for r in await IdempotencyRecord.select(IdempotencyRecord.key)] == ["new"]


async def test_a_key_whose_holder_died_before_committing_runs_again_once_its_lease_ends(supplier_api):
    """The holder died before its deposit committed: nothing happened, so the retry deposits."""
    from datetime import timedelta

    from backend.lib.common import utcnow

    file = invoice_file("DIED-1")
    assert (await supplier_api.deposit(file, headers={"Idempotency-Key": "probe"})).status_code == 201
    probe = await IdempotencyRecord.select().where(IdempotencyRecord.key == "probe").first()
    await Deposit.delete(force=True)
    await IdempotencyRecord.delete(force=True)
    await IdempotencyRecord.insert(IdempotencyRecord(
        api_key=probe["api_key"], key="died", request_hash=probe["request_hash"], owner="dead0000",
        lease_until=utcnow() + timedelta(seconds=5)))
    # The fingerprint covers the path and body, not the key: the same file under the new key matches it.
    held = await supplier_api.deposit(file, headers={"Idempotency-Key": "died"})
    assert held.status_code == 409 and held.json()["code"] == "idempotency_in_progress"
    await IdempotencyRecord.update({IdempotencyRecord.lease_until: utcnow() - timedelta(seconds=1)}).where(
        IdempotencyRecord.key == "died")
    taken_over = await supplier_api.deposit(file, headers={"Idempotency-Key": "died"})
    assert taken_over.status_code == 201 and "idempotent-replayed" not in taken_over.headers
    replay = await supplier_api.deposit(file, headers={"Idempotency-Key": "died"})
    assert replay.json() == taken_over.json() and replay.headers["idempotent-replayed"] == "true"
    assert await Deposit.count() == 1


async def test_a_long_request_keeps_its_key_by_renewing_the_lease(supplier_api, monkeypatch):
    from backend.api import idempotency
    from backend.invoices import deposit as deposit_module

    monkeypatch.setattr(idempotency, "HEARTBEAT_SECONDS", 0.05)
    leases = []
    real_record = deposit_module._record

    async def slow_record(*args, **kwargs):  # a deposit that takes a while, its lease read as it goes
        for _ in range(4):
            await asyncio.sleep(0.1)
            leases.append((await IdempotencyRecord.select(IdempotencyRecord.lease_until).first())["lease_until"])
        return await real_record(*args, **kwargs)

    monkeypatch.setattr(deposit_module, "_record", slow_record)
    assert (await supplier_api.deposit(invoice_file(), headers={"Idempotency-Key": "long"})).status_code == 201
    assert leases == sorted(leases) and leases[-1] > leases[0]
