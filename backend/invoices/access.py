"""Who may see what: an invoice is visible to members of its supplier and of its recipient."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from backend.accounts import spaces
from backend.accounts.tables import Membership
from backend.invoices.statuses import BEFORE_RECEPTION
from backend.invoices.tables import Deposit, Invoice
from backend.lib.web import CurrentUser

NOT_FOUND = "Cette page n'existe pas ou vous n'y avez pas accès."
VALIDATION_SPACE = "a_valider"  # « Factures à valider »: the validator's side of an invoice


def require_active_right(current: CurrentUser, right: str) -> int:
    """The active structure's id when the user holds `right` there; 404 otherwise (nothing leaks)."""
    if not current.active or not current.active.get(right):
        raise NotFoundException(NOT_FOUND)
    return current.active["structure"]["id"]


async def _member_of(user_id: int, structure_ids: list[int]) -> bool:
    return await Membership.exists().where(
        (Membership.user == user_id) & (Membership.structure.is_in(structure_ids)) & (Membership.status == "active")
    )


def parties(invoice: Invoice) -> list[int]:
    """Who sees the invoice: its supplier, its validators (titulaire, mandataire: read-only once
    validated), and its recipient once the invoice is put at its disposal."""
    found = [invoice.supplier, invoice.validator_1, invoice.validator_2]
    if invoice.status not in BEFORE_RECEPTION:
        found.append(invoice.recipient)
    return [s for s in found if s]


def space_of(structure_id: int | None, invoice: Invoice) -> str:
    """The space an invoice belongs to for the active structure: « Factures à valider » for the
    structure that validates it (titulaire, mandataire), the side's invoice space otherwise."""
    if structure_id is not None and structure_id in (invoice.validator_1, invoice.validator_2) \
            and structure_id not in (invoice.supplier, invoice.recipient):
        return VALIDATION_SPACE
    return spaces.INVOICES


async def may_reach(current: CurrentUser, invoice_id: int, level: str) -> bool:
    """Whether the person's rights in the invoice's space (space_of) reach `level`: a validator
    reads an invoice it validates with consultation in « Factures à valider » and decides it with
    modification there, without any right in « Factures émises »; and a right in « Factures
    émises » does not decide it. Read only when the two spaces answer differently."""
    side = current.may(spaces.INVOICES, level)
    if side == current.may(VALIDATION_SPACE, level):
        return side
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None:
        return side
    return current.may(space_of(current.structure_id, invoice), level)


async def visible_invoice(current: CurrentUser, invoice_id: int) -> Invoice:
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or not await _member_of(current.id, parties(invoice)):
        raise NotFoundException(NOT_FOUND)
    return invoice


async def visible_deposit(current: CurrentUser, deposit_id: int) -> Deposit:
    deposit = await Deposit.objects().get(Deposit.id == deposit_id)
    if deposit is None or not await _member_of(current.id, [deposit.structure]):
        raise NotFoundException(NOT_FOUND)
    return deposit
