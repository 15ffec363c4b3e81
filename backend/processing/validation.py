"""The validation circuit's deadlines and the validator's side (A9 sous-traitant, A12 cotraitant).

A subcontractor's or co-contractor's invoice waits for its validator (the titulaire or the
mandataire) at each level: A_VALIDER_1, then, for a co-contractor's subcontractor, A_VALIDER_2.
The validator has 15 days (VALIDATION_DAYS in the lifecycle): silence is a tacit validation
(ABSENCE_VALIDATION_n_HORS_DELAI), applied by the one deadline mechanism
(backend/processing/deadlines.py) through the lifecycle. Three days before, the validator's
people get a reminder: a push and an e-mail, both written to the outbox. The works circuit's
MOE deadline mails through the same channel (people_emails, email_rows).

Kinds are per level ("validation_tacit_1"…): the tacit step of level 1 runs inside its own
deadline row's transaction and schedules level 2's row, which must be another row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from backend.accounts.tables import Membership
from backend.invoices.tables import Invoice
from backend.lib.common import PARIS, utcnow
from backend.lib.formats import date_fr
from backend.notifications.service import VALIDATION_EVENT
from backend.processing import deadlines, worker
from backend.processing.tables import Outbox

DAYS = 15  # the lifecycle's VALIDATION_DAYS: Chorus Pro's delay for the titulaire or mandataire
REMIND_BEFORE = timedelta(days=3)
EMAIL_CHANNEL = "validation_email"
LEVELS = (1, 2)


def tacit_kind(level: int) -> str:
    return f"validation_tacit_{level}"


def reminder_kind(level: int) -> str:
    return f"validation_reminder_{level}"


def due_at(waiting_since: datetime) -> datetime:
    """The end of the 15 days: the same time of day, 15 days on (a tacit validation never comes early)."""
    return waiting_since + timedelta(days=DAYS)


def days_left(due: datetime | str | None, now: datetime) -> int | None:
    """Whole days left to validate, counted on the Paris calendar (0 on the last day)."""
    if due is None:
        return None
    if isinstance(due, str):
        due = datetime.fromisoformat(due)
    return max((due.astimezone(PARIS).date() - now.astimezone(PARIS).date()).days, 0)


def as_paris_date(moment: datetime | str):
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(PARIS).date()


async def schedule_deadlines(invoice_id: int, level: int, now: datetime) -> datetime:
    """In the transaction of the change that makes the level wait; returns the due time."""
    due = due_at(now)
    await deadlines.schedule(tacit_kind(level), invoice_id, due, {"level": level})
    await deadlines.schedule(reminder_kind(level), invoice_id, due - REMIND_BEFORE, {"level": level, "due_at": due.isoformat()})
    return due


async def cancel_deadlines(invoice_id: int, level: int, *, keep_tacit: bool = False) -> None:
    """The level was answered: its reminder and tacit step will not run (the running tacit row is kept)."""
    await deadlines.cancel(reminder_kind(level), invoice_id)
    if not keep_tacit:
        await deadlines.cancel(tacit_kind(level), invoice_id)


# --- the validator's list ("Factures à valider") ------------------------------------------------

def _waiting_for(structure_id: int):
    return (((Invoice.status == "A_VALIDER_1") & (Invoice.validator_1 == structure_id))
            | ((Invoice.status == "A_VALIDER_2") & (Invoice.validator_2 == structure_id)))


async def count_waiting(structure_id: int | None) -> int:
    return await Invoice.count().where(_waiting_for(structure_id)) if structure_id else 0


async def waiting(structure_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The invoices waiting for this structure's validation, the nearest deadline first, with the days left."""
    rows = await Invoice.select(
        Invoice.id, Invoice.number, Invoice.status, Invoice.version, Invoice.total_incl_vat, Invoice.billing_framework,
        Invoice.validation_due_at, Invoice.issue_date, Invoice.supplier.name.as_alias("supplier_name"),
        Invoice.recipient.name.as_alias("recipient_name"),
    ).where(_waiting_for(structure_id)).order_by(Invoice.validation_due_at).order_by(Invoice.id).limit(limit)
    now = utcnow()
    for row in rows:
        row["days_left"] = days_left(row["validation_due_at"], now)
        row["due_on"] = as_paris_date(row["validation_due_at"]) if row["validation_due_at"] else None
        row["level"] = int(row["status"][-1])
    return rows


# --- handlers (run by the worker pass) ---------------------------------------------------------

async def on_tacit(row: dict[str, Any]) -> None:
    from backend.processing import lifecycle

    await lifecycle.tacit_validation(row["invoice"], int(deadlines.payload_of(row)["level"]))


async def on_reminder(row: dict[str, Any]) -> None:
    """Still waiting three days before the end: push and e-mail to the validator's people."""
    level = int(deadlines.payload_of(row)["level"])
    invoice = await Invoice.objects().get(Invoice.id == row["invoice"])
    if invoice is None or invoice.status != f"A_VALIDER_{level}":
        return
    validator = invoice.validator_1 if level == 1 else invoice.validator_2
    due = invoice.validation_due_at
    now = utcnow()
    title = f"Facture n°\u00a0{invoice.number} à valider avant le {date_fr(due.astimezone(PARIS).date())}"
    body = ("Sans réponse de votre part, elle sera validée tacitement à cette date et transmise à l'entité publique, "
            "qui la paiera directement au sous-traitant ou au cotraitant.")
    push = {"event": VALIDATION_EVENT, "invoice_id": invoice.id, "number": invoice.number, "supplier_id": invoice.supplier,
            "recipient_id": invoice.recipient, "validator_id": validator, "status": invoice.status,
            "audience": {"structure_id": validator}, "title": title, "comment": body, "url": f"/invoices/{invoice.id}",
            "tag": f"invoice-{invoice.id}-validation", "occurred_at": now.isoformat(), "reminder": True}
    rows = [Outbox(event_type=VALIDATION_EVENT, channel="push", invoice=invoice.id, payload=_json(push),
                   created_at=now, next_attempt_at=now)]
    rows += email_rows(VALIDATION_EVENT, invoice.id, await people_emails(validator, "can_deposit"), title,
                       f"{body}\n\nLa facture : /invoices/{invoice.id}\n", now)
    await Outbox.insert(*rows)


async def people_emails(structure_id: int | None, right: str) -> list[str]:
    """The people who may act for the structure: active members holding `right` (a validator's
    "can_deposit", a MOE's "can_process": the lifecycle's RIGHTS), whose account is active."""
    if structure_id is None:
        return []
    rows = await Membership.select(Membership.user.email).where(
        (Membership.structure == structure_id) & (Membership.status == "active") & (getattr(Membership, right) == True)  # noqa: E712
        & (Membership.user.is_active == True)  # noqa: E712
    )
    return sorted({r["user.email"] for r in rows if r["user.email"]})


def email_rows(event: str, invoice_id: int, emails: list[str], subject: str, body: str, now: datetime) -> list[Outbox]:
    """One outbox row per person (a retry never mails the others twice); the body's page paths
    (/invoices/…, /works/…) become links to the platform when sent."""
    return [Outbox(event_type=event, channel=EMAIL_CHANNEL, invoice=invoice_id,
                   payload=_json({"to": email, "subject": subject, "body": body}), created_at=now, next_attempt_at=now)
            for email in emails]


async def on_email(row: dict[str, Any]) -> None:
    """One e-mail per outbox row: a retry never sends it to the others twice."""
    from backend.lib.mail import send_mail
    from backend.settings import get_settings

    payload = worker.payload_of(row)
    settings = get_settings()
    base = settings.base_url.rstrip("/")
    body = payload["body"].replace(" /invoices/", f" {base}/invoices/").replace(" /works/", f" {base}/works/")
    await send_mail(settings, payload["to"], payload["subject"], body)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


for _level in LEVELS:
    deadlines.register_kind(tacit_kind(_level), on_tacit)
    deadlines.register_kind(reminder_kind(_level), on_reminder)
worker.register_channel(EMAIL_CHANNEL, on_email)
