"""The payment deadline passed, the invoice unpaid: the supplier's phone gets one push (real push service)."""

from __future__ import annotations

from datetime import timedelta

from backend.lib.formats import date_fr
from backend.processing import worker
from tests.integration.notifications.conftest import drain, subscribe


async def test_the_morning_after_the_deadline_the_supplier_is_told_once(client, invoice, push_service, clock):
    sub = push_service.subscriber()
    assert (await subscribe(client, sub)).status_code == 201
    await worker.run_pass()
    await drain()
    assert push_service.received == []  # not due yet

    # The morning after the due date, 10:00 in Paris: where the real clock stands (even past
    # 23:00 UTC, already tomorrow in Paris) does not matter.
    clock.set_today(invoice.payment_due_by + timedelta(days=1), hour=10)
    await worker.run_pass()  # the deadline runs, its push row is delivered in the same pass
    await drain()
    [got] = push_service.wait_for(1)
    assert got.payload["title"] == f"Facture n°\u00a0{invoice.number}\u00a0: paiement en retard"
    assert f"À payer au plus tard le {date_fr(invoice.payment_due_by)}" in got.payload["body"]
    assert got.payload["url"] == f"/invoices/{invoice.id}"

    clock.advance(days=1)
    await worker.run_pass()
    await drain()
    assert len(push_service.received) == 1


async def test_a_supplier_who_turned_it_off_is_not_told(client, invoice, push_service, clock, supplier_id):
    from backend.notifications import service

    sub = push_service.subscriber()
    assert (await subscribe(client, sub)).status_code == 201
    await service.set_preferences(supplier_id, {"REJETEE"})
    clock.set_today(invoice.payment_due_by + timedelta(days=1), hour=10)
    await worker.run_pass()
    await drain()
    assert push_service.received == []
