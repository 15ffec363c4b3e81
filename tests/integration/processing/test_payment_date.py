"""A payment date in the future is refused by the lifecycle, so by the invoice page too (French message, 422)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.lib.common import paris_today
from backend.processing.lifecycle import Actor, Payment, TransitionError, change_status
from tests.integration.processing.test_status_pages import _act, _agent_logs_in


async def test_the_lifecycle_refuses_a_payment_dated_in_the_future(invoice, agent_id):
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1)
    with pytest.raises(TransitionError) as refused:
        await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=2,
                            payment=Payment(paris_today() + timedelta(days=30), Decimal("100.00")))
    assert (refused.value.code, refused.value.http_status) == ("payment_date_future", 422)
    assert await InvoiceHistory.count().where(InvoiceHistory.invoice == invoice.id) == 3  # DEPOSEE, MISE_A_DISPOSITION, SERVICE_FAIT


async def test_the_invoice_page_says_why_a_future_payment_date_is_refused(client, accounts, invoice, recipient):
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    assert (await _act(client, invoice.id, target="SERVICE_FAIT", version=str(invoice.version))).status_code == 200
    tomorrow = (paris_today() + timedelta(days=1)).isoformat()
    refused = await _act(client, invoice.id, target="MISE_EN_PAIEMENT", version=str(invoice.version + 1),
                         payment_date=tomorrow, payment_amount="100,00")
    assert refused.status_code == 422
    assert "est dans le futur" in refused.text
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "SERVICE_FAIT"
