"""An invoice's lifecycle as the reform reads it: its status events in order, each with its reform
code and, when the step has one, its CDAR message (backend/processing/cdar.py).

The events are the invoice's history rows. A supplier's acknowledgement of a rejection is not a
status (the invoice stays refused) and is left out; a step the reform has no status for (MANDATEE)
is listed without code nor message.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from backend.invoices.statuses import REFORM_LABELS, STATUSES, label
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing import cdar
from backend.processing.reasons import reason_label, reform_reason


def _details(row: dict) -> dict:
    details = row.get("details")
    return details if isinstance(details, dict) else json.loads(details or "{}")


async def history_rows(invoice_id: int) -> list[dict]:
    """The status rows of an invoice in the order they happened (acknowledgements left out)."""
    rows = await InvoiceHistory.select().where(InvoiceHistory.invoice == invoice_id).order_by(InvoiceHistory.id).output(load_json=True)
    return [row | {"details": _details(row)} for row in rows if not _details(row).get("acknowledged")]


def reform_code(status: str) -> str:
    return STATUSES[status].code_2026 if status in STATUSES else ""


def event_summary(row: dict) -> dict[str, Any]:
    """One event as the API lists it (without its URL)."""
    code = reform_code(row["status"])
    reason = row["reason_code"] or ""
    payment = row["details"].get("payment") or None
    return {
        "id": row["id"], "status": row["status"], "status_label": label(row["status"]),
        "code": code or None, "label": REFORM_LABELS.get(code, "") or None, "date": row["created_at"],
        "actor_kind": row["actor_kind"], "reason_code": reason or None,
        "reason_label": reason_label(reason) if reason else None,
        "reform_reason_code": reform_reason(row["status"], reason) or None, "comment": row["comment"] or "",
        "payment": {"date": payment["date"], "amount": payment["amount"]} if payment else None,
    }


def _party(invoice: Invoice, role: str) -> cdar.Party:
    if role == "SE":
        return cdar.Party(invoice.seller_siret[:9], invoice.seller_name, "SE")
    return cdar.Party(invoice.buyer_siret[:9], invoice.buyer_name, "BY")


def _amounts(invoice: Invoice, row: dict) -> tuple[list[cdar.Collection], str]:
    payment = row["details"].get("payment")
    if not payment or row["status"] not in ("ENCAISSEE", "MISE_EN_PAIEMENT"):
        return [], ""
    data = invoice.data if isinstance(invoice.data, dict) else json.loads(invoice.data or "{}")
    amount = Decimal(str(payment["amount"]))
    return cdar.split_by_rate(amount, data.get("vat_breakdown") or []), "MEN" if row["status"] == "ENCAISSEE" else "MPA"


def event_of(invoice: Invoice, row: dict) -> cdar.LifecycleEvent | None:
    """The lifecycle message's content for one history row; None when the step has no reform status."""
    code = reform_code(row["status"])
    if not code:
        return None
    if code in cdar.TRANSMISSION_CODES or row["actor_kind"] == "platform":
        issuer, recipient = None, _party(invoice, "SE")  # the platform tells the supplier
    elif row["actor_kind"] == "supplier":
        issuer, recipient = _party(invoice, "SE"), _party(invoice, "BY")
    else:
        issuer, recipient = _party(invoice, "BY"), _party(invoice, "SE")
    reason = reform_reason(row["status"], row["reason_code"] or "")
    text = " — ".join(part for part in (reason_label(row["reason_code"]) if row["reason_code"] else "", row["comment"] or "") if part)
    amounts, amount_type = _amounts(invoice, row)
    payment = row["details"].get("payment") or {}
    set_at: datetime = row["created_at"]
    return cdar.LifecycleEvent(
        message_id=f"FACTEUR-{invoice.id}-{row['id']}-{code}", code=code, set_at=set_at,
        invoice_number=invoice.number, invoice_type=invoice.type_code, invoice_date=invoice.issue_date,
        received_at=invoice.deposited_at, currency=invoice.currency, issuer=issuer, recipient=recipient,
        seller_siren=invoice.seller_siret[:9], reason_code=reason, reason_text=text if reason else "",
        amounts=amounts, amount_type=amount_type,
        amounts_date=datetime.fromisoformat(payment["date"]).date() if payment.get("date") else None,
    )


async def message(invoice: Invoice, event_id: int) -> bytes | None:
    """The CDAR message of one of the invoice's events; None when there is none."""
    row = next((r for r in await history_rows(invoice.id) if r["id"] == event_id), None)
    event = event_of(invoice, row) if row is not None else None
    return cdar.build(event) if event is not None else None
