"""What the invoice page shows: data, history in French, attachments, thread, and the actions
this person may take now. Other domains render the page again (after a refused action or
message) through this service, never through the invoices controllers."""

from __future__ import annotations

from datetime import date

import msgspec

from backend.accounts.spaces import MODIFICATION
from backend.directory.tables import Structure
from backend.invoices import access
from backend.invoices.capture import UNITS
from backend.invoices.statuses import REFORM_LABELS, label
from backend.invoices.tables import Attachment, Invoice, InvoiceHistory, StoredFile
from backend.invoices.workspace import file_name_differs
from backend.justice.service import memoire_view
from backend.lib.web import CurrentUser
from backend.messages.service import thread_context
from backend.lib.common import utcnow
from backend.lib.formats import date_fr, plural
from backend.processing import frameworks, late_interest, lifecycle, payment_delays, validation
from backend.processing.actions import ACTION_LABELS, IRREVERSIBLE
from backend.processing.reasons import REASONS_BY_STATUS, reason_label, reasons_for

ACTOR_KINDS = {"platform": "Plateforme Facteur"}


async def _validator_names(invoice: Invoice) -> dict[str, str]:
    """The validators' registered names by level suffix ("_1", "_2"), for the timeline."""
    ids = {f"_{n}": lifecycle.validator_of(invoice, n) for n in lifecycle.VALIDATION_LEVELS}
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in([i for i in ids.values() if i] or [0]))
    names = {r["id"]: r["name"] for r in rows}
    return {suffix: names.get(sid, "Valideur") for suffix, sid in ids.items()}


async def timeline(invoice: Invoice, supplier_name: str, recipient_name: str) -> list[dict]:
    """The history, oldest first, with who acted (person and structure) and why, in French."""
    rows = await InvoiceHistory.select(
        InvoiceHistory.all_columns(), InvoiceHistory.actor.first_name, InvoiceHistory.actor.last_name,
    ).where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id).output(load_json=True)
    sides = {"supplier": supplier_name, "recipient": recipient_name}
    validators = await _validator_names(invoice) if invoice.validator_1 else {}
    for row in rows:
        person = f"{row.get('actor.first_name') or ''} {row.get('actor.last_name') or ''}".strip()
        side = sides.get(row["actor_kind"], ACTOR_KINDS.get(row["actor_kind"], row["actor_kind"]))
        if row["actor_kind"] == lifecycle.VALIDATOR:
            side = validators.get(row["status"][-2:], "Valideur")
        row["reason_label"] = reason_label(row["reason_code"]) if row["reason_code"] else ""
        details = row["details"]
        row["details"] = msgspec.json.decode(details) if isinstance(details, str) and details else (details or {})
        key = row["details"].get("api_key") if isinstance(row["details"], dict) else None
        if key:
            person = f"API, clé « {key.get('name') or key.get('id')} »"
        row["who"] = f"{person} ({side})" if person else side
        payment = row["details"].get("payment") if isinstance(row["details"], dict) else None
        if payment and isinstance(payment.get("date"), str):
            payment["date"] = date.fromisoformat(payment["date"])
    return rows


async def invoice_live_context(current: CurrentUser, invoice: Invoice) -> dict:
    """The parts of the invoice page that change with its status: status, actions, history."""
    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    supplier = await Structure.objects().get(Structure.id == invoice.supplier)
    history = await timeline(invoice, supplier.name, recipient.name)
    attachments = await Attachment.select(Attachment.id, Attachment.filename, Attachment.media_type, Attachment.created_at).where(
        Attachment.invoice == invoice.id).order_by(Attachment.id)
    actor = lifecycle.actor_for(current.id, current.structure_id, invoice)
    # Actions need modification in the invoice's space (« Factures à valider » for its validator),
    # as the status route's guard does.
    may_act = current.may(access.space_of(current.structure_id, invoice), MODIFICATION)
    actions = await lifecycle.allowed_actions(invoice, actor) if actor and may_act else []
    last_reason = next((h for h in reversed(history) if h["status"] == invoice.status and (h["reason_code"] or h["comment"])), None)
    can_reissue = (invoice.status == "REJETEE" and actor is not None and actor.role == lifecycle.SUPPLIER
                   and bool(current.active and current.active.get("can_deposit")))
    # The registered names are shown; the file's only beside them, flagged, when they differ.
    names_in_file = {"seller": invoice.seller_name if file_name_differs(invoice.seller_name, supplier.name) else "",
                     "buyer": invoice.buyer_name if file_name_differs(invoice.buyer_name, recipient.name) else ""}
    return {"invoice": invoice, "history": history, "attachments": attachments, "recipient": recipient,
            "supplier": supplier, "names_in_file": names_in_file,
            "status_label": label, "actions": actions, "action_labels": ACTION_LABELS, "irreversible": IRREVERSIBLE,
            "reasons": {status: reasons_for(status) for status in REASONS_BY_STATUS}, "reform_labels": REFORM_LABELS, "action_error": None, "last_reason": last_reason, "can_reissue": can_reissue,
            "role": actor.role if actor else None, "payment_delay": await _payment_delay(invoice),
            "validation": _validation(invoice),
            "memoire": await memoire_view(invoice) if frameworks.is_memoire(invoice.billing_framework) else None}


def _validation(invoice: Invoice) -> dict | None:
    """While a validator is waited for: until when, in one French line."""
    level = lifecycle.WAITING.get(invoice.status)
    if level is None or invoice.validation_due_at is None:
        return None
    left = validation.days_left(invoice.validation_due_at, utcnow())
    due = date_fr(validation.as_paris_date(invoice.validation_due_at))
    when = "aujourd'hui" if left == 0 else f"dans {plural(left, 'jour')}"
    return {"days_left": left, "sentence": f"À valider au plus tard le {due} ({when}) ; sans réponse, "
                                           "la facture sera validée tacitement et transmise à l'entité publique."}


async def _payment_delay(invoice: Invoice) -> dict:
    """The deadline line and, when late, the intérêts moratoires and the indemnity."""
    view = payment_delays.state(invoice)
    await late_interest.add_interest([(invoice.id, view, invoice.amount_due)])
    return view


async def invoice_page_context(current: CurrentUser, invoice_id: int) -> dict:
    """Everything the invoice page shows, including the actions this user may take now."""
    invoice = await access.visible_invoice(current, invoice_id)
    data = msgspec.json.decode(invoice.data) if isinstance(invoice.data, str) else invoice.data
    original = await StoredFile.objects().get(StoredFile.id == invoice.original_file)
    return {**await invoice_live_context(current, invoice), "data": data, "original": original, "units": UNITS,
            **await thread_context(invoice, current)}  # opening the page reads the thread
