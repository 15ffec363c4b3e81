"""What both sides see of the payment deadline: the invoice page, the list, the "En retard" chip
and filter, the synthèse; and the API fields with the computed interest. Controlled clock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from backend.directory.tables import Structure
from backend.lib.formats import date_fr
from backend.processing.lifecycle import Actor, Payment, change_status
from tests.integration.api.conftest import key_for
from tests.integration.processing.test_status_pages import _agent_logs_in

ROOT = Path(__file__).resolve().parents[3]


async def test_the_supplier_sees_the_days_left_then_the_delay(client, invoice, clock):
    page = await client.get(f"/invoices/{invoice.id}")
    assert f"À payer au plus tard le {date_fr(invoice.payment_due_by)} (dans 30 jours)" in page.text
    listing = await client.get("/invoices")
    assert "(dans 30 jours)" in listing.text
    assert (await client.get("/invoices?status=en_retard")).text.count(f"invoice-row-{invoice.id}\"") == 0

    clock.advance(days=33)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "En retard de 3 jours" in page.text
    assert "Intérêts moratoires à ce jour" in page.text and "40,00\u00a0€" in page.text
    late = await client.get("/invoices?status=en_retard")
    assert f"invoice-row-{invoice.id}\"" in late.text and "En retard" in late.text
    home = await client.get("/")
    assert "1 facture en retard de paiement" in home.text


async def test_the_agent_sees_the_same_deadline_and_filter(client, accounts, invoice, recipient, clock):
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    clock.advance(days=31)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "En retard de 1 jour " in page.text
    late = await client.get("/invoices?status=en_retard")
    assert f"invoice-row-{invoice.id}\"" in late.text
    home = await client.get("/")
    assert "1 facture en retard de paiement" in home.text


async def test_an_interrupted_invoice_is_not_late(client, invoice, agent_id, clock):
    await change_status(invoice.id, Actor("recipient", agent_id), "SUSPENDUE", expected_version=1,
                        reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    clock.advance(days=40)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Délai de paiement interrompu" in page.text and "En retard" not in page.text
    assert f"invoice-row-{invoice.id}\"" not in (await client.get("/invoices?status=en_retard")).text


def ecb_rate(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FACTEUR_DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, "-m", "backend.cli", "ecb-rate", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_the_api_gives_the_due_date_the_delay_and_the_interest(client, invoice, agent_id, settings, clock):
    # The operator records the rate in force on 1 January 2027: 3 % + 8 points = 11 %.
    refused = ecb_rate(settings, "set", "2026-12-20", "trois")
    assert refused.returncode == 1 and "n'est pas valide" in refused.stderr
    done = ecb_rate(settings, "set", "2026-12-20", "3.00")
    assert done.returncode == 0, done.stderr
    assert "2026-12-20\t3.00" in ecb_rate(settings, "list").stdout

    api = await key_for(client, await Structure.objects().get(Structure.id == invoice.supplier))
    received = await api.get(f"/api/v1/invoices/{invoice.id}")
    body = received.json()
    assert body["payment_due_by"] == invoice.payment_due_by.isoformat()
    assert body["days_late"] == 0 and body["late_interest"] is None

    clock.set_today(invoice.payment_due_by + timedelta(days=30))
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "SERVICE_FAIT", expected_version=1)
    amount = Decimal(invoice.amount_due)
    half = (amount / 2).quantize(Decimal("0.01"))
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=2, payment=Payment(clock.today(), half))
    clock.advance(days=10)
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=3,
                        payment=Payment(clock.today(), amount - half))

    body = (await api.get(f"/api/v1/invoices/{invoice.id}")).json()
    assert body["days_late"] == 40
    late = body["late_interest"]
    expected = (half * Decimal("0.11") * 30 / 365 + (amount - half) * Decimal("0.11") * 40 / 365).quantize(Decimal("0.01"))
    assert late["rate_percent"] == "11.00" and late["ecb_rate"] == "3.00"
    assert late["interest"] == str(expected) and late["indemnity"] == "40.00"
    assert late["total"] == str(expected + Decimal("40.00")) and late["complete"] is True
    listed = (await api.get("/api/v1/invoices")).json()["items"]
    assert [(i["id"], i["days_late"], i["late_interest"]["interest"]) for i in listed] == [(invoice.id, 40, str(expected))]


async def test_the_openapi_document_describes_the_payment_fields(client):
    schemas = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    fields = schemas["InvoiceSummary"]["properties"]
    assert fields["payment_due_by"]["examples"] == ["2026-03-31"] and "days_late" in fields and "late_interest" in fields
    assert schemas["LateInterestOut"]["properties"]["rate_percent"]["examples"] == ["11.15"]


async def test_the_supplier_gets_the_claim_as_a_pdf_and_as_an_invoice_draft(client, accounts, invoice, recipient, clock):
    from backend.invoices.tables import InvoiceDraft
    from backend.processing.late_interest import compute, rates
    from tests.integration.invoices.test_documents import pdf_text
    from tests.support.web import csrf_from

    refused = await client.get(f"/invoices/{invoice.id}/late-claim.pdf")
    assert refused.status_code == 409 and "pas de retard de paiement" in refused.text

    clock.advance(days=40)  # 10 days late, unpaid
    late = compute(invoice.payment_due_by, Decimal(invoice.amount_due), [], clock.today(), await rates())
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Réclamation (PDF)" in page.text and "Facturer les intérêts" in page.text
    claim = await client.get(f"/invoices/{invoice.id}/late-claim.pdf")
    assert claim.status_code == 200 and claim.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(claim.content).split())
    assert "Réclamation d'intérêts moratoires" in text and f"facture n° {invoice.number}" in text
    assert "Jours de retard 10" in text and "40,00 €" in text

    drafted = await client.post(f"/invoices/{invoice.id}/late-claim", data={"_csrf_token": csrf_from(page.text)})
    assert drafted.status_code == 200  # the capture page of the new draft, after the redirect
    draft = await InvoiceDraft.objects().first()
    form = draft.form if isinstance(draft.form, dict) else __import__("json").loads(draft.form)
    assert drafted.url.path == f"/capture/{draft.id}" and "Intérêts moratoires sur la facture" in drafted.text
    assert form["recipient_siret"] == recipient.siret
    assert [line["unit_price"] for line in form["lines"]] == [str(late.interest), "40.00"]
    assert all(line["vat_rate"] == "0" and line["exemption_code"] == "VATEX-EU-O" for line in form["lines"])

    # The agent of the recipient neither downloads the claim nor drafts it: it is the supplier's.
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    assert (await client.get(f"/invoices/{invoice.id}/late-claim.pdf")).status_code == 404
    agent_page = await client.get(f"/invoices/{invoice.id}")
    assert "Intérêts moratoires à ce jour" in agent_page.text and "Réclamation (PDF)" not in agent_page.text
