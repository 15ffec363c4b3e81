"""Status changes from the invoice page: one form per allowed action, all through the lifecycle module."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import INVOICES, MODIFICATION, space
from backend.invoices import access, storage, workspace
from backend.invoices.deposit import attachment_type
from backend.invoices.invoice_page import invoice_page_context
from backend.invoices.statuses import CREDIT_NOTE, status_sentence
from backend.invoices.tables import Invoice
from backend.processing import bulk, lifecycle, validation
from backend.processing.actions import ACTION_LABELS
from backend.processing.lifecycle import Payment, Routing, TransitionError
from backend.lib.common import parse_id
from backend.lib.uploads import read_uploads
from backend.lib.web import CurrentUser, flash, form_data, page, require_user

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
    return await storage.supporting_attachments(request.app.state.settings, invoice_id, uploads)


@get("/validations", opt=space("a_valider"))
async def validations_page(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    """« Factures à valider » : the subcontractors' and co-contractors' invoices waiting for the active
    structure (titulaire, mandataire), nearest deadline first; accept or refuse from the phone."""
    # The guard checked consultation in « Factures à valider »: the list; modification: the buttons.
    return page(request, "invoices/validations.html", rows=await validation.waiting(current.structure_id),
                action_labels=ACTION_LABELS, may_decide=current.may(access.VALIDATION_SPACE, MODIFICATION))


@post("/invoices/{invoice_id:int}/status", opt=space(INVOICES))
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
            payment=_payment(data) if target in ("MISE_EN_PAIEMENT", "ENCAISSEE") else None,
            routing=Routing(data.get("recipient_siret", "").strip(), data.get("service_code", "").strip(),
                            data.get("engagement", "").strip()) if target == "DEPOSEE" else None,
            within=within,
        )
    except TransitionError as exc:
        if exc.http_status == 404:
            raise
        context = await invoice_page_context(current, invoice_id) | {"action_error": exc.message_fr}
        return page(request, "invoices/invoice.html", status_code=exc.http_status, **context)
    flash(request, _done_sentence(target, invoice), "success")
    return Redirect(f"/invoices/{invoice_id}")


def _done_sentence(target: str, invoice: Invoice) -> str:
    """« Facture n° F-1 prise en charge. », « Service fait pour la facture n° F-1. »"""
    if target == lifecycle.ACKNOWLEDGE:
        document = "de l'avoir" if invoice.type_code == CREDIT_NOTE else "de la facture"
        return f"Rejet {document} n°\u00a0{invoice.number} pris en compte."
    return status_sentence(target, invoice.number, invoice.type_code, invoice.billing_framework) + "."


def _back(raw: str) -> str:
    """The list to return to, with its filters; only the list's own query string, re-encoded."""
    return "/invoices" + (f"?{urlencode(parse_qsl(raw or '')[:20])}" if raw else "")


@post("/invoices/bulk", opt=space("recues"))
async def bulk_change_status(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    """Grouped actions from the agent's list: first a confirmation page (with the mandate
    number, once or per invoice), then each invoice through the lifecycle (processing/bulk.py)."""
    structure_id = access.require_active_right(current, "can_process")
    if workspace.side_of(current.active["structure"]) != workspace.RECIPIENT:
        raise NotFoundException(access.NOT_FOUND)
    form = await request.form()
    raw_ids = form.getall("invoice") if "invoice" in form else []
    ids = [parse_id(raw) for raw in raw_ids]
    target, back = str(form.get("target") or ""), _back(str(form.get("back") or ""))
    context = {"target": target, "action_label": ACTION_LABELS.get(target, target), "back": back,
               "back_query": str(form.get("back") or ""), "invoices": [], "error": None}
    try:
        if None in ids:
            raise bulk.BulkRefused(lifecycle.NOT_FOUND.message_fr, 404)
        bulk.check_request(target, ids)
        context["invoices"] = await bulk.received_invoices(structure_id, ids)
        if form.get("confirmed") != "1":
            return page(request, "invoices/bulk.html", **context)
        common = str(form.get("mandate_number") or "").strip()
        items = [bulk.Item(i, parse_id(form.get(f"version_{i}"), lowest=0),
                           (str(form.get(f"mandate_number_{i}") or "").strip() or common or None) if target == "MANDATEE" else None)
                 for i in dict.fromkeys(ids)]
        outcomes = await bulk.apply(lifecycle.Actor(lifecycle.RECIPIENT, current.id), structure_id, target, items)
    except bulk.BulkRefused as exc:
        if exc.http_status == 404:
            raise NotFoundException(exc.message_fr) from None
        return page(request, "invoices/bulk.html", status_code=exc.http_status, **(context | {"error": exc.message_fr}))
    flash(request, bulk.summary(target, outcomes), "success" if all(o.done for o in outcomes) else "error")
    return Redirect(back)


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[change_status, bulk_change_status, validations_page])
