"""The supplier's claim for a late payment: a letter as a PDF, and a capture draft to invoice it.

Both are built from what the invoice page shows (payment_delays.state + late_interest): the
due date, the days late, the rate (ECB rate of the half-year + 8 points), the interest and the
€40 indemnité forfaitaire. The draft is addressed to the same recipient, service and
engagement; its two lines are outside the scope of VAT (category O: late-payment interest and
the recovery indemnity are damages, not the price of a supply), which the supplier may change.
"""

from __future__ import annotations

from datetime import date

import msgspec

from backend.directory.tables import Structure
from backend.invoices import capture
from backend.invoices.documents.render import pdf
from backend.invoices.tables import Invoice, InvoiceDraft
from backend.lib.formats import date_fr
from backend.processing import late_interest, payment_delays

TEMPLATE = "invoices/pdf/late_claim.html"
OUT_OF_SCOPE = "VATEX-EU-O"


class NotLate(Exception):
    """Nothing to claim: the invoice was paid in time, or is not late yet."""


async def claim(invoice: Invoice) -> dict:
    """The state of the delay with its interest; NotLate when there is nothing to claim."""
    view = payment_delays.state(invoice)
    await late_interest.add_interest([(invoice.id, view, invoice.amount_due)])
    if view["interest"] is None:
        raise NotLate()
    return view


async def claim_context(invoice: Invoice) -> dict:
    view = await claim(invoice)
    supplier = await Structure.objects().get(Structure.id == invoice.supplier)
    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    return {"invoice": invoice, "view": view, "late": view["interest"], "supplier": supplier, "recipient": recipient,
            "today": payment_delays.paris_today()}


async def claim_pdf(invoice: Invoice) -> bytes:
    return await pdf(TEMPLATE, await claim_context(invoice))


def claim_filename(invoice: Invoice) -> str:
    return f"reclamation-interets-moratoires-{invoice.number}.pdf"


def draft_form(invoice: Invoice, view: dict, recipient: Structure, number: str, today: date) -> dict:
    late = view["interest"]
    reason = {"vat_rate": "0", "exemption_code": OUT_OF_SCOPE, "exemption_reason": "", "quantity": "1", "unit_code": "C62"}
    lines = [
        {**reason, "description": f"Intérêts moratoires sur la facture n°\u00a0{invoice.number}\u00a0: {late.days_late}\u00a0j de retard "
                                  f"au taux de {late.rate_percent}\u00a0% (taux BCE {late.ecb_rate}\u00a0% + 8 points)",
         "unit_price": str(late.interest)},
        {**reason, "description": f"Indemnité forfaitaire pour frais de recouvrement (facture n°\u00a0{invoice.number})",
         "unit_price": str(late.indemnity)},
    ]
    form = {name: "" for name in capture.TOP_FIELDS}
    return form | {
        "recipient_siret": recipient.siret, "recipient_name": recipient.name, "service_code": invoice.service_code or "",
        "engagement": invoice.engagement or "", "billing_framework": "A1", "supply_nature": "services", "type_code": "380", "number": number,
        "issue_date": today.isoformat(),
        "note": f"Intérêts moratoires et indemnité forfaitaire dus pour le paiement tardif de la facture n°\u00a0{invoice.number} "
                f"(à payer au plus tard le {date_fr(view['due_by'])}).",
        "lines": lines,
    }


async def claim_draft(invoice: Invoice, user_id: int) -> int:
    """A new capture draft of the supplier invoicing the interest and the indemnity (NotLate otherwise)."""
    view = await claim(invoice)
    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    form = draft_form(invoice, view, recipient, await capture.suggest_number(invoice.supplier), payment_delays.paris_today())
    draft = InvoiceDraft(structure=invoice.supplier, user=user_id, form=msgspec.json.encode(form).decode())
    await draft.save()
    return draft.id
