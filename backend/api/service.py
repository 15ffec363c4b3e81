"""What the API handlers read and write, kept apart from HTTP: rows in, Structs out."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from decimal import Decimal

import msgspec

from backend.api.problems import ApiProblem
from backend.api.schemas import (
    LateInterestOut,
    AttachmentOut, DepositOut, FileReport, Finding, HistoryEntry, InvoiceDetail, InvoiceRef, InvoiceSummary,
)
from backend.directory.tables import Structure
from backend.lib.common import parse_id
from backend.lib.db import get_object
from backend.invoices.statuses import BEFORE_RECEPTION
from backend.invoices.tables import Attachment, Deposit, DepositItem, Invoice, InvoiceHistory
from backend.processing import late_interest, payment_delays
from backend.processing.reasons import deposit_refusal

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def _decoded(value) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _money(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _file_report(item: dict) -> FileReport:
    findings = msgspec.convert(_decoded(item["findings"]) or [], list[Finding])
    refused = not item["accepted"]
    reason = deposit_refusal([f.rule for f in findings if f.severity == "fatal"])[1] if refused else None
    return FileReport(file=item["filename"], format=item["format"], profile=item["profile"], valid=not refused,
                      status_code_2026=item["status_code"], invoice_id=item["invoice"], findings=findings, reason_code_2026=reason)


async def deposit_out(deposit_id: int) -> DepositOut:
    dep = await Deposit.select().where(Deposit.id == deposit_id).first()
    items = await DepositItem.select().where(DepositItem.deposit == deposit_id).order_by(DepositItem.position)
    invoice_ids = [i["invoice"] for i in items if i["invoice"]]
    invoices = await Invoice.select(Invoice.id, Invoice.number, Invoice.status).where(Invoice.id.is_in(invoice_ids)).order_by(Invoice.id) if invoice_ids else []
    report = [_file_report(i) for i in items]
    return DepositOut(id=dep["id"], state=dep["state"], created_at=dep["created_at"], report=report,
                      invoices=[InvoiceRef(id=r["id"], number=r["number"], status=r["status"]) for r in invoices])


SUMMARY_COLUMNS = (
    Invoice.id, Invoice.number, Invoice.status, Invoice.status_code, Invoice.type_code, Invoice.issue_date, Invoice.due_date,
    Invoice.currency, Invoice.total_excl_vat, Invoice.total_vat, Invoice.total_incl_vat, Invoice.amount_due,
    Invoice.seller_siret, Invoice.service_code, Invoice.engagement, Invoice.version, Invoice.deposited_at,
    Invoice.updated_at, Invoice.recipient.siret.as_alias("recipient_siret"), Invoice.supplier.siret.as_alias("supplier_siret"),
    Invoice.payment_due_by, Invoice.paid_in_full_on, Invoice.payment_clock_stopped, Invoice.billing_framework,
    Invoice.validation_due_at,
    Invoice.validator_1.siret.as_alias("validator_siret"), Invoice.validator_2.siret.as_alias("validator_2_siret"),
)


async def summaries(rows: list[dict]) -> list[InvoiceSummary]:
    """The resources of these rows, the late ones with their interest (payments and rates read once)."""
    views = [(row["id"], payment_delays.state(row), row["amount_due"]) for row in rows]
    await late_interest.add_interest(views)
    return [summary(row, view) for row, (_, view, _) in zip(rows, views, strict=True)]


def _interest_out(late: late_interest.LateInterest | None) -> LateInterestOut | None:
    if late is None:
        return None
    return LateInterestOut(days_late=late.days_late, rate_date=late.rate_date, ecb_rate=str(late.ecb_rate),
                           rate_percent=str(late.rate_percent), interest=str(late.interest), indemnity=str(late.indemnity),
                           total=str(late.total), complete=late.complete)


def summary(row: dict, view: dict) -> InvoiceSummary:
    return InvoiceSummary(
        id=row["id"], number=row["number"], status=row["status"], status_code_2026=row["status_code"],
        type_code=row["type_code"], issue_date=row["issue_date"], due_date=row["due_date"], currency=row["currency"],
        total_excl_vat=_money(row["total_excl_vat"]), total_vat=_money(row["total_vat"]),
        total_incl_vat=_money(row["total_incl_vat"]), amount_due=_money(row["amount_due"]),
        supplier_siret=row["supplier_siret"], recipient_siret=row["recipient_siret"], service_code=row["service_code"],
        engagement=row["engagement"], version=row["version"], deposited_at=row["deposited_at"], updated_at=row["updated_at"],
        payment_due_by=view["due_by"], days_late=view["days_late"], late_interest=_interest_out(view.get("interest")),
        billing_framework=row["billing_framework"], validator_siret=row["validator_siret"],
        validator_2_siret=row["validator_2_siret"], validation_due_at=row["validation_due_at"],
    )


# --- keyset pagination --------------------------------------------------------------------------

def encode_cursor(updated_at: datetime, invoice_id: int) -> str:
    raw = f"{updated_at.astimezone(timezone.utc).isoformat()}|{invoice_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError
        invoice_id = parse_id(ident)
        if invoice_id is None:  # not a number, or too large for the database
            raise ValueError
        return when, invoice_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiProblem(422, "cursor_invalid", "Le curseur de pagination n'est pas valide : reprenez celui de la réponse précédente.") from None


async def invoice_page(side, structure_id: int, *, status: str | None, updated_since: datetime | None,
                       counterpart: str | None, cursor: str | None, limit: int) -> tuple[list[InvoiceSummary], str | None]:
    """Invoices of one side (supplier or recipient column), oldest change first: a poller
    resumes from its last cursor (or updated_since) and sees every later change."""
    query = Invoice.select(*SUMMARY_COLUMNS).where(side == structure_id)
    if side is Invoice.recipient:  # still with its validator: not received yet
        query = query.where(Invoice.status.not_in(list(BEFORE_RECEPTION)))
    if status:
        query = query.where(Invoice.status == status)
    if updated_since is not None:
        query = query.where(Invoice.updated_at > updated_since)
    if counterpart:
        other = Invoice.recipient if side is Invoice.supplier else Invoice.supplier
        query = query.where(other.siret == counterpart)
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where((Invoice.updated_at > when) | ((Invoice.updated_at == when) & (Invoice.id > ident)))
    rows = await query.order_by(Invoice.updated_at, Invoice.id).limit(limit + 1)
    items = await summaries(rows[:limit])
    next_cursor = encode_cursor(rows[limit - 1]["updated_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return items, next_cursor


async def visible_invoice(structure_id: int, invoice_id: int, *, sides: tuple[str, ...] = ("supplier", "recipient")) -> Invoice:
    """The invoice when this structure is on one of `sides`; 404 otherwise (existence never leaks)."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is not None and invoice.status in BEFORE_RECEPTION and invoice.supplier != structure_id:
        sides = tuple(s for s in sides if s != "recipient")  # not received yet
    if invoice is None or not any(getattr(invoice, side) == structure_id for side in sides):
        raise ApiProblem(404, "not_found", "Cette facture n'existe pas ou n'est pas visible avec cette clé.")
    return invoice


async def invoice_detail(invoice: Invoice, actions: list[str]) -> InvoiceDetail:
    row = await Invoice.select(*SUMMARY_COLUMNS).where(Invoice.id == invoice.id).first()
    history = await InvoiceHistory.select().where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id)
    attachments = await Attachment.select(Attachment.id, Attachment.filename, Attachment.media_type, Attachment.role).where(
        Attachment.invoice == invoice.id).order_by(Attachment.id)
    base = msgspec.structs.asdict((await summaries([row]))[0])
    return InvoiceDetail(
        **base, certificate_number=invoice.certificate_number, format=invoice.format, profile=invoice.profile,
        original_name=invoice.original_name, data=_decoded(invoice.data) or {},
        history=[HistoryEntry(status=h["status"], status_code_2026=h["status_code"], actor_kind=h["actor_kind"],
                              reason_code=h["reason_code"], comment=h["comment"], details=_decoded(h["details"]) or {},
                              at=h["created_at"]) for h in history],
        attachments=[AttachmentOut(**a) for a in attachments],
        actions=actions,
    )


async def structure_by_id(structure_id: int) -> Structure:
    structure = await get_object(Structure, "id = {}", structure_id)
    assert structure is not None
    return structure
