"""Pages of « Mémoires de justice », phone first.

    GET  /justice                               the provider's mémoires and drafts; a juridiction's agent: those received
    POST /justice/drafts                        new mémoire (a draft)
    GET  /justice/drafts/{id}                   the capture form (decision, mission, lines, attachments)
    POST /justice/drafts/{id}                   save the draft as typed
    POST /justice/drafts/{id}/lines             one more line
    POST /justice/drafts/{id}/send              check, generate the Factur-X (A3), deposit; 422 with the problems in place
    POST /justice/drafts/{id}/delete            drop a draft
    POST /justice/drafts/{id}/attachments/{aid}/delete  take a kept photo or file off the draft (the form saved as typed)
    POST /justice/memoires/{invoice_id}/duplicate  a refused mémoire → "dupliqué après refus" + a new draft

A sent mémoire is shown, processed and discussed on its invoice page (/invoices/{id}), with
the JUSTICE circuit's actions; it has no edit route.
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import space
from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.invoices import access
from backend.invoices.statuses import label as status_label
from backend.invoices.tables import Invoice
from backend.justice import service
from backend.justice.service import JusticeError
from backend.justice.tables import MemoireDraft
from backend.lib.formats import date_fr
from backend.lib.uploads import read_uploads
from backend.lib.web import CurrentUser, flash, form_data, page, require_user
from backend.processing import lifecycle
from backend.processing.lifecycle import TransitionError


def _raise(exc: JusticeError) -> None:
    if exc.http_status == 404:
        raise NotFoundException(exc.message)
    raise HTTPException(status_code=exc.http_status, detail=exc.message)


async def _draft(current: CurrentUser, draft_id: int):
    structure_id = access.require_active_right(current, "can_deposit")
    try:
        return await service.draft_of(structure_id, draft_id)
    except JusticeError as exc:
        _raise(exc)


async def _form_page(request: Request, draft_id: int, form: dict, problems=None, status: int = 200,
                     duplicated_from: int | None = None) -> Template:
    structure_id = request.state.current_user.structure_id
    origin = None
    if duplicated_from:
        origin = await Invoice.select(Invoice.id, Invoice.number).where(Invoice.id == duplicated_from).first()
    errors: dict[str, str] = {}
    for p in problems or []:
        errors.setdefault(p.field, p.message)
    return page(request, "justice/capture.html", status_code=status, draft_id=draft_id, form=form, problems=problems or [],
                errors=errors, juridictions=await juridictions.all_juridictions(), decision_kinds=service.DECISION_KINDS,
                line_kinds=service.LINE_KINDS, units=service.UNITS, vat_rates=service.VAT_RATES,
                vat_on_debits=await service.vat_on_debits(structure_id), deadline_years=service.DEADLINE_YEARS,
                origin=origin, today=date_fr(service.paris_today()), attachments=await service.draft_attachments(draft_id))


@get("/justice")
async def justice_home(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    if current.structure_id is None:
        raise NotFoundException(access.NOT_FOUND)
    juridiction = await juridictions.of_structure(current.structure_id)
    active = current.active or {}
    received = await service.memoires_of(current.structure_id, "recipient") if juridiction and active.get("can_process") else []
    sent = await service.memoires_of(current.structure_id, "supplier") if not juridiction else []
    drafts = await service.drafts(current.structure_id) if not juridiction and active.get("can_deposit") else []
    return page(request, "justice/home.html", juridiction=juridiction, received=received, sent=sent, drafts=drafts,
                status_label=status_label, may_capture=bool(active.get("can_deposit")) and not juridiction)


@post("/justice/drafts")
async def draft_create(current: NamedDependency[CurrentUser]) -> Redirect:
    structure_id = access.require_active_right(current, "can_deposit")
    if await juridictions.of_structure(structure_id):
        raise NotFoundException(access.NOT_FOUND)  # a juridiction receives mémoires, it does not send them
    return Redirect(f"/justice/drafts/{await service.new_draft(structure_id, current.id)}")


@get("/justice/drafts/{draft_id:int}")
async def draft_page(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template:
    draft = await _draft(current, draft_id)
    return await _form_page(request, draft.id, service.decoded(draft.form), duplicated_from=draft.duplicated_from)


async def _chosen_files(request: Request):
    return await read_uploads(request, "decision_file") + await read_uploads(request, "attachment")


@post("/justice/drafts/{draft_id:int}")
async def draft_save(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template | Redirect:
    draft = await _draft(current, draft_id)
    data = await form_data(request)
    form = service.form_from_post(data)
    await service.save_draft(draft.id, form)
    await service.set_vat_on_debits(draft.structure, data.get("vat_on_debits") == "1")
    if refusals := await service.keep_files(request.app.state.settings, draft.id, await _chosen_files(request)):
        return await _form_page(request, draft.id, form, refusals, status=422, duplicated_from=draft.duplicated_from)
    flash(request, "Brouillon du mémoire enregistré.", "success")
    return Redirect(f"/justice/drafts/{draft.id}")


@post("/justice/drafts/{draft_id:int}/attachments/{attachment_id:int}/delete")
async def draft_file_remove(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int],
                            attachment_id: FromPath[int]) -> Redirect:
    draft = await _draft(current, draft_id)
    await service.save_draft(draft.id, service.form_from_post(await form_data(request)))  # what was typed stays
    await service.remove_file(draft.id, attachment_id)  # already gone (another device): same page
    return Redirect(f"/justice/drafts/{draft.id}#attachments")


@post("/justice/drafts/{draft_id:int}/lines")
async def draft_add_line(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Redirect:
    draft = await _draft(current, draft_id)
    form = service.form_from_post(await form_data(request))
    if len(form["lines"]) < service.MAX_LINES:
        form["lines"].append(service.blank_line())
    await service.save_draft(draft.id, form)
    return Redirect(f"/justice/drafts/{draft.id}#lines")


@post("/justice/drafts/{draft_id:int}/send")
async def draft_send(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template | Redirect:
    draft = await _draft(current, draft_id)
    data = await form_data(request)
    form = service.form_from_post(data)
    await service.set_vat_on_debits(draft.structure, data.get("vat_on_debits") == "1")
    uploads = await _chosen_files(request)
    supplier = await Structure.objects().get(Structure.id == draft.structure)
    sent = await service.send_draft(request.app.state.settings, supplier, current.id, draft, form, uploads)
    if sent.problems:
        return await _form_page(request, draft.id, form, sent.problems, status=422, duplicated_from=draft.duplicated_from)
    if sent.invoice_id is None:
        return Redirect(f"/deposits/{sent.deposit_id}")  # refused at deposit: the report says why; the draft stays
    flash(request, f"Mémoire n°\u00a0{form['number']} envoyé à la juridiction.", "success")
    return Redirect(f"/invoices/{sent.invoice_id}")


@post("/justice/drafts/{draft_id:int}/delete")
async def draft_delete(current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Redirect:
    draft = await _draft(current, draft_id)
    await MemoireDraft.delete().where(MemoireDraft.id == draft.id)
    return Redirect("/justice")


@post("/justice/memoires/{invoice_id:int}/duplicate")
async def memoire_duplicate(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Redirect:
    access.require_active_right(current, "can_deposit")
    data = await form_data(request)
    try:
        version = int(data.get("version", ""))
    except ValueError:
        version = None
    try:
        draft_id = await service.duplicate(invoice_id, lifecycle.Actor(lifecycle.SUPPLIER, current.id), version)
    except TransitionError as exc:
        if exc.http_status == 404:
            raise NotFoundException(access.NOT_FOUND) from None
        flash(request, exc.message_fr, "error")
        return Redirect(f"/invoices/{invoice_id}")
    flash(request, "Mémoire dupliqué : corrigez ce qui a été refusé, puis envoyez le nouveau mémoire.", "success")
    return Redirect(f"/justice/drafts/{draft_id}")


router = Router(path="/", opt=space("justice"), dependencies={"current": Provide(require_user)}, route_handlers=[
    justice_home, draft_create, draft_page, draft_save, draft_add_line, draft_send, draft_delete, memoire_duplicate, draft_file_remove,
])
