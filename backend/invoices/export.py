"""Exports of an invoice list (with the list's filters) and of the deposits history.

Two formats. CSV for a French spreadsheet (LibreOffice, Excel): UTF-8 with a BOM (Excel
reads it as UTF-8 only then), `;` between fields, comma decimals, dd/mm/yyyy dates. XLSX:
numbers as numeric cells and dates as date cells, SIRETs and invoice numbers as text
(a CSV cannot stop Excel from reading 14 digits as a number in scientific notation).

Neither holds the list in memory: rows are read in keyset batches of BATCH rows (the
list's own pages, `workspace.list_page`, so the filters and the order are the list's);
the CSV is streamed batch by batch; the XLSX is written row by row to a temporary file
by XlsxWriter in constant-memory mode, in a worker thread, then the file is streamed.

A text cell that starts like a formula (`=`, `+`, `-`, `@`) is written so that no
spreadsheet runs it: an invoice number is typed by the supplier, and opened by an agent.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import anyio
import xlsxwriter
from litestar.response import Stream

from backend.invoices import workspace
from backend.invoices.generation.model import TYPE_LABELS
from backend.invoices.statuses import label
from backend.invoices.tables import Deposit, Invoice, InvoiceHistory
from backend.lib.formats import PARIS

BATCH = 1000
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FILE_CHUNK = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)

Cell = str | int | Decimal | date | datetime | None


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # in characters, for the XLSX


INVOICE_COLUMNS = (
    Column("N° de facture", 18), Column("Type", 9), Column("Date d'émission", 12), Column("Date d'échéance", 12),
    Column("Fournisseur", 30), Column("SIRET du fournisseur", 16), Column("Destinataire", 30),
    Column("SIRET du destinataire", 16), Column("Code service", 14), Column("N° d'engagement", 16),
    Column("Montant HT", 14), Column("Montant TVA", 12), Column("Montant TTC", 14), Column("Devise", 7),
    Column("Statut", 20), Column("Code statut 2026", 8), Column("Date du dernier statut", 12),
    Column("N° de mandat", 16), Column("Date de paiement", 12), Column("Montant payé", 14),
)

# What an exported invoice row reads: the list's filters apply to the same query.
EXPORT_COLUMNS = (
    Invoice.id, Invoice.number, Invoice.type_code, Invoice.issue_date, Invoice.due_date,
    Invoice.supplier.name.as_alias("supplier_name"), Invoice.supplier.siret.as_alias("supplier_siret"),
    Invoice.recipient.name.as_alias("recipient_name"), Invoice.recipient.siret.as_alias("recipient_siret"),
    Invoice.service_code, Invoice.engagement, Invoice.total_excl_vat, Invoice.total_vat, Invoice.total_incl_vat,
    Invoice.currency, Invoice.status, Invoice.status_code,
)


def file_name(stem: str, fmt: str, today: date | None = None) -> str:
    return f"{stem}-{(today or datetime.now(PARIS).date()).isoformat()}.{fmt}"


# --- reading -------------------------------------------------------------------------------------

async def invoice_batches(side: str, structure_id: int, filters: workspace.Filters) -> AsyncIterator[list[tuple]]:
    """The filtered list, newest first, BATCH invoices at a time, as rows of INVOICE_COLUMNS."""
    filters = workspace.with_cursor(filters, None)  # the whole list, not from the page shown
    while True:
        page = await workspace.list_page(side, structure_id, filters, page_size=BATCH, columns=EXPORT_COLUMNS)
        if page.rows:
            history = await _history_facts([r["id"] for r in page.rows])
            yield [_invoice_cells(r, history.get(r["id"], {})) for r in page.rows]
        if not page.next_cursor:
            return
        filters = workspace.with_cursor(filters, page.next_cursor)


async def _history_facts(invoice_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per invoice: its last status date, mandate number, last payment date and amount paid.

    Two queries per batch on the history's invoice index; only the mandate and payment
    rows are read whole (their details hold the numbers).
    """
    facts: dict[int, dict[str, Any]] = {i: {} for i in invoice_ids}
    marks = ", ".join("{}" for _ in invoice_ids)
    latest = await InvoiceHistory.raw(
        f"SELECT invoice, MAX(created_at) AS at FROM invoice_history WHERE invoice IN ({marks}) GROUP BY invoice",
        *invoice_ids)
    for row in latest:
        facts[row["invoice"]]["last_status"] = _paris_date(row["at"])
    steps = await InvoiceHistory.select(InvoiceHistory.invoice, InvoiceHistory.status, InvoiceHistory.details).where(
        InvoiceHistory.invoice.is_in(invoice_ids) & InvoiceHistory.status.is_in(["MANDATEE", "MISE_EN_PAIEMENT"])
    ).order_by(InvoiceHistory.id)
    for row in steps:
        details = row["details"]
        details = json.loads(details or "{}") if isinstance(details, str) else (details or {})
        fact = facts[row["invoice"]]
        if row["status"] == "MANDATEE" and details.get("mandate_number"):
            fact["mandate"] = details["mandate_number"]
        payment = details.get("payment") if row["status"] == "MISE_EN_PAIEMENT" else None
        if payment:  # partial payments add up; the date is the last one's
            fact["paid_on"] = date.fromisoformat(payment["date"])
            fact["paid"] = fact.get("paid", Decimal(0)) + Decimal(str(payment["amount"]))
    return facts


def _invoice_cells(row: dict, facts: dict[str, Any]) -> tuple[Cell, ...]:
    return (
        row["number"], TYPE_LABELS.get(row["type_code"], row["type_code"]), _as_date(row["issue_date"]),
        _as_date(row["due_date"]), row["supplier_name"], row["supplier_siret"], row["recipient_name"],
        row["recipient_siret"], row["service_code"] or None, row["engagement"] or None,
        _money(row["total_excl_vat"]), _money(row["total_vat"]), _money(row["total_incl_vat"]), row["currency"],
        label(row["status"]), row["status_code"] or None, facts.get("last_status"), facts.get("mandate"),
        facts.get("paid_on"), _money(facts["paid"]) if "paid" in facts else None,
    )


DEPOSIT_COLUMNS = (
    Column("N° de dépôt", 11), Column("Date", 17), Column("Canal", 18), Column("État", 22),
    Column("Fichiers", 9), Column("Intégrés", 9), Column("Refusés", 9),
)
CHANNELS = {"web": "Dépôt en ligne", "zip": "Archive ZIP", "capture": "Saisie", "api": "API", "cli": "Ligne de commande"}
DEPOSIT_STATES = {"IN_INTEGRE": "Intégré", "IN_INTEGRE_PARTIEL": "Intégré partiellement", "IN_REJETE": "Rejeté"}


async def deposit_batches(structure_id: int) -> AsyncIterator[list[tuple]]:
    """The structure's deposits, newest first (the history page's order), BATCH at a time."""
    before: int | None = None
    while True:
        query = Deposit.select(Deposit.id, Deposit.created_at, Deposit.channel, Deposit.state, Deposit.file_count,
                               Deposit.accepted_count, Deposit.rejected_count).where(Deposit.structure == structure_id)
        if before is not None:
            query = query.where(Deposit.id < before)
        rows = await query.order_by(Deposit.id, ascending=False).limit(BATCH)
        if rows:
            yield [(r["id"], _paris_time(r["created_at"]), CHANNELS.get(r["channel"], r["channel"]),
                    DEPOSIT_STATES.get(r["state"], r["state"]), r["file_count"], r["accepted_count"], r["rejected_count"])
                   for r in rows]
        if len(rows) < BATCH:
            return
        before = rows[-1]["id"]


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    # SQLite's MAX() gives the stored text; Piccolo stores UTC there and reads it the same way.
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _paris_time(value) -> datetime | None:
    """A naive Paris wall-clock time: what a spreadsheet shows (cells have no time zone)."""
    moment = _as_datetime(value)
    return moment.astimezone(PARIS).replace(tzinfo=None, microsecond=0) if moment else None


def _paris_date(value) -> date | None:
    moment = _paris_time(value)
    return moment.date() if moment else None


CENT = Decimal("0.01")


def _money(value) -> Decimal | None:
    if value is None:
        return None
    amount = value if type(value) is Decimal else Decimal(str(value))
    return amount if amount.as_tuple().exponent == -2 else amount.quantize(CENT)


def _safe_text(text: str) -> str:
    # OWASP's advice for CSV injection: a leading quote makes the cell text in every spreadsheet.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- CSV -----------------------------------------------------------------------------------------

BOM = "\ufeff"


def csv_cell(value: Cell) -> str:
    kind = type(value)  # exact types first: this runs for every cell of 100,000 rows
    if kind is str:
        return "'" + value if value[:1] in FORMULA_FIRST else value
    if value is None:
        return ""
    if kind is Decimal:
        return str(value).replace(".", ",")  # quantized to the cent: never in exponent form
    if kind is date:
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    if kind is datetime:
        return f"{value.day:02d}/{value.month:02d}/{value.year} {value.hour:02d}:{value.minute:02d}"
    if kind is int:
        return str(value)
    return _safe_text(str(value))


def csv_lines(rows: Iterable[Sequence[Cell]], header: Sequence[Column] | None = None) -> bytes:
    """`rows` (after the BOM and the header line, when given) as UTF-8 CSV bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    if header is not None:
        buffer.write(BOM)
        writer.writerow([c.title for c in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def csv_stream(columns: Sequence[Column], batches: AsyncIterator[list[tuple]]) -> AsyncIterator[bytes]:
    """One chunk for the header, then one per batch: the response starts before the last row is read."""
    yield csv_lines((), columns)
    async for rows in batches:
        yield csv_lines(rows)


# --- XLSX ----------------------------------------------------------------------------------------

class XlsxFile:
    """A workbook written row by row to a temporary folder (constant memory: one row at a time)."""

    def __init__(self, columns: Sequence[Column], sheet_name: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="facteur-export-"))
        self.path = self.folder / "export.xlsx"
        self.book = xlsxwriter.Workbook(str(self.path), {
            "constant_memory": True, "tmpdir": str(self.folder), "strings_to_numbers": False,
            "strings_to_formulas": False, "strings_to_urls": False,
        })
        self.sheet = self.book.add_worksheet(sheet_name)
        bold = self.book.add_format({"bold": True})
        self.formats = {
            date: self.book.add_format({"num_format": "dd/mm/yyyy"}),
            datetime: self.book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
            Decimal: self.book.add_format({"num_format": "#,##0.00"}),
        }
        for index, column in enumerate(columns):
            self.sheet.set_column(index, index, column.width)
            self.sheet.write_string(0, index, column.title, bold)
        self.sheet.freeze_panes(1, 0)
        self.width = len(columns)
        self.next_row = 1

    def write_rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        sheet, formats = self.sheet, self.formats
        for row in rows:
            r = self.next_row
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)  # never a formula, a number or a link
                elif isinstance(value, Decimal):
                    # A double holds any amount below 10^13 to the cent exactly enough to show it.
                    sheet.write_number(r, c, float(value), formats[Decimal])
                elif isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, formats[datetime])
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, formats[date])
                else:
                    sheet.write_number(r, c, value)
            self.next_row += 1

    def close(self) -> None:
        if self.next_row > 1:
            self.sheet.autofilter(0, 0, self.next_row - 1, self.width - 1)
        self.book.close()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


async def xlsx_file(columns: Sequence[Column], batches: AsyncIterator[list[tuple]], sheet_name: str) -> IO[bytes]:
    """The finished workbook, open for reading; its folder is already removed (the open
    file lives until closed), so nothing is left behind whatever happens to the download."""
    workbook = await anyio.to_thread.run_sync(XlsxFile, columns, sheet_name)
    try:
        async for rows in batches:
            await anyio.to_thread.run_sync(workbook.write_rows, rows)
        await anyio.to_thread.run_sync(workbook.close)
        return await anyio.to_thread.run_sync(open, workbook.path, "rb")
    finally:
        await anyio.to_thread.run_sync(workbook.discard)


async def file_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, FILE_CHUNK):
            yield chunk
    finally:
        handle.close()


# --- the HTTP answer -----------------------------------------------------------------------------

async def download(fmt: str, columns: Sequence[Column], batches: AsyncIterator[list[tuple]], stem: str,
                   sheet_name: str) -> Stream:
    """The export as an attachment: the CSV streamed as it is read, the XLSX once written."""
    headers = {"Content-Disposition": f'attachment; filename="{file_name(stem, fmt)}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Stream(csv_stream(columns, batches), media_type=MEDIA_TYPES["csv"], headers=headers)
    handle = await xlsx_file(columns, batches, sheet_name)
    return Stream(file_chunks(handle), media_type=MEDIA_TYPES["xlsx"], headers=headers)
