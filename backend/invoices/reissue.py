"""A new invoice from a rejected one: a capture draft prefilled with its data, under a new number.

A rejected invoice is terminal (REJETEE, 210): the supplier issues another one with a new
number. The draft keeps the recipient, routing, framework, type and lines as they were,
so the supplier only corrects what the rejection pointed at and sends it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from backend.invoices import capture
from backend.lib.common import paris_today
from backend.invoices.tables import Invoice, InvoiceDraft


def amount_text(amount: dict | None) -> str:
    """An extracted amount ({'value': …} or {'text': …}) as a form field shows it: '12.5', never '12.50' or '1.25E+1'."""
    if not amount:
        return ""
    raw = amount.get("value") if amount.get("value") is not None else amount.get("text")
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, TypeError):
        return ""
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _rate(amount: dict | None) -> str:
    rate = amount_text(amount) or "0"
    return rate if rate in capture.VAT_RATES else "20"


_NATURE_OF_LETTER = {"B": "goods", "S": "services", "M": "mixed"}


def supply_nature(business_process: str | None) -> str:
    """The nature the rejected invoice declared in its reform BT-23 code (B1, S2, M1…):
    first letter B goods, S services, M both; services when it used another code."""
    code = (business_process or "").strip().upper()
    if len(code) == 2 and code[1].isdigit():
        return _NATURE_OF_LETTER.get(code[0], "services")
    return "services"


def draft_form(invoice: Invoice, recipient_siret: str, recipient_name: str, number: str) -> dict:
    data = msgspec.json.decode(invoice.data) if isinstance(invoice.data, str) else dict(invoice.data or {})
    lines = [{
        "description": (line.get("name") or "")[:300], "quantity": amount_text(line.get("quantity")) or "1",
        "unit_code": line.get("unit") if line.get("unit") in capture.UNITS else "C62",
        "unit_price": amount_text(line.get("net_price")), "vat_rate": _rate(line.get("vat_rate")), "exemption_reason": "",
    } for line in (data.get("lines") or [])[: capture.MAX_LINES]]
    form = {name: "" for name in capture.TOP_FIELDS}
    return form | {
        "recipient_siret": recipient_siret, "recipient_name": recipient_name, "service_code": invoice.service_code or "",
        "engagement": invoice.engagement or "", "billing_framework": invoice.billing_framework or "A1",
        "supply_nature": supply_nature(data.get("business_process")),
        "type_code": invoice.type_code if invoice.type_code in ("380", "381") else "380",
        "number": number, "issue_date": paris_today().isoformat(),
        "note": f"Remplace la facture n° {invoice.number}, rejetée.", "lines": lines or [capture.blank_line()],
    }


async def draft_from_rejected(invoice: Invoice, recipient_siret: str, recipient_name: str, user_id: int) -> int:
    """The id of a new draft of the supplier structure (the caller checked status and rights)."""
    number = await capture.suggest_number(invoice.supplier)
    if number == invoice.number:  # never the rejected number: the duplicate rule would refuse it
        number = ""
    form = draft_form(invoice, recipient_siret, recipient_name, number)
    draft = InvoiceDraft(structure=invoice.supplier, user=user_id, form=msgspec.json.encode(form).decode())
    await draft.save()
    return draft.id
