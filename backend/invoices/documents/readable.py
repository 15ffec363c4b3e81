"""The readable view of an invoice: its data as a person reads it, for XML deposits above all.

A CII or UBL file has no human-readable form; an agent should never have to open XML. The
stored original is read again with the validation pipeline's own reader (``detect`` then
``extract``, the same normalized model as at the deposit), so the view shows what the file
says, including what no portal rule needed (addresses, payment means, notes, documents).
``readable_view`` turns it into display strings, French formats included, that the HTML page
(invoices/readable.html) and the PDF (invoices/pdf/readable.html) both print as they are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import anyio
import msgspec

from backend.invoices import storage
from backend.lib.blobstore import BlobMissing, BlobStoreUnavailable
from backend.invoices.documents.render import pdf
from backend.invoices.generation.pdf import UNIT_LABELS, iban
from backend.invoices.statuses import label
from backend.invoices.tables import Attachment, Invoice, StoredFile
from backend.invoices.validation.detect import detect
from backend.invoices.validation.extract import extract
from backend.invoices.validation.model import Address, Amount, NormalizedInvoice, Party
from backend.lib.formats import date_fr, money, number, unit_for

TEMPLATE = "invoices/pdf/readable.html"
# Beyond this, the page and the PDF say how many lines there are and show the first ones:
# WeasyPrint lays out about 30 lines per 100 ms on an idle core, and a 20 MB file can hold
# tens of thousands of lines (minutes of a worker thread for one download).
MAX_LINES = 1000
FORMAT_LABELS = {"facturx-pdf": "Factur-X (PDF)", "cii-xml": "XML CII", "ubl-xml": "XML UBL"}
CREDIT_NOTE_TYPES = {"381", "261", "262", "396", "532"}
VAT_CATEGORIES = {"S": "Taux normal", "Z": "Taux zéro", "E": "Exonération", "AE": "Autoliquidation",
                  "K": "Livraison intracommunautaire", "G": "Exportation hors UE", "O": "Hors champ de la TVA",
                  "L": "IGIC (Canaries)", "M": "IPSI (Ceuta et Melilla)"}
# UNTDID 4461, the codes French invoices use.
PAYMENT_MEANS = {"1": "Non précisé", "10": "Espèces", "20": "Chèque", "30": "Virement", "31": "Virement",
                 "42": "Paiement sur compte bancaire", "48": "Carte bancaire", "49": "Prélèvement",
                 "54": "Carte de crédit", "55": "Carte de débit", "57": "Ordre permanent", "58": "Virement SEPA",
                 "59": "Prélèvement SEPA", "97": "Compensation", "ZZZ": "Convenu entre les parties"}
# UNTDID 4451, the subjects of French mentions.
NOTE_SUBJECTS = {"AAI": "Information générale", "AAB": "Escompte", "PMD": "Pénalités de retard",
                 "PMT": "Indemnité forfaitaire de recouvrement", "REG": "Information réglementaire",
                 "ABL": "Mentions légales", "TXD": "Information fiscale", "SUR": "Remarques du fournisseur",
                 "CUS": "Information douanière", "BLU": "Éco-participation", "ACC": "Conditions de paiement"}


def read_original(data: bytes) -> NormalizedInvoice | None:
    """The normalized invoice of a stored original (synchronous: XML parsing, PDF reading)."""
    detection = detect(data)
    if detection.root is None or detection.syntax is None:
        return None
    return extract(detection.root, detection.syntax)


async def normalized_invoice(settings, invoice: Invoice) -> NormalizedInvoice:
    """Read from the original; the record kept at the deposit if the file cannot be read again."""
    stored = await StoredFile.objects().get(StoredFile.id == invoice.original_file)
    try:
        data = await storage.read_blob(settings, stored.sha256)
        parsed = await anyio.to_thread.run_sync(read_original, data)
    except (OSError, BlobMissing, BlobStoreUnavailable):
        parsed = None  # the store is down or lost the file: the data kept at the deposit still shows
    if parsed is not None:
        return parsed
    kept = invoice.data if isinstance(invoice.data, (str, bytes)) else msgspec.json.encode(invoice.data)
    return msgspec.json.decode(kept, type=NormalizedInvoice)


# --- display strings -------------------------------------------------------------------------


def _amount(amount: Amount | None, currency: str) -> str:
    if amount is None:
        return ""
    return money(amount.value, currency) if amount.value is not None else amount.text


def _address(address: Address | None) -> list[str]:
    if address is None:
        return []
    town = " ".join(part for part in (address.postal_code, address.city) if part)
    rest = [town] if town else []
    if address.subdivision:
        rest.append(address.subdivision)
    if address.country and address.country != "FR":
        rest.append(address.country)
    return [*address.lines, *rest]


def _party(party: Party) -> dict:
    endpoint = next((f"{e.id} ({e.scheme})" if e.scheme else e.id for e in party.endpoints if e.id), "")
    return {"name": party.name or "—", "trading_name": party.trading_name if party.trading_name != party.name else None,
            "address": _address(party.address), "siret": party.siret or "", "vat_id": party.vat_id or "",
            "endpoint": endpoint}


def _date(text: str | None) -> str:
    try:
        return date_fr(date.fromisoformat(text)) if text else ""
    except ValueError:
        return text or ""


def _rate(amount: Amount | None) -> str:
    if amount is None:
        return ""
    return f"{number(amount.value)} %" if amount.value is not None else amount.text


def _vat_label(category: str | None, rate: Amount | None) -> str:
    if category in (None, "S") and rate is not None:
        return _rate(rate)
    name = VAT_CATEGORIES.get(category or "", category or "—")
    return f"{name} ({_rate(rate)})" if rate is not None and rate.value else name


def _line(line, currency: str) -> dict:
    quantity = line.quantity.value if line.quantity else None
    unit = unit_for(UNIT_LABELS.get(line.unit or "", line.unit or ""), quantity)
    return {"id": line.id or "", "name": line.name or "—", "description": line.description or "",
            "quantity": (number(quantity) if quantity is not None else (line.quantity.text if line.quantity else "")),
            "unit": unit, "price": _amount(line.net_price, currency), "amount": _amount(line.net_amount, currency),
            "vat": _vat_label(line.vat_category, line.vat_rate)}


def _totals(inv: NormalizedInvoice, currency: str) -> list[dict]:
    t = inv.totals
    rows = [("Total des lignes HT", t.line_net, False), ("Remises", t.allowances, False), ("Frais", t.charges, False),
            ("Total HT", t.tax_exclusive, False), ("Total TVA", t.tax, False), ("Total TTC", t.tax_inclusive, True),
            ("Déjà payé", t.prepaid, False), ("Arrondi", t.rounding, False), ("Net à payer", t.payable, True)]
    optional = {"Remises", "Frais", "Déjà payé", "Arrondi"}
    return [{"label": name, "value": _amount(amount, currency), "strong": strong} for name, amount, strong in rows
            if amount is not None and not (name in optional and amount.value == Decimal(0))]


def _payment(inv: NormalizedInvoice) -> list[dict]:
    means = []
    for m in inv.payment_means:
        name = PAYMENT_MEANS.get(m.code or "", f"Code {m.code}" if m.code else "Non précisé")
        means.append({"label": f"{name} — {m.text}" if m.text and m.text != name else name,
                      "account": iban(m.account) if m.account else "", "account_name": m.account_name or "",
                      "bic": (m.bic or "").upper()})
    return means


def readable_view(invoice: Invoice, inv: NormalizedInvoice, attachments: list[dict]) -> dict:
    """Everything the readable view prints, as French display strings."""
    currency = inv.currency or invoice.currency or "EUR"
    type_code = inv.type_code or invoice.type_code
    return {
        "invoice_id": invoice.id,
        "title": f"{'Avoir' if type_code in CREDIT_NOTE_TYPES else 'Facture'} n° {inv.number or invoice.number}",
        "type_code": type_code,
        "source": f"{FORMAT_LABELS.get(invoice.format, invoice.format)} « {invoice.original_name} »",
        "status": f"{label(invoice.status)} ({invoice.status_code})",
        "issue_date": _date(inv.issue_date) or (inv.issue_date_raw or ""),
        "due_date": _date(inv.due_date),
        "delivery_date": _date(inv.delivery_date),
        "currency": currency,
        "seller": _party(inv.seller),
        "buyer": _party(inv.buyer),
        "routing": [(name, value) for name, value in (
            ("Code service", inv.buyer_reference), ("N° d'engagement", inv.purchase_order),
            ("Cadre de facturation", inv.business_process), ("Contrat", inv.contract_reference),
            ("Facture d'origine", inv.preceding_invoice)) if value],
        "lines": [_line(line, currency) for line in inv.lines[:MAX_LINES]],
        "line_count": len(inv.lines),
        "vat": [{"label": _vat_label(v.category, v.rate), "basis": _amount(v.basis, currency),
                 "tax": _amount(v.tax, currency),
                 "exemption": " ".join(p for p in (v.exemption_reason, f"({v.exemption_code})" if v.exemption_code else "") if p)}
                for v in inv.vat_breakdown],
        "totals": _totals(inv, currency),
        "payment_terms": inv.payment_terms or "",
        "payment_reference": inv.payment_reference or "",
        "payment_means": _payment(inv),
        "notes": [{"subject": NOTE_SUBJECTS.get(n.subject or "", n.subject or ""), "text": n.text} for n in inv.notes],
        "documents": [{"name": d.description or d.filename or d.id or "Document", "id": d.id or "",
                       "filename": d.filename or "", "uri": d.uri or ""} for d in inv.documents],
        "attachments": attachments,
    }


async def readable_context(settings, invoice: Invoice) -> dict:
    inv = await normalized_invoice(settings, invoice)
    attachments = await Attachment.select(Attachment.id, Attachment.filename, Attachment.media_type).where(
        Attachment.invoice == invoice.id).order_by(Attachment.id)
    return readable_view(invoice, inv, attachments)


async def readable_pdf(settings, invoice: Invoice) -> bytes:
    return await pdf(TEMPLATE, {"view": await readable_context(settings, invoice)})


def readable_filename(invoice: Invoice) -> str:
    return f"facture-{invoice.number}-lisible.pdf"
