"""The invoices of the active structure (sent or received), newest first, by keyset pages."""

from __future__ import annotations

from backend.invoices.tables import Invoice
from backend.web import CurrentUser

PAGE_SIZE = 25
COLUMNS = (Invoice.id, Invoice.number, Invoice.type_code, Invoice.status, Invoice.status_code, Invoice.seller_name,
           Invoice.buyer_name, Invoice.total_incl_vat, Invoice.currency, Invoice.issue_date, Invoice.supplier)


async def invoice_list(current: CurrentUser, before: int | None) -> tuple[list[dict], int | None]:
    if not current.active:
        return [], None
    structure_id = current.structure_id
    query = Invoice.select(*COLUMNS).where((Invoice.supplier == structure_id) | (Invoice.recipient == structure_id))
    if before:
        query = query.where(Invoice.id < before)
    rows = await query.order_by(Invoice.id, ascending=False).limit(PAGE_SIZE + 1)
    for row in rows:
        row["sent"] = row["supplier"] == structure_id
    return rows[:PAGE_SIZE], (rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None)
