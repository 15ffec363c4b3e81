"""The invoice page's action buttons: agents process, suppliers answer, all through the lifecycle."""

from __future__ import annotations

from backend.accounts.tables import Membership
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing.tables import Outbox
from tests.support.web import csrf_from


async def _agent_logs_in(accounts, recipient):
    agent = accounts.person(siret=recipient.siret, company=recipient.name)
    await accounts.signup(agent)
    await accounts.confirm(agent)
    await Membership.update({Membership.status: "active", Membership.can_process: True}).where(
        (Membership.structure == recipient.id) & (Membership.status == "pending")
    )
    await accounts.login(agent)
    return agent


async def _act(client, invoice_id: int, **fields):
    page = await client.get(f"/invoices/{invoice_id}")
    return await client.post(f"/invoices/{invoice_id}/status", data={**fields, "_csrf_token": csrf_from(page.text)})


async def test_agent_sees_processing_buttons_and_rejects_with_a_reason(client, accounts, invoice, recipient):
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Prendre en charge" in page.text and "Rejeter" in page.text and "Compléter" not in page.text

    missing = await _act(client, invoice.id, target="REJETEE", version=str(invoice.version), comment="")
    assert missing.status_code == 422
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"

    done = await _act(client, invoice.id, target="REJETEE", version=str(invoice.version), reason_code="DOUBLON", comment="Déjà reçue le 3 mars")
    assert done.status_code == 200 and f"Facture n°\u00a0{invoice.number} rejetée." in done.text
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert saved.status == "REJETEE" and saved.status_code == "210" and saved.version == invoice.version + 1
    last = await InvoiceHistory.objects().where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id, ascending=False).first()
    assert last.reason_code == "DOUBLON" and last.comment == "Déjà reçue le 3 mars"
    assert await Outbox.count().where(Outbox.invoice == invoice.id) >= 2  # webhook + push rows
    rejected = (await client.get(f"/invoices/{invoice.id}")).text
    assert "DOUBLON" in rejected and "code 210 · Refusée" in rejected  # the reform's name beside Chorus's


async def test_a_stale_page_gets_409_and_changes_nothing(client, accounts, invoice, recipient):
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    assert (await _act(client, invoice.id, target="PRISE_EN_CHARGE", version=str(invoice.version))).status_code == 200
    stale = await _act(client, invoice.id, target="SERVICE_FAIT", version=str(invoice.version))
    assert stale.status_code == 409
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "PRISE_EN_CHARGE"


async def test_supplier_completes_a_suspended_invoice(client, accounts, invoice, recipient, supplier):
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    await _act(client, invoice.id, target="SUSPENDUE", version=str(invoice.version), reason_code="JUSTIF_ABS", comment="Bon de livraison manquant")
    await accounts.logout()
    await accounts.login(supplier)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Compléter" in page.text and "Prendre en charge" not in page.text
    version = (await Invoice.objects().get(Invoice.id == invoice.id)).version
    done = await _act(client, invoice.id, target="COMPLETEE", version=str(version), comment="Bon joint")
    assert done.status_code == 200
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "COMPLETEE"


async def test_supplier_cannot_take_an_agents_action(client, invoice):
    response = await _act(client, invoice.id, target="PRISE_EN_CHARGE", version=str(invoice.version))
    assert response.status_code == 403
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"


async def test_another_structure_gets_404(client, accounts, invoice):
    await accounts.logout()
    await accounts.registered()
    page = await client.get("/account")
    response = await client.post(f"/invoices/{invoice.id}/status", data={"target": "REJETEE", "version": "1", "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 404
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "MISE_A_DISPOSITION"


async def test_supplier_records_collections_from_the_page_and_the_agent_sees_them(client, accounts, invoice, recipient, supplier):
    from backend.lib.common import paris_today
    from backend.processing.lifecycle import Actor, Payment, change_status
    from tests.integration.processing.conftest import make_user

    agent = Actor("recipient", await make_user(recipient.id, can_process=True))
    await change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=1, payment=Payment(paris_today(), invoice.amount_due))
    page = await client.get(f"/invoices/{invoice.id}")  # the supplier is signed in
    assert "Enregistrer un encaissement" in page.text and "Montant encaissé" in page.text
    version = (await Invoice.objects().get(Invoice.id == invoice.id)).version
    too_much = await _act(client, invoice.id, target="ENCAISSEE", version=str(version), payment_date=paris_today().isoformat(),
                          payment_amount=str(invoice.amount_due + 1))
    assert too_much.status_code == 422 and "ne peut pas dépasser le montant dû" in too_much.text
    done = await _act(client, invoice.id, target="ENCAISSEE", version=str(version), payment_date=paris_today().isoformat(),
                      payment_amount="10,00")
    assert done.status_code == 200 and "encaissée" in done.text
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert (saved.status, saved.status_code) == ("ENCAISSEE", "212")
    await accounts.logout()
    await _agent_logs_in(accounts, recipient)
    seen = await client.get(f"/invoices/{invoice.id}")
    assert "Encaissée" in seen.text and "code 212" in seen.text and "Encaissement de 10,00" in seen.text
