"""Status changes from the invoice page: one form per allowed action, all through the lifecycle module."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from litestar import Request, Router, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.invoices.controllers import invoice_page_context
from backend.invoices.statuses import label
from backend.invoices.tables import Invoice
from backend.processing import lifecycle
from backend.processing.lifecycle import Payment, Routing, TransitionError
from backend.lib.web import CurrentUser, flash, form_data, page, require_user

ACTION_LABELS = {
    "PRISE_EN_CHARGE": "Prendre en charge", "SUSPENDUE": "Suspendre", "A_RECYCLER": "À recycler",
    "REJETEE": "Rejeter", "SERVICE_FAIT": "Service fait", "MANDATEE": "Mandater",
    "MISE_EN_PAIEMENT": "Mettre en paiement", "COMPLETEE": "Compléter", "DEPOSEE": "Recycler (corriger l'acheminement)",
    lifecycle.ACKNOWLEDGE: "Prendre acte du rejet",
}
# Steps that cannot be undone: the page asks for a confirmation before posting them.
IRREVERSIBLE = frozenset({"REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT", lifecycle.ACKNOWLEDGE})
MAX_ANSWER_FILES = 10


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _payment(data: dict[str, str]) -> Payment | None:
    amount, raw_date = _decimal(data.get("payment_amount", "")), data.get("payment_date", "")
    try:
        when = date.fromisoformat(raw_date)
    except ValueError:
        return None
    return Payment(when, amount) if amount is not None else None


def _version(data: dict[str, str]) -> int | None:
    try:
        return int(data.get("version", ""))
    except ValueError:
        return None


async def actor_of(current: CurrentUser, invoice: Invoice) -> lifecycle.Actor | None:
    return lifecycle.actor_for(current.id, current.structure_id, invoice)


async def _answer_attachments(request: Request, invoice_id: int):
    """The supporting files of a COMPLETEE answer: checked (422), written to disk before the
    commit like a deposit's attachments, and their rows saved in the status change's transaction."""
    from backend.invoices import storage
    from backend.invoices.controllers import read_uploads
    from backend.invoices.deposit import attachment_type

    uploads = await read_uploads(request, "attachment")
    if not uploads:
        return None
    max_size = request.app.state.settings.max_file_size
    if len(uploads) > MAX_ANSWER_FILES:
        raise TransitionError("attachments_invalid", f"Trop de pièces jointes : {MAX_ANSWER_FILES} au plus.", 422)
    for upload in uploads:
        if len(upload.data) > max_size:
            raise TransitionError("attachments_invalid", f"La pièce jointe « {upload.filename} » dépasse {max_size // (1024 * 1024)} Mo.", 422)
        if attachment_type(upload.data) is None:
            raise TransitionError("attachments_invalid", f"La pièce jointe « {upload.filename} » n'est ni un PDF, ni une image JPEG ou PNG.", 422)
    return await storage.supporting_attachments(request.app.state.settings.files_dir, invoice_id, uploads)


@post("/invoices/{invoice_id:int}/status")
async def change_status(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template | Redirect:
    data = await form_data(request)
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    actor = await actor_of(current, invoice) if invoice else None
    target = data.get("target", "")
    try:
        if actor is None:
            raise lifecycle.NOT_FOUND
        within = await _answer_attachments(request, invoice_id) if target == "COMPLETEE" and actor.role == lifecycle.SUPPLIER else None
        await lifecycle.change_status(
            invoice_id, actor, target, expected_version=_version(data),
            reason_code=data.get("reason_code") or None, comment=data.get("comment", "").strip(),
            mandate_number=data.get("mandate_number", "").strip() or None,
            payment=_payment(data) if target == "MISE_EN_PAIEMENT" else None,
            routing=Routing(data.get("recipient_siret", "").strip(), data.get("service_code", "").strip(),
                            data.get("engagement", "").strip()) if target == "DEPOSEE" else None,
            within=within,
        )
    except TransitionError as exc:
        if exc.http_status == 404:
            raise
        context = await invoice_page_context(current, invoice_id) | {"action_error": exc.message_fr}
        return page(request, "invoices/invoice.html", status_code=exc.http_status, **context)
    flash(request, f"{ACTION_LABELS.get(target, label(target))} : c'est fait.", "success")
    return Redirect(f"/invoices/{invoice_id}")


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[change_status])
