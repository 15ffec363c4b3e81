"""The "Notifications" page: what happened on the active structure's invoices that it has not seen.

Threads with unread messages first (newest message first), then the questions (threads
without an invoice) with unread messages, then the recent status changes made by the other
side or the platform (the structure's own changes are not news to it).
"""

from __future__ import annotations

from backend.invoices.statuses import label
from backend.invoices.tables import InvoiceHistory
from backend.messages.questions import questions_of
from backend.messages.service import unread_threads

RECENT_CHANGES = 20


async def recent_changes(structure_id: int, limit: int = RECENT_CHANGES) -> list[dict]:
    rows = await InvoiceHistory.select(
        InvoiceHistory.id, InvoiceHistory.status, InvoiceHistory.status_code, InvoiceHistory.actor_kind,
        InvoiceHistory.reason_code, InvoiceHistory.created_at, InvoiceHistory.invoice.id, InvoiceHistory.invoice.number,
        InvoiceHistory.invoice.supplier,  # the other side by its registered name, as on the invoice page
        InvoiceHistory.invoice.supplier.name.as_alias("supplier_name"), InvoiceHistory.invoice.recipient.name.as_alias("recipient_name"),
    ).where(
        (InvoiceHistory.invoice.supplier == structure_id) | (InvoiceHistory.invoice.recipient == structure_id)
    ).order_by(InvoiceHistory.id, ascending=False).limit(limit * 3)
    changes = []
    for row in rows:
        own_side = "supplier" if row["invoice.supplier"] == structure_id else "recipient"
        if row["actor_kind"] == own_side:
            continue
        changes.append({**row, "label": label(row["status"]),
                        "other_name": row["recipient_name"] if own_side == "supplier" else row["supplier_name"]})
    return changes[:limit]


async def notifications_context(current) -> dict:
    structure_id = current.structure_id
    if structure_id is None:
        return {"threads": [], "questions": [], "changes": []}
    unread_questions = await questions_of(structure_id, unread_only=True)
    return {"threads": await unread_threads(structure_id), "questions": unread_questions,
            "changes": await recent_changes(structure_id)}
