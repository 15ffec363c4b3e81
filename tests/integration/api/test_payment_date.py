"""A payment is recorded on the day it was sent: a date in the future is refused (422, French, stable code)."""

from __future__ import annotations

from datetime import timedelta

from backend.invoices.tables import Invoice
from backend.lib.common import paris_today


async def test_a_payment_dated_tomorrow_is_refused_and_today_is_accepted(invoice, recipient_api):
    url = f"/api/v1/received/{invoice.id}/status"
    assert (await recipient_api.post(url, json={"status": "SERVICE_FAIT"})).status_code == 200
    tomorrow = (paris_today() + timedelta(days=1)).isoformat()
    future = await recipient_api.post(url, json={"status": "MISE_EN_PAIEMENT", "payment": {"date": tomorrow, "amount": "100.00"}})
    assert future.status_code == 422
    problem = future.json()
    assert problem["code"] == "payment_date_future" and "dans le futur" in problem["detail"]
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "SERVICE_FAIT"  # nothing written
    today = await recipient_api.post(url, json={"status": "MISE_EN_PAIEMENT", "payment": {"date": paris_today().isoformat(), "amount": "100.00"}})
    assert today.status_code == 200 and today.json()["status"] == "MISE_EN_PAIEMENT"
