"""Grouped actions: an agent moves several received invoices at once (prendre en charge,
service fait, mandater).

Nothing new is decided here: each invoice goes through `lifecycle.change_status` on its
own, with the version the agent saw, so the checks, the history row, the notifications and
the live event are exactly those of one action on one invoice. One invoice refused (already
moved by a colleague, a status that does not allow the step, a missing mandate number) does
not stop the others; the summary says what was done and what was refused, and why.

Access is all or nothing: every invoice named must be one the agent's active structure
received, otherwise nothing happens at all (404: another structure's invoice ids say nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.invoices.statuses import label
from backend.invoices.tables import Invoice
from backend.lib.formats import plural
from backend.processing import lifecycle
from backend.processing.lifecycle import Actor, TransitionError

TARGETS = ("PRISE_EN_CHARGE", "SERVICE_FAIT", "MANDATEE")
MAX_INVOICES = 100
# What was done, in French, by number: (one, several).
DONE_WORDS = {
    "PRISE_EN_CHARGE": ("prise en charge", "prises en charge"),
    "SERVICE_FAIT": ("passée en service fait", "passées en service fait"),
    "MANDATEE": ("mandatée", "mandatées"),
}


class BulkRefused(Exception):
    """The request as a whole cannot be carried out (nothing was done): a French message, a 4xx."""

    def __init__(self, message_fr: str, http_status: int = 422) -> None:
        super().__init__(message_fr)
        self.message_fr, self.http_status = message_fr, http_status


@dataclass(frozen=True)
class Item:
    invoice_id: int
    expected_version: int | None = None
    mandate_number: str | None = None


@dataclass(frozen=True)
class Outcome:
    invoice_id: int
    number: str
    done: bool
    code: str = ""  # the lifecycle's refusal code (stale_version, transition_refused, mandate_required…)
    message: str = ""  # why it was refused, in French


def check_request(target: str, invoice_ids: list[int]) -> None:
    if target not in TARGETS:
        raise BulkRefused("Cette action ne se fait pas sur plusieurs factures à la fois : ouvrez chaque facture.")
    if not invoice_ids:
        raise BulkRefused("Cochez au moins une facture.")
    if len(set(invoice_ids)) > MAX_INVOICES:
        raise BulkRefused(f"Sélectionnez au plus {MAX_INVOICES} factures à la fois.")


async def received_invoices(structure_id: int, invoice_ids: list[int]) -> list[dict]:
    """The invoices named, in the order given, all received by this structure; 404 otherwise."""
    wanted = list(dict.fromkeys(invoice_ids))
    rows = await Invoice.select(
        Invoice.id, Invoice.number, Invoice.version, Invoice.status, Invoice.total_incl_vat, Invoice.currency,
        Invoice.issue_date, Invoice.supplier.name.as_alias("supplier_name"),
    ).where(Invoice.id.is_in(wanted) & (Invoice.recipient == structure_id))
    if len(rows) != len(wanted):
        raise BulkRefused(lifecycle.NOT_FOUND.message_fr, 404)
    by_id = {r["id"]: r for r in rows}
    for row in rows:
        row["status_label"] = label(row["status"])
    return [by_id[i] for i in wanted]


async def apply(actor: Actor, structure_id: int, target: str, items: list[Item]) -> list[Outcome]:
    """Each invoice through the lifecycle, one after the other; the outcome of each."""
    check_request(target, [item.invoice_id for item in items])
    numbers = {r["id"]: r["number"] for r in await received_invoices(structure_id, [i.invoice_id for i in items])}
    outcomes = []
    for item in items:
        try:
            await lifecycle.change_status(item.invoice_id, actor, target, expected_version=item.expected_version,
                                          mandate_number=item.mandate_number)
        except TransitionError as exc:
            outcomes.append(Outcome(item.invoice_id, numbers[item.invoice_id], False, exc.code, exc.message_fr))
        else:
            outcomes.append(Outcome(item.invoice_id, numbers[item.invoice_id], True))
    return outcomes


def summary(target: str, outcomes: list[Outcome]) -> str:
    """« 2 factures prises en charge, 1 refusée : n° F-3 — <why>. »"""
    one, several = DONE_WORDS[target]
    done = sum(1 for o in outcomes if o.done)
    refused = [o for o in outcomes if not o.done]
    text = plural(done, f"facture {one}", f"factures {several}") if done else f"Aucune facture {one}"
    if not refused:
        return text + "."
    reasons = " ; ".join(f"n° {o.number} — {o.message.rstrip('.')}" for o in refused)
    return f"{text}, {plural(len(refused), 'refusée')} : {reasons}."
