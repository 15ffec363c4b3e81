"""Dossiers de facturation: the pieces of one payment request of a market, as one timeline.

A piece is an invoice row (backend/invoices) whose `market` and `dossier` columns name the
market and the dossier. What each piece means in the timeline comes from its billing
framework (cadre de facturation, BT-23), as data below, never from a second state machine:

    asked      the titulaire's (subcontractor's, co-contractor's) projet de décompte mensuel
               or final statement: A4, A5, A7, A10, A13, A14, A22
    accepted   the MOE's état d'acompte / décompte (A15, A16, A17, A18, A24) for the amount asked,
    corrected  …or for another amount (partial acceptance, R.2192-34 CCP)
    validated  the MOA's validated état d'acompte / décompte général (A19, A20, A25)
    paid       payments recorded on the pieces (MISE_EN_PAIEMENT, partial payments included)

Amounts are the pieces' totals as deposited (HT and TTC, Decimal, 2 decimals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.lib.common import utcnow
from backend.lib.db import is_unique_violation, transaction
from backend.works.markets import NOT_FOUND, WorksError, visible_market
from backend.works.tables import BillingFile, Market, MarketActor

ASKED, ACCEPTED, CORRECTED, VALIDATED, PAID = "asked", "accepted", "corrected", "validated", "paid"
STEP_LABELS = {
    ASKED: "Demandé par l'entreprise",
    ACCEPTED: "Accepté par le maître d'œuvre",
    CORRECTED: "Corrigé par le maître d'œuvre",
    VALIDATED: "Validé par le maître d'ouvrage",
    PAID: "Payé",
}
STEP_BY_FRAMEWORK = {
    # The DGD (A8) and the tacit DGD (A23) repeat the décompte général: no step of their own, their payments are.
    **dict.fromkeys(("A4", "A5", "A7", "A10", "A13", "A14", "A22"), ASKED),
    **dict.fromkeys(("A15", "A16", "A17", "A18", "A24"), ACCEPTED),  # CORRECTED when the amount differs
    **dict.fromkeys(("A19", "A20", "A25"), VALIDATED),
}
# The dossier's summary: the furthest step any of its pieces reached.
SUMMARY_ORDER = (ASKED, ACCEPTED, CORRECTED, VALIDATED, PAID)
SUMMARY_LABELS = {
    None: "Ouvert, sans pièce", ASKED: "Demande déposée", ACCEPTED: "Acceptée par le maître d'œuvre",
    CORRECTED: "Corrigée par le maître d'œuvre", VALIDATED: "Validée par le maître d'ouvrage", PAID: "Payée",
}
MAX_NUMBER = 50
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Step:
    step: str
    label: str
    amount_excl_vat: Decimal
    amount_incl_vat: Decimal
    at: date | datetime | None
    invoice_id: int | None
    invoice_number: str
    difference_excl_vat: Decimal | None = None  # for a correction: the MOE's amount minus the amount asked


# --- writing ------------------------------------------------------------------------------------

async def open_dossier(market_id: int, structure_id: int, user_id: int | None, number: str,
                       period_start: date, period_end: date) -> int:
    """A new dossier of a market this structure acts in; its number is unique in the market."""
    await visible_market(market_id, structure_id)
    number = (number or "").strip()
    if not number or len(number) > MAX_NUMBER:
        raise WorksError("invalid", f"Le numéro du dossier est obligatoire ({MAX_NUMBER} caractères au plus).",
                         errors={"number": "Numéro de dossier obligatoire."})
    if period_end < period_start:
        raise WorksError("invalid", "La fin de la période précède son début.", errors={"period_end": "La fin précède le début."})
    row = BillingFile(market=market_id, number=number, period_start=period_start, period_end=period_end,
                      created_by=user_id, created_at=utcnow())
    try:
        async with transaction():
            await row.save()
    except Exception as exc:
        if is_unique_violation(exc):
            raise WorksError("duplicate", f"Ce marché a déjà un dossier n° {number}.", 409) from None
        raise
    return row.id


async def attach_piece(invoice_id: int, dossier_id: int, structure_id: int) -> None:
    """Name the market and dossier of a piece. The piece must be one this structure filed or
    received, for a market where both the piece's supplier and recipient act; a piece keeps
    its first dossier (a piece never moves from one payment request to another)."""
    dossier = await BillingFile.objects().get(BillingFile.id == dossier_id)
    if dossier is None:
        raise NOT_FOUND
    await visible_market(dossier.market, structure_id)
    invoice = await Invoice.select(Invoice.id, Invoice.supplier, Invoice.recipient, Invoice.dossier).where(
        Invoice.id == invoice_id).first()
    if invoice is None or structure_id not in (invoice["supplier"], invoice["recipient"]):
        raise WorksError("not_found", "Cette pièce n'existe pas ou vous n'y avez pas accès.", 404)
    actors = {r["structure"] for r in await MarketActor.select(MarketActor.structure).where(MarketActor.market == dossier.market)}
    if not {invoice["supplier"], invoice["recipient"]} <= actors:
        raise WorksError("not_in_market", "Le fournisseur et le destinataire de la pièce doivent être des acteurs du marché.")
    if invoice["dossier"] not in (None, dossier_id):
        raise WorksError("already_attached", "Cette pièce appartient déjà à un autre dossier.", 409)
    async with transaction():
        await Invoice.update({Invoice.market: dossier.market, Invoice.dossier: dossier_id}).where(Invoice.id == invoice_id)


# --- reading ------------------------------------------------------------------------------------

async def visible_dossier(dossier_id: int, structure_id: int | None) -> tuple[BillingFile, Market]:
    dossier = await BillingFile.objects().get(BillingFile.id == dossier_id)
    if dossier is None:
        raise WorksError("not_found", "Ce dossier n'existe pas ou vous n'y avez pas accès.", 404)
    try:
        market = await visible_market(dossier.market, structure_id)
    except WorksError:
        raise WorksError("not_found", "Ce dossier n'existe pas ou vous n'y avez pas accès.", 404) from None
    return dossier, market


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


async def _pieces(dossier_id: int) -> list[dict]:
    return await Invoice.select(
        Invoice.id, Invoice.number, Invoice.billing_framework, Invoice.total_excl_vat, Invoice.total_incl_vat,
        Invoice.deposited_at,
    ).where(Invoice.dossier == dossier_id).order_by(Invoice.id)


async def _payments(invoice_ids: list[int]) -> list[dict]:
    """Each MISE_EN_PAIEMENT of the pieces: date and amount from the history's details."""
    if not invoice_ids:
        return []
    rows = await InvoiceHistory.select(InvoiceHistory.invoice, InvoiceHistory.details, InvoiceHistory.created_at).where(
        InvoiceHistory.invoice.is_in(invoice_ids) & (InvoiceHistory.status == "MISE_EN_PAIEMENT")).order_by(InvoiceHistory.id)
    found = []
    for row in rows:
        details = row["details"]
        if isinstance(details, str):  # SQLite hands JSON back as text
            details = json.loads(details or "{}")
        payment = (details or {}).get("payment") or {}
        found.append({"invoice": row["invoice"], "amount": payment.get("amount"), "date": payment.get("date"),
                      "at": row["created_at"]})
    return found


def timeline_of(pieces: list[dict], payments: list[dict]) -> list[Step]:
    """The steps of a dossier from its pieces (in filing order) and their payments; pure, so
    that the rules read in one place and are tested without a database."""
    steps: list[Step] = []
    asked: Decimal | None = None
    numbers = {p["id"]: p["number"] for p in pieces}
    for piece in pieces:
        step = STEP_BY_FRAMEWORK.get(piece["billing_framework"])
        if step is None:
            continue
        amount = _money(piece["total_excl_vat"])
        difference = None
        if step == ASKED:
            asked = amount
        elif step == ACCEPTED and asked is not None and amount != asked:
            step, difference = CORRECTED, amount - asked
        steps.append(Step(step, STEP_LABELS[step], amount, _money(piece["total_incl_vat"]), piece["deposited_at"],
                          piece["id"], piece["number"], difference))
    for payment in payments:
        paid = _money(payment["amount"]) if payment["amount"] is not None else Decimal("0.00")
        when = date.fromisoformat(payment["date"]) if payment.get("date") else payment["at"]
        steps.append(Step(PAID, STEP_LABELS[PAID], paid, paid, when, payment["invoice"], numbers.get(payment["invoice"], "")))
    return steps


def summary_of(steps: list[Step]) -> str | None:
    reached = [SUMMARY_ORDER.index(s.step) for s in steps]
    return SUMMARY_ORDER[max(reached)] if reached else None


async def timeline(dossier_id: int) -> list[Step]:
    pieces = await _pieces(dossier_id)
    return timeline_of(pieces, await _payments([p["id"] for p in pieces]))


async def dossier_summary(dossier_id: int) -> tuple[str | None, str]:
    """The dossier's status: its furthest step, and that step's French label."""
    step = summary_of(await timeline(dossier_id))
    return step, SUMMARY_LABELS[step]
