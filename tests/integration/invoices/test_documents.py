"""The deposit certificate (PDF) and the readable view of an invoice (HTML page and PDF).

Each PDF is read back with pypdf: what a person relies on (the file's SHA-256, the numbers,
the amounts, the lines) must be in its text, not only in the page around it.
"""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from backend.accounts.tables import Membership
from backend.directory.tables import Service
from backend.invoices.tables import Deposit, Invoice
from backend.lib.formats import PARIS
from backend.processing import lifecycle
from tests.integration.invoices.test_deposit import post_files
from tests.unit.validation.invoice_builders import BUYER_SIRET, SELLER_SIRET, cii_bytes, invoice_data, ubl_bytes

NOTES = [{"BT-21": "PMD", "BT-22": "Pénalités de retard : trois fois le taux d'intérêt légal."}]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """The text without spaces: a long digest may wrap, French numbers use narrow spaces."""
    return "".join(text.split())


async def deposited(client, data: bytes, name: str = "f.xml", attachments=()) -> Invoice:
    response = await post_files(client, [(name, data)], list(attachments))
    assert response.status_code == 201, response.text
    return await Invoice.objects().order_by(Invoice.id, ascending=False).first()


async def become_recipient_agent(accounts, recipient) -> None:
    await accounts.logout()
    agent = accounts.person(siret=recipient.siret)
    await accounts.signup(agent)
    await accounts.confirm(agent)
    await Membership.update({Membership.status: "active", Membership.can_process: True}).where(Membership.status == "pending")
    await accounts.login(agent)


async def test_certificate_is_a_pdf_stating_the_deposit(client, supplier, recipient):
    xml = cii_bytes(invoice_data(**{"BT-1": "CERT-1"}))
    invoice = await deposited(client, xml, "cert-1.xml")
    deposit = await Deposit.objects().first()

    response = await client.get(f"/invoices/{invoice.id}/certificate")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    text = pdf_text(response.content)
    flat = squeezed(text)
    assert hashlib.sha256(xml).hexdigest() in flat
    assert invoice.certificate_number in flat and "CERT-1" in text
    assert f"dépôtn°{deposit.id}" in flat
    assert "Facteur" in text and "Certificat de dépôt" in text
    for siret in (SELLER_SIRET, BUYER_SIRET):
        assert siret in flat
    assert "Menuiserie Dupont SARL" in text and "Commune de Paris" in text
    assert "SERVICE-COMPTA—Comptabilité" in flat  # the service, by code and name
    for amount in ("390,00€", "78,00€", "468,00€"):
        assert amount in flat
    assert "Déposée (code 200)" in text
    deposited_at = invoice.deposited_at.astimezone(PARIS)
    assert f"{deposited_at:%H:%M:%S}(heuredeParis)" in flat  # Paris time, to the second


async def test_certificate_is_the_same_every_time_even_after_recycling(client, accounts, supplier, recipient):
    """Recycling changes the invoice's service code: the certificate keeps the deposited routing."""
    invoice = await deposited(client, cii_bytes(invoice_data(**{"BT-1": "CERT-2"})))
    first = (await client.get(f"/invoices/{invoice.id}/certificate")).content
    supplier_member = await Membership.objects().get(Membership.structure == invoice.supplier)
    await Service.insert(Service(structure=recipient.id, code="TRAVAUX", name="Travaux", active=True))
    await become_recipient_agent(accounts, recipient)
    agent = await Membership.objects().get(Membership.structure == recipient.id)
    await lifecycle.change_status(invoice.id, lifecycle.Actor(lifecycle.RECIPIENT, agent.user), "A_RECYCLER",
                                  expected_version=None, comment="Le service est Travaux.")
    await lifecycle.change_status(invoice.id, lifecycle.Actor(lifecycle.SUPPLIER, supplier_member.user), "DEPOSEE",
                                  expected_version=None, routing=lifecycle.Routing(recipient.siret, "TRAVAUX"))
    assert (await Invoice.objects().get(Invoice.id == invoice.id)).service_code == "TRAVAUX"
    again = await client.get(f"/invoices/{invoice.id}/certificate")
    assert again.status_code == 200 and again.content == first  # the recipient downloads the same bytes
    assert "SERVICE-COMPTA" in pdf_text(again.content)


async def test_invoice_page_and_deposit_report_link_the_documents(client, supplier):
    invoice = await deposited(client, ubl_bytes(invoice_data(**{"BT-1": "LINKS-1"})))
    page = (await client.get(f"/invoices/{invoice.id}")).text
    for url in ("certificate", "readable", "readable.pdf"):
        assert f'href="/invoices/{invoice.id}/{url}"' in page
    report = (await client.get(f"/deposits/{invoice.deposit}")).text
    assert f'href="/invoices/{invoice.id}/certificate"' in report


async def test_documents_follow_the_invoice_access(client, accounts, supplier, recipient):
    invoice = await deposited(client, cii_bytes(invoice_data(**{"BT-1": "ACCESS-1"})))
    urls = [f"/invoices/{invoice.id}/{part}" for part in ("certificate", "readable", "readable.pdf")]
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    await become_recipient_agent(accounts, recipient)
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    await accounts.logout()
    await accounts.registered()  # someone of another structure
    for url in urls + [f"/invoices/{invoice.id + 1000}/certificate"]:
        response = await client.get(url)
        assert response.status_code == 404, url
        assert b"%PDF" not in response.content[:10]
    await accounts.logout()
    assert (await client.get(urls[0], follow_redirects=False)).status_code in (302, 303)


def _rich_invoice(number: str) -> dict:
    return invoice_data(**{"BT-1": number, "BG-1": NOTES, "BT-20": "Paiement à 30 jours fin de mois."})


async def _check_readable_page(client, invoice: Invoice) -> None:
    response = await client.get(f"/invoices/{invoice.id}/readable")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert invoice.number in page
    for name in ("Porte en chêne", "Pose"):  # the lines
        assert name in page
    for amount in ("300,00", "90,00", "390,00", "78,00", "468,00"):  # line amounts, VAT, totals
        assert amount in page
    assert "3 unités" in page and "2 heures" in page
    assert "Net à payer" in page and "Total TTC" in page
    assert "Menuiserie Dupont SARL" in page and "12 rue des Artisans" in page and "Commune de Paris" in page
    assert "SERVICE-COMPTA" in page and "EJ-2026-000123" in page
    assert "FR76 3000 6000 0112 3456 7890 189" in page and "Virement" in page
    assert "Paiement à 30 jours fin de mois." in page
    assert "Pénalités de retard" in page and "trois fois le taux" in page
    assert "<?xml" not in page and "CrossIndustryInvoice" not in page


async def test_readable_view_of_a_ubl_invoice(client, accounts, supplier, recipient):
    invoice = await deposited(client, ubl_bytes(_rich_invoice("UBL-READ-1")), "ubl.xml",
                              attachments=[("bon-de-livraison.pdf", b"%PDF-1.4\n%%EOF\n")])
    await _check_readable_page(client, invoice)
    page = (await client.get(f"/invoices/{invoice.id}/readable")).text
    assert "bon-de-livraison.pdf" in page and f"/invoices/{invoice.id}/attachments/" in page
    await become_recipient_agent(accounts, recipient)
    await _check_readable_page(client, invoice)  # the agent reads the same, without any XML


async def test_readable_view_of_a_cii_invoice(client, supplier):
    invoice = await deposited(client, cii_bytes(_rich_invoice("CII-READ-1")), "cii.xml")
    await _check_readable_page(client, invoice)


async def test_readable_pdf_prints_lines_and_totals(client, supplier):
    invoice = await deposited(client, ubl_bytes(_rich_invoice("UBL-PDF-1")), "ubl.xml")
    response = await client.get(f"/invoices/{invoice.id}/readable.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    flat = squeezed(text)
    assert "UBL-PDF-1" in text and "Porte en chêne" in text and "Pose" in text
    for amount in ("300,00€", "90,00€", "390,00€", "78,00€", "468,00€"):
        assert amount in flat
    assert "Netàpayer" in flat and "Menuiserie Dupont SARL" in text and "Commune de Paris" in text
    assert "FR7630006000011234567890189" in flat and "Pénalitésderetard" in flat


def test_a_huge_invoice_shows_its_first_lines_and_says_so():
    from types import SimpleNamespace

    from backend.invoices.documents.readable import MAX_LINES, readable_view
    from backend.invoices.validation.model import Line, NormalizedInvoice

    inv = NormalizedInvoice(syntax="UBL-Invoice", number="BIG-1", lines=[Line(id=str(i), name="Vis") for i in range(MAX_LINES + 5)])
    row = SimpleNamespace(id=1, number="BIG-1", currency="EUR", type_code="380", format="ubl-xml",
                          original_name="big.xml", status="MISE_A_DISPOSITION", status_code="203")
    view = readable_view(row, inv, [])
    assert view["line_count"] == MAX_LINES + 5 and len(view["lines"]) == MAX_LINES
