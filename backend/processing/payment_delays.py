"""Payment delays (délai global de paiement, Code de la commande publique L.2192-10 s., R.2192-10 s.).

The deadline runs from reception (the invoice's first MISE_A_DISPOSITION) for the recipient
structure's delay: 30 days for the State and local authorities, 50 for public health
establishments, 60 for public companies. The directory export does not say which kind a
structure is, so `structure.payment_delay_days` holds the delay when an operator set it, and
30 days (the common case) applies otherwise.

A suspension for missing or wrong pieces *interrupts* the delay, once only (R.2192-27): the
first SUSPENDUE stops the clock (`invoice.payment_clock_stopped`); when the supplier sends
what was missing (COMPLETEE), a new delay opens (R.2192-29): thirty days, or the balance
that remained on the day of the interruption when it was longer. A later suspension does not
interrupt again: the clock keeps running and the invoice can fall late while suspended.
All of this is applied by the lifecycle (backend/processing/lifecycle.py) in the
transaction of the change; this module holds the date arithmetic and the
"payment_overdue" deadline's handler: the day after the due date, if the invoice is still
not paid in full, the supplier gets a push.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from backend.invoices.tables import Invoice
from backend.lib.common import PARIS, paris_today, utcnow
from backend.lib.formats import date_fr, plural
from backend.notifications.service import OVERDUE_EVENT
from backend.processing import deadlines
from backend.processing.tables import Outbox

DEFAULT_DELAY_DAYS = 30
DELAY_AFTER_INTERRUPTION = 30  # R.2192-29: the new delay, unless the balance left was longer
KIND = "payment_overdue"
NOTIFY_AT = time(9, 0)  # the morning after the due date, not at midnight
# No clock after a rejection; during the one interruption, `payment_clock_stopped` says so.
CLOCK_ENDED = frozenset({"REJETEE"})


def delay_days(structure_delay: int | None) -> int:
    return structure_delay if structure_delay else DEFAULT_DELAY_DAYS


def due_by(received_on: date, delay: int) -> date:
    """The last day to pay: reception day + delay (received on 1 March, 30 days → 31 March)."""
    return received_on + timedelta(days=delay)


def after_interruption(due: date, interrupted_on: date, completed_on: date) -> date:
    """The new due date once the missing pieces arrive (R.2192-29): thirty days from their
    reception, or the balance left on the day of the interruption when it was longer.

    Due 31 March, interrupted 10 March (21 days left), completed 25 March → 24 April (30 days);
    due 30 May (60-day delay), interrupted 10 March (81 days left), completed 25 March → 14 June.
    """
    balance = (due - interrupted_on).days
    return completed_on + timedelta(days=max(DELAY_AFTER_INTERRUPTION, balance))


def clock_stopped(status: str, interrupted: bool) -> bool:
    """Whether the delay is not running: after a rejection, or during the one interruption."""
    return status in CLOCK_ENDED or bool(interrupted)


def days_late(due: date | None, paid_on: date | None, today: date) -> int:
    """Days past the due date: to the payment date when paid in full, else to today (0 when not late)."""
    if due is None:
        return 0
    return max(((paid_on or today) - due).days, 0)


def days_left(due: date | None, today: date) -> int | None:
    return None if due is None else (due - today).days


def overdue_at(due: date) -> datetime:
    """When the deadline row runs: the morning after the last day to pay, Paris time."""
    return datetime.combine(due + timedelta(days=1), NOTIFY_AT, tzinfo=PARIS)


def paris_day(moment: datetime | str) -> date:
    if isinstance(moment, str):  # raw SQLite timestamps
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(PARIS).date()


def state(invoice: dict[str, Any] | Invoice, today: date | None = None) -> dict[str, Any]:
    """What the pages and the API show: due date, days left, days late, whether the clock is stopped."""
    get = invoice.get if isinstance(invoice, dict) else lambda name: getattr(invoice, name)
    today = today or paris_today()
    due, paid_on, status = get("payment_due_by"), get("paid_in_full_on"), get("status")
    interrupted = get("payment_clock_stopped")
    if isinstance(due, str):
        due = date.fromisoformat(due)
    if isinstance(paid_on, str):
        paid_on = date.fromisoformat(paid_on)
    stopped = clock_stopped(status, interrupted) and paid_on is None
    late = 0 if stopped else days_late(due, paid_on, today)
    shown = {
        "due_by": due, "paid_on": paid_on, "suspended": status == "SUSPENDUE", "stopped": stopped,
        "interrupted": bool(interrupted) and paid_on is None,
        "days_left": None if (stopped or paid_on) else days_left(due, today), "days_late": late,
        "late": late > 0 and paid_on is None, "today": today,
    }
    shown["sentence"] = sentence(shown)
    return shown


def sentence(view: dict[str, Any]) -> str:
    """The deadline in one French line, for the invoice page and the lists."""
    if view["due_by"] is None or (view["stopped"] and not view["interrupted"]):
        return ""
    due = date_fr(view["due_by"])
    if view["paid_on"] is not None:
        if view["days_late"]:
            return f"Payée avec {plural(view['days_late'], 'jour')} de retard (à payer au plus tard le {due})"
        return f"Payée dans le délai (à payer au plus tard le {due})"
    if view["interrupted"]:
        return "Délai de paiement interrompu jusqu'à la réponse du fournisseur (un nouveau délai de 30 jours s'ouvrira)"
    if view["late"]:
        return f"En retard de {plural(view['days_late'], 'jour')} (à payer au plus tard le {due})"
    if view["days_left"] == 0:
        return f"À payer au plus tard aujourd'hui, le {due}"
    return f"À payer au plus tard le {due} (dans {plural(view['days_left'], 'jour')})"


# --- the "payment_overdue" deadline -----------------------------------------------------------

async def schedule_overdue(invoice_id: int, due: date) -> None:
    await deadlines.schedule(KIND, invoice_id, overdue_at(due), {"due_by": due.isoformat()})


async def cancel_overdue(invoice_id: int) -> None:
    await deadlines.cancel(KIND, invoice_id)


async def on_overdue(row: dict[str, Any]) -> None:
    """Still unpaid the morning after the due date: a push to the supplier (once: the row is then done)."""
    invoice = await Invoice.select(
        Invoice.id, Invoice.number, Invoice.supplier, Invoice.recipient, Invoice.status, Invoice.version,
        Invoice.payment_due_by, Invoice.paid_in_full_on, Invoice.payment_clock_stopped,
    ).where(Invoice.id == row["invoice"]).first()
    if invoice is None or invoice["paid_in_full_on"] is not None or clock_stopped(invoice["status"], invoice["payment_clock_stopped"]):
        return
    due = invoice["payment_due_by"]
    if due is None or utcnow() < overdue_at(due):
        return  # moved later meanwhile: the lifecycle rescheduled the row
    now = utcnow()
    payload = {
        "event": OVERDUE_EVENT, "invoice_id": invoice["id"], "number": invoice["number"],
        "supplier_id": invoice["supplier"], "recipient_id": invoice["recipient"], "version": invoice["version"],
        "payment_due_by": due.isoformat(), "occurred_at": now.isoformat(), "audience": {"structure_id": invoice["supplier"]},
        "title": f"Facture n°\u00a0{invoice['number']}\u00a0: paiement en retard",
        "comment": f"À payer au plus tard le {date_fr(due)}",
        "tag": f"invoice-{invoice['id']}-overdue",
    }
    await Outbox.insert(Outbox(event_type=OVERDUE_EVENT, channel="push", invoice=invoice["id"],
                               payload=json.dumps(payload, ensure_ascii=False), created_at=now, next_attempt_at=now))


deadlines.register_kind(KIND, on_overdue)
