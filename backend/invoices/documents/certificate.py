"""The deposit certificate (attestation de dépôt) of an accepted invoice, as a PDF.

It says what the platform received and when: certificate and deposit numbers, the time of
the deposit (Europe/Paris), the SHA-256 of the original file, the parties, the invoice's
number, date and amounts, and its status when the certificate was issued (Déposée, 200).
Everything comes from rows that never change after the deposit, so the same invoice always
gives the same certificate, byte for byte, whatever happened to it since:
- the parties' names and SIRETs as the file states them (BT-27/29, BT-44/46; the portal
  rules made sure they match the depositing structure and the directory's recipient);
- the routing (recipient, service code, engagement) at the deposit: a later recycling
  changes the invoice row but keeps the routing it replaced in the history (details.recycled);
- the stored file's digest, the invoice's deposit time and certificate number.
"""

from __future__ import annotations

from babel.dates import format_datetime

from backend.directory.tables import Service, Structure
from backend.invoices.documents.render import pdf
from backend.invoices.statuses import STATUSES
from backend.invoices.tables import Deposit, Invoice, InvoiceHistory, StoredFile
from backend.lib.formats import LOCALE, PARIS

TEMPLATE = "invoices/pdf/certificate.html"
PLATFORM = "Facteur"
FORMAT_LABELS = {"facturx-pdf": "Factur-X (PDF/A-3 avec XML CII)", "cii-xml": "XML CII (UN/CEFACT D16B)",
                 "ubl-xml": "XML UBL 2.1"}
CHANNEL_LABELS = {"web": "dépôt de fichier sur le portail", "zip": "archive ZIP déposée sur le portail",
                  "capture": "saisie sur le portail", "api": "API (logiciel de facturation)", "cli": "ligne de commande"}


def paris_time(value) -> str:
    """« 6 décembre 2026 à 19:17:06 (heure de Paris) »: to the second, as a certificate should."""
    return format_datetime(value.astimezone(PARIS), "d MMMM y 'à' HH:mm:ss", locale=LOCALE) + " (heure de Paris)"


async def deposit_routing(invoice: Invoice) -> dict:
    """Recipient id, service code and engagement as deposited (before any recycling)."""
    rows = await InvoiceHistory.select(InvoiceHistory.details).where(
        (InvoiceHistory.invoice == invoice.id) & (InvoiceHistory.status == "DEPOSEE")).order_by(InvoiceHistory.id).output(load_json=True)
    for row in rows:
        details = row["details"] if isinstance(row["details"], dict) else {}
        recycled = details.get("recycled")
        if recycled and isinstance(recycled.get("before"), dict):
            return recycled["before"]
    return {"recipient": invoice.recipient, "service_code": invoice.service_code, "engagement": invoice.engagement}


async def certificate_context(invoice: Invoice) -> dict:
    routing = await deposit_routing(invoice)
    recipient = await Structure.objects().get(Structure.id == routing["recipient"])
    service = await Service.select(Service.name).where(
        (Service.structure == recipient.id) & (Service.code == routing["service_code"])).first() if routing["service_code"] else None
    stored = await StoredFile.objects().get(StoredFile.id == invoice.original_file)
    deposit = await Deposit.select(Deposit.id, Deposit.channel).where(Deposit.id == invoice.deposit).first() if invoice.deposit else None
    first = await InvoiceHistory.select(InvoiceHistory.status, InvoiceHistory.created_at).where(
        InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id).first()
    status = first["status"] if first else "DEPOSEE"
    return {
        "platform": PLATFORM,
        "invoice": invoice,
        "type_label": "Avoir" if invoice.type_code == "381" else "Facture",
        "deposited_at": paris_time(invoice.deposited_at),
        "deposit": deposit,
        "channel": CHANNEL_LABELS.get(deposit["channel"], deposit["channel"]) if deposit else "",
        "file": {"name": invoice.original_name, "format": FORMAT_LABELS.get(invoice.format, invoice.format),
                 "profile": (invoice.profile or "").upper(), "size": stored.size, "sha256": stored.sha256},
        "recipient": {"name": recipient.name, "siret": recipient.siret, "service_code": routing["service_code"],
                      "service_name": service["name"] if service else "", "engagement": routing["engagement"]},
        "status": {"label": STATUSES[status].label, "code": STATUSES[status].code_2026},
        "available": {"label": STATUSES["MISE_A_DISPOSITION"].label, "code": STATUSES["MISE_A_DISPOSITION"].code_2026},
    }


async def certificate_pdf(invoice: Invoice) -> bytes:
    return await pdf(TEMPLATE, await certificate_context(invoice))


def certificate_filename(invoice: Invoice) -> str:
    return f"certificat-depot-{invoice.certificate_number}.pdf"
