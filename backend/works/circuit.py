"""The works circuits' pieces and deadlines (CCAG Travaux art. 12; issue #11).

Monthly (CIRCUITS[WORKS_MONTHLY]):
    A4  projet de décompte mensuel   titulaire → MOE (7 days: reminder 2 days before, then HORS_DELAI_MOE)
    A15 état d'acompte               filed when the MOE accepts (or corrects) the A4 → MOA
    A19 état d'acompte validé        filed when the MOA validates the A15 → the payer's "Factures reçues"

Final (CIRCUITS[WORKS_FINAL]), then the tacit procedure (CIRCUITS[WORKS_TACIT]):
    A7  projet de décompte final     titulaire (A14: a co-contractor, validated by the mandataire first) → MOE,
                                     the same 7 days and steps as an A4
    A17 projet de décompte général   filed when the MOE accepts the A7: the balance (solde) = the final cumul −
                                     the last accepted monthly cumul → MOA, whose MOA_DAYS run (art. 12.4.2)
    A20 décompte général             filed when the MOA validates the A17 (or the A22) → the titulaire signs it
                                     (or refuses to: mémoire en réclamation, RECLAMATION_TITULAIRE)
    A8  décompte général et définitif filed when the titulaire signs the A20 → the payer
    A22 projet de décompte général tacite  the MOA let MOA_DAYS pass: the titulaire files it, the A17 is
                                     REMPLACEE_A22 (Chorus Pro: REMPLACEE_PAR_A22); TACIT_DAYS run (art. 12.4.4)
    A23 décompte général et définitif tacite  the MOA let TACIT_DAYS pass: the titulaire files it → the payer

The statuses and who may take each step are data in the lifecycle (CIRCUITS[WORKS_MONTHLY]);
this module only builds the rows of the pieces the lifecycle files (never their status
history: the lifecycle writes it), parses and checks statements, and schedules the MOE's
deadline rows (backend/processing/deadlines.py). It does not import the lifecycle.

A piece's `data` carries, under "works", the cumulative statement (cumuls since the start of
the market, HT), its period, the previous accepted statement, and the état d'acompte's lines
as computed by backend/works/acompte.py, so every actor reads the same lines.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from backend.directory.tables import Service, Structure
from backend.invoices import storage
from backend.invoices.tables import Invoice
from backend.invoices.statuses import STATUSES
from backend.lib.common import PARIS, utcnow
from backend.processing import deadlines
from backend.works import acompte
from backend.works.acompte import AcompteError, Statement, Terms
from backend.settings import get_settings
from backend.works.tables import BillingFile, Market

DAYS = 7  # the MOE's delay to accept or correct a projet de décompte mensuel (CCAG Travaux 12.2)
REMIND_BEFORE = timedelta(days=2)
OVERDUE_KIND = "works_moe_overdue"
REMINDER_KIND = "works_moe_reminder"
STATEMENT = "A4"
SUBCONTRACTOR_STATEMENT, COCONTRACTOR_STATEMENT = "A10", "A13"  # validated by the titulaire or mandataire first
STATEMENTS = (STATEMENT, SUBCONTRACTOR_STATEMENT, COCONTRACTOR_STATEMENT)
ETAT = "A15"
VALIDATED = "A19"
FINAL_STATEMENT, COCONTRACTOR_FINAL = "A7", "A14"  # the A14 is validated by the mandataire first
FINAL_STATEMENTS = (FINAL_STATEMENT, COCONTRACTOR_FINAL)
FINAL_REFUSED = ("REFUSEE_MOE", "REFUSEE_1", "REFUSEE_2")  # a projet de décompte final that another may replace
GENERAL_PROJECT, GENERAL, DGD = "A17", "A20", "A8"
TACIT_PROJECT, TACIT_DGD = "A22", "A23"
FINAL_PIECES = (*FINAL_STATEMENTS, GENERAL_PROJECT, GENERAL, DGD, TACIT_PROJECT, TACIT_DGD)
PAYER_PIECES = (VALIDATED, DGD, TACIT_DGD)  # what the payer receives and processes as an invoice
# CCAG Travaux 2021, art. 12.4.2: the MOA notifies the signed décompte général to the titulaire within
# 30 days of the MOE's receipt of the projet de décompte final. Art. 12.4.4: past that delay the titulaire
# notifies its own signed projet de décompte général (A22) to the MOA, copied to the MOE; when the MOA
# has not notified the décompte général within 10 days of receiving it, the titulaire's projet becomes
# the décompte général et définitif (A23, tacit).
MOA_DAYS = 30
TACIT_DAYS = 10
MOA_OVERDUE_KIND = "works_moa_overdue"
MOA_REMINDER_KIND = "works_moa_reminder"
MOA_REMIND_BEFORE = {GENERAL_PROJECT: timedelta(days=5), TACIT_PROJECT: timedelta(days=2)}  # of 30 and 10 days
# Why the titulaire refuses to sign the décompte général (art. 12.4.3: its reserves, in a mémoire en réclamation).
CLAIM_REASONS = {
    "SOLDE_CONTESTE": "Montant du solde contesté",
    "PENALITES_CONTESTEES": "Pénalités contestées",
    "TRAVAUX_NON_RETENUS": "Travaux ou prestations non retenus",
    "REVISION_PRIX": "Révision des prix contestée",
    "AUTRE": "Autre motif (expliqué dans le commentaire)",
}
# The piece each step files: its kind (in its data) and its number's suffix.
PIECE_KINDS = {ETAT: ("etat_acompte", "EA"), VALIDATED: ("etat_acompte_valide", "EAV"), GENERAL_PROJECT: ("projet_decompte_general", "PDG"),
               GENERAL: ("decompte_general", "DG"), DGD: ("decompte_general_definitif", "DGD"),
               TACIT_PROJECT: ("projet_decompte_general_tacite", "PDGT"), TACIT_DGD: ("decompte_general_definitif_tacite", "DGDT")}
FIELDS = tuple(acompte.STATEMENT_LABELS)  # works, supplies, price_revision, bonuses, expenses, penalties, advance_repaid
CENT = Decimal("0.01")


class StatementError(Exception):
    """A statement that cannot be filed or a correction that cannot be made: code, French message, field."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


# --- statements (pure) ---------------------------------------------------------------------------

def parse_amount(raw: Any, name: str) -> Decimal:
    """A cumulative amount as typed ("12 500,50") or sent ("12500.50"); never a float."""
    if isinstance(raw, (float, bool)):
        raise StatementError("amount_invalid", f"{acompte.STATEMENT_LABELS[name]} : envoyez le montant en texte (« 12500.50 »).", name)
    text = str(raw if raw is not None else "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not text:
        return Decimal("0.00")
    try:
        value = Decimal(text)
    except Exception:
        raise StatementError("amount_invalid", f"{acompte.STATEMENT_LABELS[name]} : « {str(raw)[:30]} » n'est pas un montant.", name) from None
    if not value.is_finite() or value != value.quantize(CENT) or abs(value) > Decimal("9999999999999.99"):
        raise StatementError("amount_invalid", f"{acompte.STATEMENT_LABELS[name]} : un montant en euros, deux décimales au plus.", name)
    if value < 0 and name != "price_revision":
        raise StatementError("amount_negative", f"{acompte.STATEMENT_LABELS[name]} : un cumul ne peut pas être négatif.", name)
    return value.quantize(CENT)


def statement_of(raw: dict[str, Any]) -> Statement:
    return Statement(**{name: parse_amount(raw.get(name), name) for name in FIELDS})


def as_json(statement: Statement) -> dict[str, str]:
    return {name: f"{getattr(statement, name):.2f}" for name in FIELDS}


def from_json(raw: dict[str, str] | None) -> Statement | None:
    return None if raw is None else Statement(**{name: Decimal(raw.get(name, "0")) for name in FIELDS})


def terms_of(raw: dict[str, Any] | None) -> Terms:
    raw = raw or {}
    return Terms(vat_rate=Decimal(str(raw.get("vat_rate", "0.20"))), retenue_rate=Decimal(str(raw.get("retenue_rate", "0.05"))),
                 caution=bool(raw.get("caution", False)))


def terms_json(terms: Terms) -> dict[str, Any]:
    return {"vat_rate": str(terms.vat_rate), "retenue_rate": str(terms.retenue_rate), "caution": terms.caution}


def compute(current: Statement, previous: Statement | None, terms: Terms) -> acompte.EtatAcompte:
    try:
        return acompte.compute(current, previous, terms)
    except AcompteError as exc:
        raise StatementError(exc.code, exc.message) from None


def lines_json(etat: acompte.EtatAcompte) -> list[dict[str, Any]]:
    return [{"code": line.code, "letter": line.letter, "label": line.label, "amount": f"{line.amount:.2f}", "sign": line.sign}
            for line in etat.lines]


def totals(etat: acompte.EtatAcompte) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(HT, TVA, TTC, à payer) of an état d'acompte."""
    excl, vat = etat.line("excl_vat").amount, etat.line("vat").amount
    return excl, vat, excl + vat, etat.total


def corrected_fields(asked: Statement, corrected: Statement) -> list[str]:
    return [name for name in FIELDS if getattr(asked, name) != getattr(corrected, name)]


def works_data(invoice: Invoice | dict) -> dict[str, Any]:
    data = invoice["data"] if isinstance(invoice, dict) else invoice.data
    if isinstance(data, (str, bytes)):
        data = json.loads(data or "{}")
    return (data or {}).get("works") or {}


def _document(works: dict[str, Any], vat_rate: Decimal, excl: Decimal, vat: Decimal) -> str:
    """The piece's `data`: the works statement, with a VAT breakdown as the invoice pages read it."""
    return json.dumps({"works": works, "lines": [], "vat_breakdown": [
        {"rate": f"{vat_rate * 100:.2f}", "taxable": f"{excl:.2f}", "tax": f"{vat:.2f}"}]}, ensure_ascii=False)


# --- reading the market's history ---------------------------------------------------------------

async def previous_statement(market_id: int, supplier_id: int, before_id: int | None = None) -> Statement | None:
    """The last statement the MOE accepted (or corrected) for this company in this market: the
    cumul the next acompte is computed from. An état d'acompte sent back by the MOA does not count."""
    query = Invoice.select(Invoice.data).where(
        (Invoice.market == market_id) & (Invoice.supplier == supplier_id) & (Invoice.billing_framework == ETAT)
        & (Invoice.status != "REFUSEE_MOA"))
    if before_id is not None:
        query = query.where(Invoice.id < before_id)
    row = await query.order_by(Invoice.id, ascending=False).first()
    return from_json(works_data(row).get("statement")) if row else None


# --- building pieces (rows only: the lifecycle writes their history) ---------------------------

def _certificate() -> str:
    return f"TX{utcnow():%Y%m%d}-{secrets.token_hex(4).upper()}"


async def _original(settings, works: dict[str, Any]) -> int:
    """The piece's original: its statement as JSON (a works piece is entered, not uploaded)."""
    raw = json.dumps(works, ensure_ascii=False, sort_keys=True).encode()
    digest = await storage.write_blob(settings, raw)
    return await storage.file_row(digest, len(raw), "application/json")


async def build_piece(settings, *, framework: str, market: Market, dossier_id: int, supplier: Structure, recipient: Structure,
                      number: str, status: str, works: dict[str, Any], etat: acompte.EtatAcompte, terms: Terms,
                      service_code: str = "", payment_due_by: date | None = None, validator: int | None = None) -> Invoice:
    """Save one piece of the market (inside the caller's transaction) and return it."""
    excl, vat, incl, due = totals(etat)
    works = {**works, "lines": lines_json(etat), "warnings": etat.warnings, "terms": terms_json(terms)}
    file_id = await _original(settings, works)
    now = utcnow()
    piece = Invoice(
        supplier=supplier.id, recipient=recipient.id, deposit=None, original_file=file_id, original_name=f"{number}.json",
        format="works", profile=None, number=number[:100], number_year=now.astimezone(PARIS).year, type_code="380",
        issue_date=now.astimezone(PARIS).date(), due_date=None, currency="EUR", service_code=service_code[:100],
        engagement=(market.engagement or "")[:50], billing_framework=framework, seller_siret=supplier.siret,
        buyer_siret=recipient.siret, seller_name=supplier.name[:255], buyer_name=recipient.name[:255],
        total_excl_vat=excl, total_vat=vat, total_incl_vat=incl, amount_due=due,
        data=_document(works, terms.vat_rate, excl, vat), status=status, status_code=STATUSES[status].code_2026,
        certificate_number=_certificate(), payment_due_by=payment_due_by, market=market.id, dossier=dossier_id, validator_1=validator,
        deposited_at=now, updated_at=now,
    )
    await piece.save()
    return piece


async def _numbered(invoice: Invoice, framework: str, suffix: str) -> str:
    """A follow-up piece's number: the statement's, with a suffix (a second état d'acompte of the
    same dossier, after the MOA sent the first back, gets a rank: the number stays unique)."""
    base = works_data(invoice).get("statement_number") or invoice.number
    count = await Invoice.count().where((Invoice.dossier == invoice.dossier) & (Invoice.billing_framework == framework))
    return f"{base[:90]}-{suffix}" + (str(count + 1) if count else "")


async def payer_of(invoice: Invoice) -> Structure:
    market = await Market.objects().get(Market.id == invoice.market)
    return await Structure.objects().get(Structure.id == market.payer)


async def file_etat(statement: Invoice, details: dict[str, Any], *, by_titulaire: bool, framework: str = ETAT) -> Invoice:
    """The MOE's état d'acompte (A15) for the MOA, from the statement as accepted (or corrected), or,
    when the titulaire transmits a statement its MOE left unanswered, from the statement as asked.
    For a projet de décompte final (A7, A14), the MOE's projet de décompte général (A17): the same
    computation, whose difference is the balance (final cumul − last accepted monthly cumul)."""
    settings = get_settings()
    market = await Market.objects().get(Market.id == statement.market)
    works = works_data(statement)
    accepted = from_json(details["statement"])
    previous = await previous_statement(market.id, statement.supplier)
    terms = terms_of(works.get("terms"))
    etat = compute(accepted, previous, terms)
    supplier = await Structure.objects().get(Structure.id == statement.supplier)
    moa = await Structure.objects().get(Structure.id == market.moa)
    kind, suffix = PIECE_KINDS[framework]
    data = {"kind": kind, "source": statement.id, "statement_number": works.get("statement_number") or statement.number,
            "period_start": works.get("period_start"), "period_end": works.get("period_end"),
            "asked": works.get("statement"), "statement": as_json(accepted), "previous": as_json(previous) if previous else None,
            "corrected": details.get("corrected") or {}, "transmitted_by_titulaire": by_titulaire}
    return await build_piece(settings, framework=framework, market=market, dossier_id=statement.dossier, supplier=supplier,
                             recipient=moa, number=await _numbered(statement, framework, suffix), status="MISE_A_DISPOSITION_MOA",
                             works=data, etat=etat, terms=terms)


async def file_following(source: Invoice, framework: str, *, status: str, payment_due_by: date | None = None) -> Invoice:
    """A piece filed from the previous one with the same lines: the validated état d'acompte (A19), the
    décompte général (A20, for the titulaire to sign; its recipient is the MOA that filed it), the DGD
    (A8), the tacit pieces (A22 for the MOA, A23). A payer's piece (PAYER_PIECES) goes to the market's
    payer, with its service, and a payment deadline."""
    settings = get_settings()
    market = await Market.objects().get(Market.id == source.market)
    works = works_data(source)
    terms = terms_of(works.get("terms"))
    etat = compute(from_json(works["statement"]), from_json(works.get("previous")), terms)
    supplier = await Structure.objects().get(Structure.id == source.supplier)
    service_code = ""
    if framework in PAYER_PIECES:
        recipient = await Structure.objects().get(Structure.id == market.payer)
        service = await Service.select(Service.code).where(Service.id == market.payer_service).first() if market.payer_service else None
        service_code = service["code"] if service else ""
    else:
        recipient = await Structure.objects().get(Structure.id == market.moa)
    kind, suffix = PIECE_KINDS[framework]
    data = {**{k: v for k, v in works.items() if k not in ("lines", "warnings", "terms")}, "kind": kind, "source": source.id}
    return await build_piece(settings, framework=framework, market=market, dossier_id=source.dossier, supplier=supplier,
                             recipient=recipient, number=await _numbered(source, framework, suffix), status=status,
                             works=data, etat=etat, terms=terms, service_code=service_code, payment_due_by=payment_due_by)


async def file_validated(etat_piece: Invoice, payment_due_by: date) -> Invoice:
    """The MOA's validated état d'acompte (A19): the same lines, for the payer's "Factures reçues"."""
    return await file_following(etat_piece, VALIDATED, status="MISE_A_DISPOSITION", payment_due_by=payment_due_by)


async def dossier_for(market_id: int, number: str, period_start: date, period_end: date, user_id: int | None) -> int:
    row = BillingFile(market=market_id, number=number[:50], period_start=period_start, period_end=period_end,
                      created_by=user_id, created_at=utcnow())
    await row.save()
    return row.id


# --- deadlines -----------------------------------------------------------------------------------

def due_at(since: datetime) -> datetime:
    return since + timedelta(days=DAYS)


async def schedule_deadlines(invoice_id: int, now: datetime) -> datetime:
    due = due_at(now)
    await deadlines.schedule(OVERDUE_KIND, invoice_id, due, {})
    await deadlines.schedule(REMINDER_KIND, invoice_id, due - REMIND_BEFORE, {"due_at": due.isoformat()})
    return due


async def cancel_deadlines(invoice_id: int, *, keep_overdue: bool = False) -> None:
    await deadlines.cancel(REMINDER_KIND, invoice_id)
    if not keep_overdue:
        await deadlines.cancel(OVERDUE_KIND, invoice_id)


def moa_days(framework: str) -> int:
    """The MOA's delay on a projet de décompte général: 30 days on the A17 (art. 12.4.2), 10 on the tacit A22 (art. 12.4.4)."""
    return MOA_DAYS if framework == GENERAL_PROJECT else TACIT_DAYS


def moa_due_at(since: datetime, framework: str) -> datetime:
    """The MOA's deadline: from the MOE's receipt of the projet de décompte final (A17), from its own
    receipt of the tacit projet (A22)."""
    return since + timedelta(days=moa_days(framework))


async def schedule_moa_deadline(invoice_id: int, due: datetime, framework: str) -> None:
    await deadlines.schedule(MOA_OVERDUE_KIND, invoice_id, due, {})
    await deadlines.schedule(MOA_REMINDER_KIND, invoice_id, due - MOA_REMIND_BEFORE[framework], {"due_at": due.isoformat()})


async def cancel_moa_deadline(invoice_id: int) -> None:
    await deadlines.cancel(MOA_REMINDER_KIND, invoice_id)
    await deadlines.cancel(MOA_OVERDUE_KIND, invoice_id)


def days_left(due: datetime | None, now: datetime) -> int | None:
    if due is None:
        return None
    return max((due.astimezone(PARIS).date() - now.astimezone(PARIS).date()).days, 0)
