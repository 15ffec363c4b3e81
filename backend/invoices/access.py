"""Who may see what: an invoice is visible to members of its supplier and of its recipient."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from backend.accounts.tables import Membership
from backend.invoices.statuses import BEFORE_RECEPTION
from backend.invoices.tables import Deposit, Invoice
from backend.lib.web import CurrentUser

NOT_FOUND = "Cette page n'existe pas ou vous n'y avez pas accès."


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
