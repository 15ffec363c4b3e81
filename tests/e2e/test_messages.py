"""At 390×844 in Chromium against the real server: the supplier and the agent write to each
other on an invoice, with a file; the unread badge and the notifications page follow."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest

from backend.accounts.tables import Membership, User
from backend.lib.common import fold
from backend.directory.tables import Structure
from backend.invoices.storage import sha256_of
from backend.invoices.tables import Invoice, StoredFile
from backend.messages.tables import Message, MessageAttachment
from tests.e2e.conftest import new_person, save_docs_screenshot
from tests.e2e.test_signup_join import _expect, assert_fits_phone, confirm_by_mail, log_in, sign_up
from tests.support.accounts import valid_siret

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _invoice_between(supplier_siret: str, recipient: Structure) -> Invoice:
    """An invoice row as a deposit leaves it (the deposit itself is tested elsewhere)."""
    supplier = await Structure.objects().get(Structure.siret == supplier_siret)
    content = secrets.token_bytes(32)
    stored = StoredFile(sha256=sha256_of(content), size=len(content), media_type="application/pdf")
    await stored.save()
    number = f"F-MSG-{secrets.token_hex(3).upper()}"
    invoice = Invoice(
        supplier=supplier.id, recipient=recipient.id, original_file=stored.id, original_name=f"{number}.pdf",
        format="facturx-pdf", profile="en16931", number=number, number_year=2026, type_code="380",
        issue_date=date(2026, 11, 2), currency="EUR", service_code="", billing_framework="A1",
        seller_siret=supplier.siret, buyer_siret=recipient.siret, seller_name=supplier.name, buyer_name=recipient.name,
        total_excl_vat=Decimal("1000.00"), total_vat=Decimal("200.00"), total_incl_vat=Decimal("1200.00"),
        amount_due=Decimal("1200.00"), data="{}", status="MISE_A_DISPOSITION", status_code="203",
        certificate_number=f"AD-{secrets.token_hex(6).upper()}",
    )
    await invoice.save()
    return invoice


async def _person_in(phone, server, person):
    page, watch = await phone()
    await sign_up(page, person)
    await confirm_by_mail(page, server, person)
    # The town has no gestionnaire yet to accept the agent's request: accepted here.
    user = await User.objects().get(User.email == person.email)
    await Membership.update({Membership.status: "active"}).where(Membership.user == user.id)
    await log_in(page, person)
    return page, watch


async def test_supplier_and_agent_exchange_messages_on_an_invoice(phone, server, shots):
    expect = _expect()
    siret = valid_siret()
    name = f"Mairie de Messageville {siret[:4]}"
    town = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await town.save()
    supplier = new_person("Léa", "Martin", "Martin Électricité")
    agent = new_person("Paul", "Bernard", name, siret=siret)
    supplier_page, supplier_watch = await _person_in(phone, server, supplier)
    invoice = await _invoice_between(supplier.siret, town)

    # The supplier writes, with a photo, from the invoice page (htmx: no reload).
    await supplier_page.goto(f"/invoices/{invoice.id}")
    thread = supplier_page.locator("#messages")
    await expect(thread.get_by_text("Aucun message pour l'instant")).to_be_visible()
    await thread.get_by_label("Votre message au destinataire").fill("Bonjour,\nle bon de livraison signé est joint.")
    await thread.get_by_label("Joindre des fichiers").set_input_files(files=[{"name": "bon.png", "mimeType": "image/png", "buffer": PNG}])
    async with supplier_page.expect_response(lambda r: r.url.endswith(f"/invoices/{invoice.id}/messages") and r.request.method == "POST") as sent:
        await thread.get_by_role("button", name="Envoyer le message").click()
    assert (await sent.value).status == 201
    await expect(supplier_page.locator(".message-mine")).to_contain_text("le bon de livraison signé est joint.")
    await expect(supplier_page.get_by_role("link", name="bon.png")).to_be_visible()
    await expect(supplier_page.get_by_label("Votre message au destinataire")).to_have_value("")
    assert supplier_page.url.endswith(f"/invoices/{invoice.id}")

    # A file the portal refuses: the French error appears in place, what was typed stays.
    await supplier_page.get_by_label("Votre message au destinataire").fill("Et la note")
    await supplier_page.get_by_label("Joindre des fichiers").set_input_files(
        files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"du texte"}])
    await supplier_page.get_by_role("button", name="Envoyer le message").click()
    await expect(supplier_page.get_by_role("alert")).to_contain_text("n'est ni un PDF, ni une image JPEG ou PNG")
    await expect(supplier_page.get_by_label("Votre message au destinataire")).to_have_value("Et la note")
    assert await Message.count().where(Message.invoice == invoice.id) == 1

    # The agent sees the unread badge, then the thread, and answers.
    agent_page, agent_watch = await _person_in(phone, server, agent)
    await expect(agent_page.locator(".bottom-nav .nav-badge")).to_contain_text("1")
    await agent_page.get_by_role("link", name="Notifications").click()
    await expect(agent_page.get_by_text("1 non lu", exact=True)).to_be_visible()
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "messages-notifications.png", full_page=False)
    await agent_page.get_by_role("link", name=f"Facture {invoice.number}").click()
    await expect(agent_page.locator(".messages-new")).to_contain_text("1 nouveau message")
    await expect(agent_page.locator(".message-theirs")).to_contain_text("le bon de livraison signé est joint.")
    await expect(agent_page.locator(".bottom-nav .nav-badge")).to_have_count(0)
    await agent_page.get_by_label("Votre message au fournisseur").fill("Merci, bien reçu. Nous traitons la facture cette semaine.")
    await agent_page.get_by_role("button", name="Envoyer le message").click()
    await expect(agent_page.locator(".message-mine")).to_contain_text("Nous traitons la facture cette semaine.")
    await agent_page.locator("#messages").scroll_into_view_if_needed()
    await assert_fits_phone(agent_page)
    await agent_page.screenshot(path=shots / "messages-thread.png", full_page=False)
    save_docs_screenshot(shots / "messages-thread.png", "phone-messages.png")

    # The supplier's open page gets the answer live (SSE event → htmx refresh), without a reload.
    await expect(supplier_page.locator(".message-theirs")).to_contain_text("Nous traitons la facture cette semaine.")
    assert await supplier_page.evaluate("performance.getEntriesByType('navigation').length") == 1
    attachment = await MessageAttachment.objects().where(MessageAttachment.invoice == invoice.id).first()
    download = await agent_page.request.get(f"/invoices/{invoice.id}/messages/attachments/{attachment.id}")
    assert download.status == 200 and await download.body() == PNG

    for watch in (supplier_watch, agent_watch):
        assert watch.page_errors == [], watch.page_errors
        # The refused file is a 415 the browser logs; nothing else may complain.
        assert [e for e in watch.console_errors if "415" not in e] == [], watch.console_errors
    for page in (supplier_page, agent_page):
        assert await page.evaluate("window.__cspViolations") == []
