"""The invoice page of both sides: live blocks, timeline, confirmation, supplier answers."""

from __future__ import annotations

import re

import msgspec

from backend.invoices.tables import Attachment, Invoice, InvoiceDraft, InvoiceHistory
from tests.integration.workspaces.conftest import make_invoice
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import facturx_pdf

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def _post(client, invoice_id: int, data: dict, files=None):
    page = await client.get(f"/invoices/{invoice_id}")
    return await client.post(f"/invoices/{invoice_id}/status", data={**data, "_csrf_token": csrf_from(page.text)}, files=files)


async def test_live_blocks_and_confirmation_before_irreversible_steps(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="PRISE_EN_CHARGE")
    await accounts.login(world.agent)
    page = await client.get(f"/invoices/{invoice.id}")
    assert f'hx-get="/invoices/{invoice.id}/live/status?version={invoice.version}" hx-trigger="sse:invoice-{invoice.id}"' in page.text
    assert f'hx-get="/invoices/{invoice.id}/live/history" hx-trigger="sse:invoice-{invoice.id}"' in page.text
    assert 'aria-live="polite"' in page.text
    forms = re.findall(r'<form method="post" action="/invoices/\d+/status"[^>]*>.*?</form>', page.text, re.S)
    by_target = {re.search(r'name="target" value="([A-Z_]+)"', f).group(1): f for f in forms}
    for target in ("REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT"):
        assert "data-confirm=" in by_target[target] and 'name="confirmed" required' in by_target[target], target
    assert "data-confirm=" not in by_target["SUSPENDUE"]
    fragment = await client.get(f"/invoices/{invoice.id}/live/status")
    assert fragment.text.lstrip().startswith('<section class="card" id="invoice-live-status"') and "<html" not in fragment.text
    # An event that left the invoice at the version the page shows redraws nothing (an open form stays as typed);
    # a newer version redraws the block.
    unchanged = await client.get(f"/invoices/{invoice.id}/live/status?version={invoice.version}")
    assert unchanged.status_code == 204 and unchanged.text == ""
    older = await client.get(f"/invoices/{invoice.id}/live/status?version={invoice.version - 1}")
    assert older.status_code == 200 and 'id="invoice-live-status"' in older.text
    assert (await client.get(f"/invoices/{invoice.id}/live/status?version=abc")).status_code == 400


async def test_timeline_shows_reasons_codes_actors_and_paris_time(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1)
    await accounts.login(world.agent)
    response = await _post(client, invoice.id, {"target": "SUSPENDUE", "version": "1", "reason_code": "JUSTIF_ABS",
                                                "comment": "Le bon de livraison manque"})
    assert response.status_code == 200
    history = (await client.get(f"/invoices/{invoice.id}/live/history")).text
    assert "Suspendue" in history and "(208)" in history
    assert "Pièce justificative absente ou insuffisante" in history and "JUSTIF_ABS" in history
    assert "Le bon de livraison manque" in history and "Camille" in history and "Commune de Lille" in history
    saved = await InvoiceHistory.objects().where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id, ascending=False).first()
    from backend.lib.formats import datetime_fr
    assert datetime_fr(saved.created_at) in history  # shown in Europe/Paris


async def test_supplier_completes_with_a_comment_and_new_attachments(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="SUSPENDUE")
    await accounts.login(world.supplier)
    refused = await _post(client, invoice.id, {"target": "COMPLETEE", "version": "1", "comment": "Voici"},
                          files=[("attachment", ("notes.txt", b"plain text", "text/plain"))])
    assert refused.status_code == 422 and "ni un PDF" in refused.text
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "SUSPENDUE" and await Attachment.count() == 0

    done = await _post(client, invoice.id, {"target": "COMPLETEE", "version": "1", "comment": "Bon de livraison joint"},
                       files=[("attachment", ("bon.png", PNG, "image/png")), ("attachment", ("bon2.pdf", facturx_pdf(), "application/pdf"))])
    assert done.status_code == 200
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).status == "COMPLETEE"
    files = await Attachment.select(Attachment.filename, Attachment.role).where(Attachment.invoice == invoice.id).order_by(Attachment.id)
    assert [f["filename"] for f in files] == ["bon.png", "bon2.pdf"] and {f["role"] for f in files} == {"supporting"}
    attachment = await Attachment.objects().where(Attachment.invoice == invoice.id).first()
    download = await client.get(f"/invoices/{invoice.id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.content == PNG
    await accounts.logout()
    await accounts.login(world.agent)  # the recipient sees the answer and its files
    page = await client.get(f"/invoices/{invoice.id}")
    assert "bon.png" in page.text and "Bon de livraison joint" in page.text and "Complétée" in page.text


async def test_a_stale_completion_stores_no_attachment(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="SUSPENDUE")
    await accounts.login(world.supplier)
    stale = await _post(client, invoice.id, {"target": "COMPLETEE", "version": "0", "comment": "x"},
                        files=[("attachment", ("bon.png", PNG, "image/png"))])
    assert stale.status_code == 409 and await Attachment.count() == 0


async def test_recycle_changes_only_the_routing(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="A_RECYCLER", service_code="VOIRIE")
    await accounts.login(world.supplier)
    page = await client.get(f"/invoices/{invoice.id}")
    assert 'name="recipient_siret"' in page.text and 'name="number"' not in page.text
    done = await _post(client, invoice.id, {"target": "DEPOSEE", "version": "1", "recipient_siret": world.r1.siret,
                                            "service_code": "ECOLES", "engagement": "EJ-42"})
    assert done.status_code == 200, done.text
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert (saved.status, saved.service_code, saved.engagement, saved.number) == ("MISE_A_DISPOSITION", "ECOLES", "EJ-42", invoice.number)


async def test_acknowledge_then_a_new_invoice_from_the_rejected_one(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="REJETEE", service_code="VOIRIE", number="F2026-00077")
    await Invoice.update({Invoice.data: msgspec.json.encode({"syntax": "CII", "lines": [
        {"name": "Pose de fenêtres", "quantity": {"text": "2", "value": "2"}, "unit": "C62",
         "net_price": {"text": "150.00", "value": "150.00"}, "vat_rate": {"text": "20", "value": "20"}}]}).decode()}).where(
        Invoice.id == invoice.id)
    await accounts.login(world.supplier)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Prendre acte du rejet" in page.text and "Créer une nouvelle facture à partir de celle-ci" in page.text
    assert (await _post(client, invoice.id, {"target": "ACCUSE_REJET", "version": "1"})).status_code == 200
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Prendre acte du rejet" not in page.text and "Rejet pris en compte par le fournisseur" in page.text
    assert "F2026-00077" not in (await client.get("/")).text  # no longer something to do

    response = await client.post(f"/invoices/{invoice.id}/reissue", data={"_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code in (302, 303)
    draft = await InvoiceDraft.objects().first()
    assert response.headers["location"] == f"/capture/{draft.id}"
    form = msgspec.json.decode(draft.form) if isinstance(draft.form, str) else draft.form
    assert form["recipient_siret"] == world.r1.siret and form["service_code"] == "VOIRIE"
    assert form["number"] and form["number"] != "F2026-00077"
    assert form["lines"] == [{"description": "Pose de fenêtres", "quantity": "2", "unit_code": "C62", "unit_price": "150",
                              "vat_rate": "20", "exemption_reason": ""}]
    assert (await client.get(f"/capture/{draft.id}")).status_code == 200


async def test_no_new_invoice_from_one_that_is_not_rejected(client, accounts, world):
    invoice = await make_invoice(world.s1, world.r1, status="SUSPENDUE")
    await accounts.login(world.supplier)
    page = await client.get(f"/invoices/{invoice.id}")
    assert "Créer une nouvelle facture" not in page.text
    response = await client.post(f"/invoices/{invoice.id}/reissue", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 404 and await InvoiceDraft.count() == 0
