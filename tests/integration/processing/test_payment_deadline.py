"""The payment deadline through the lifecycle: set at reception, interrupted once by a suspension, done
once paid; the "payment_overdue" deadline then runs (or not) the morning after. Controlled clock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.processing import deadlines, payment_delays
from backend.processing.lifecycle import Actor, Payment, change_status
from backend.processing.tables import Deadline, Outbox
from tests.integration.invoices.test_deposit import post_files
from tests.unit.validation.invoice_builders import facturx_pdf


async def saved(invoice_id: int) -> Invoice:
    return await Invoice.objects().get(Invoice.id == invoice_id)


async def overdue_row(invoice_id: int) -> dict | None:
    return await Deadline.select().where((Deadline.kind == "payment_overdue") & (Deadline.invoice == invoice_id)).first()


async def overdue_pushes(invoice_id: int) -> int:
    return await Outbox.count().where((Outbox.event_type == "payment.overdue") & (Outbox.invoice == invoice_id))


async def test_reception_sets_the_due_date_30_days_on_and_schedules_the_overdue_notice(invoice, clock):
    today = clock.today()
    assert invoice.payment_due_by == today + timedelta(days=30)
    row = await overdue_row(invoice.id)
    assert row["done_at"] is None and row["due_at"] == payment_delays.overdue_at(invoice.payment_due_by)


async def test_the_recipients_own_delay_applies(client, supplier, recipient, clock):
    await Structure.update({Structure.payment_delay_days: 50}).where(Structure.id == recipient.id)
    assert (await post_files(client, [("facture.pdf", facturx_pdf())])).status_code == 201
    invoice = await Invoice.objects().first()
    assert invoice.payment_due_by == clock.today() + timedelta(days=50)


async def test_a_suspension_interrupts_the_delay_and_completion_opens_thirty_days(invoice, agent_id, supplier_id, clock):
    clock.advance(days=10)
    await change_status(invoice.id, Actor("recipient", agent_id), "SUSPENDUE", expected_version=1,
                        reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    assert (await saved(invoice.id)).payment_clock_stopped
    assert (await overdue_row(invoice.id))["outcome"] == "cancelled"  # the clock is stopped
    clock.advance(days=25)  # past the first due date: not late, it is interrupted
    assert await deadlines.run_due() == 0
    await change_status(invoice.id, Actor("supplier", supplier_id), "COMPLETEE", expected_version=2, comment="Le voici")
    reopened = await saved(invoice.id)
    assert reopened.payment_due_by == clock.today() + timedelta(days=30)  # R.2192-29: a new delay
    assert not reopened.payment_clock_stopped
    row = await overdue_row(invoice.id)
    assert row["done_at"] is None and row["due_at"] == payment_delays.overdue_at(reopened.payment_due_by)


async def test_a_second_suspension_does_not_interrupt_the_delay_again(invoice, agent_id, supplier_id, clock):
    agent, supplier = Actor("recipient", agent_id), Actor("supplier", supplier_id)
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=1, reason_code="JUSTIF_ABS", comment="Bon ?")
    await change_status(invoice.id, supplier, "COMPLETEE", expected_version=2, comment="Le voici")
    due = (await saved(invoice.id)).payment_due_by
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=3, reason_code="JUSTIF_ABS", comment="Encore ?")
    suspended_again = await saved(invoice.id)
    assert not suspended_again.payment_clock_stopped and suspended_again.payment_due_by == due
    clock.set_today(due + timedelta(days=1))
    assert await deadlines.run_due() == 1  # late while suspended: the supplier hears of it
    assert await overdue_pushes(invoice.id) == 1
    await change_status(invoice.id, supplier, "COMPLETEE", expected_version=4, comment="Voilà")
    assert (await saved(invoice.id)).payment_due_by == due  # no new delay either


async def test_an_unpaid_invoice_past_its_deadline_notifies_the_supplier_once(invoice, clock):
    clock.set_today(invoice.payment_due_by)
    assert await deadlines.run_due() == 0  # the last day is still on time
    clock.advance(days=1)
    assert await deadlines.run_due() == 1
    assert await deadlines.run_due() == 0
    assert await overdue_pushes(invoice.id) == 1
    push = await Outbox.select().where(Outbox.event_type == "payment.overdue").first()
    assert push["channel"] == "push"


async def test_a_partial_payment_leaves_the_invoice_overdue(invoice, agent_id, clock):
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1)
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=2, payment=Payment(clock.today(), Decimal("10.00")))
    assert (await saved(invoice.id)).paid_in_full_on is None
    clock.advance(days=32)
    assert await deadlines.run_due() == 1
    assert await overdue_pushes(invoice.id) == 1


async def test_paid_in_full_in_time_nothing_is_sent(invoice, agent_id, clock):
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1)
    clock.advance(days=20)
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=2,
                        payment=Payment(clock.today(), Decimal(invoice.amount_due)))
    assert (await saved(invoice.id)).paid_in_full_on == clock.today()
    assert (await overdue_row(invoice.id))["outcome"] == "cancelled"
    clock.advance(days=20)
    assert await deadlines.run_due() == 0
    assert await overdue_pushes(invoice.id) == 0


async def test_a_rejected_invoice_has_no_payment_deadline(invoice, agent_id, clock):
    await change_status(invoice.id, Actor("recipient", agent_id), "REJETEE", expected_version=1,
                        reason_code="DOUBLON", comment="Déjà reçue")
    clock.advance(days=40)
    assert await deadlines.run_due() == 0
    assert payment_delays.state(await saved(invoice.id))["late"] is False
