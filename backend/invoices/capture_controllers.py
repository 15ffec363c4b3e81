"""Capture pages: drafts, the one-thumb form, live totals, recipient choice, sending."""

from __future__ import annotations

import re

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.spaces import MODIFICATION, space
from backend.directory import search
from backend.directory.tables import Structure
from backend.accounts import profile
from backend.invoices import access, capture, draft_files
from backend.invoices.draft_file_controllers import route_handlers as draft_file_handlers
from backend.invoices.controllers import deposit_report_context
from backend.lib import heavy
from backend.lib.uploads import read_uploads
from backend.invoices.deposit import Upload, attachment_type, deposit
from backend.invoices.portal_rules import Validators
from backend.invoices.generation import Problem
from backend.processing import frameworks
from backend.invoices.tables import Deposit, DepositItem, InvoiceDraft
from backend.lib.web import CurrentUser, form_data, load_current_user, page, require_user


async def _draft(current: CurrentUser, draft_id: int) -> InvoiceDraft:
    structure_id = access.require_active_right(current, "can_deposit")
    draft = await InvoiceDraft.objects().get((InvoiceDraft.id == draft_id) & (InvoiceDraft.structure == structure_id))
    if draft is None:
        raise NotFoundException(access.NOT_FOUND)
    return draft


async def _form_page(request: Request, draft_id: int, form: dict, problems: list[Problem] | None = None, status: int = 200,
                     ready: bool = False) -> Template:
    recipient = await capture.recipient_of(form)
    current = await load_current_user(request)
    return page(request, "invoices/capture.html", status_code=status, draft_id=draft_id, form=form, ready=ready,
                attachments=await draft_files.listed(draft_id), attachment_refusals=[],
                first_steps=await profile.unfinished_steps(current.structure_id),  # said before anything is typed
                recipient=recipient, totals=capture.live_totals(form), problems=problems or [],
                problem_fields={p.field for p in problems or []}, frameworks=frameworks.offered(),
                profile_incomplete=any(p.field.startswith("seller") for p in problems or []),
                vat_rates=capture.VAT_RATES, units=capture.UNITS, exemption_reasons=capture.EXEMPTION_REASONS,
                supply_natures=capture.SUPPLY_NATURES)


@get("/capture")
async def capture_home(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    structure_id = access.require_active_right(current, "can_deposit")
    ready_id = await capture.ready_draft(structure_id, current.id)  # for "Nouvelle facture" with no network
    rows = await InvoiceDraft.select().where(InvoiceDraft.structure == structure_id).order_by(InvoiceDraft.updated_at, ascending=False).limit(50)
    drafts = [d | {"form": capture.decoded(d["form"])} for d in rows if not capture.is_ready(d)]  # ready ones: nothing to resume
    return page(request, "invoices/capture_home.html", drafts=drafts, ready_id=ready_id,
                first_steps=await profile.unfinished_steps(structure_id))


@post("/capture/drafts")
async def draft_create(current: NamedDependency[CurrentUser]) -> Redirect:
    structure_id = access.require_active_right(current, "can_deposit")
    return Redirect(f"/capture/{await capture.new_draft(structure_id, current.id)}")


@get("/capture/{draft_id:int}")
async def draft_page(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int], check: FromQuery[bool] = False) -> Template:
    """?check=1 shows what stops the draft from being sent (the result of a send queued offline)."""
    draft = await _draft(current, draft_id)
    form = capture.decoded(draft.form)
    if not check:
        return await _form_page(request, draft.id, form, ready=capture.is_ready(draft))
    supplier = await Structure.objects().get(Structure.id == draft.structure)
    recipient = await capture.recipient_of(form)
    _, problems = capture.to_invoice(form, supplier, recipient.structure if recipient else None)
    return await _form_page(request, draft.id, form, problems)


@post("/capture/{draft_id:int}")
async def draft_autosave(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template | Redirect:
    """Saves the draft as typed; answers htmx with the recomputed totals."""
    draft = await _draft(current, draft_id)
    form = capture.form_from_post(await form_data(request))
    await capture.save_draft(draft.id, form)
    if not request.headers.get("hx-request"):
        return Redirect(f"/capture/{draft.id}")
    return page(request, "invoices/_capture_totals.html", totals=capture.live_totals(form), form=form)


@post("/capture/{draft_id:int}/lines")
async def draft_add_line(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template:
    draft = await _draft(current, draft_id)
    form = capture.form_from_post(await form_data(request))
    if len(form["lines"]) < capture.MAX_LINES:
        form["lines"].append(capture.blank_line(await capture.under_franchise(draft.structure)))
    await capture.save_draft(draft.id, form)
    return page(request, "invoices/_capture_lines.html", form=form, vat_rates=capture.VAT_RATES, units=capture.UNITS,
                exemption_reasons=capture.EXEMPTION_REASONS, problem_fields=set(), draft_id=draft.id)


@get("/capture/recipients")
async def recipient_search(request: Request, current: NamedDependency[CurrentUser], q: FromQuery[str] = "", draft_id: FromQuery[int] = 0) -> Template:
    access.require_active_right(current, "can_deposit")
    results = await search.search_structures(q) if len(q.strip()) >= 2 else []
    return page(request, "invoices/_capture_recipients.html", results=[r for r in results if r["active"]], q=q, draft_id=draft_id)


@post("/capture/{draft_id:int}/recipient")
async def recipient_choose(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template:
    draft = await _draft(current, draft_id)
    data = await form_data(request)
    form = capture.form_from_post(data)
    structure = await search.public_structure(data.get("choose_siret", ""))
    if structure is not None:
        form |= {"recipient_siret": structure.siret, "recipient_name": structure.name, "service_code": ""}
    await capture.save_draft(draft.id, form)
    return page(request, "invoices/_capture_routing.html", form=form, recipient=await capture.recipient_of(form),
                problem_fields=set(), draft_id=draft.id)


@post("/capture/{draft_id:int}/send")
async def draft_send(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template | Redirect:
    """Valider et envoyer: Factur-X EN 16931, then the same deposit pipeline as any file."""
    from backend.invoices.generation import AttachmentError, build_facturx  # loads the PDF renderer on first use

    data = await form_data(request)
    key = _idempotency_key(request, data)
    if key and (replay := await _replay(request, current, key, draft_id)):
        return replay  # this send already happened (a queued capture sent again): same answer
    draft = await _draft_to_send(current, draft_id, key, data.get("structure", ""))
    form = capture.form_from_post(data)
    await capture.save_draft(draft.id, form)
    supplier = await Structure.objects().get(Structure.id == draft.structure)
    recipient = await capture.recipient_of(form)
    invoice, problems = capture.to_invoice(form, supplier, recipient.structure if recipient else None)
    # The photos it carries (a send queued offline) join the draft first: a refused send keeps them.
    settings = request.app.state.settings
    refusals = await draft_files.add(settings, draft.id, await read_uploads(request, "attachment"))
    problems += [Problem("attachment", refusal) for refusal in refusals]
    attachments = await draft_files.uploads_of(settings, draft.id)
    if problems:
        response = await _form_page(request, draft.id, form, problems, status=422)
        response.headers |= {"X-Facteur-Result": "invalid", "X-Facteur-Location": f"/capture/{draft.id}?check=1"}
        return response
    files = [(a.filename, a.data, attachment_type(a.data)) for a in attachments]
    try:
        pdf = await heavy.run(f"user:{current.id}", build_facturx, invoice, files)
    except AttachmentError as exc:  # e.g. a photo the PDF renderer cannot read: said, not a 500
        response = await _form_page(request, draft.id, form, [Problem("attachment", str(exc))], status=422)
        response.headers |= {"X-Facteur-Result": "invalid", "X-Facteur-Location": f"/capture/{draft.id}"}
        return response
    # The photos travel inside the Factur-X and also as separate attachments, easy to open.
    try:
        validators = Validators(form.get("validator_siret") or "", form.get("validator_2_siret") or "") \
            if frameworks.needs_validator(form.get("billing_framework")) else None
        deposit_id = await deposit(settings, supplier, current.id, [Upload(f"{invoice.number}.pdf", pdf)], attachments,
                                   channel="capture", idempotency_key=key, caller=f"user:{current.id}", validators=validators)
    except Exception:
        # Two copies of one queued send racing: the loser answers with the winner's result.
        if key and (replay := await _replay(request, current, key, draft_id)):
            return replay
        raise
    item = await DepositItem.objects().where(DepositItem.deposit == deposit_id).first()
    if item.accepted:
        await InvoiceDraft.delete().where(InvoiceDraft.id == draft.id)
    return await _send_result(request, deposit_id, draft.id)


@post("/capture/new/send")
async def new_draft_send(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    """The send of an invoice started on a phone with no network once its ready draft was
    taken (offline.js, a phone-only draft): it has no draft on the server, so, as for a
    queued send whose draft has gone, one is made for it now (never draft 0: no id is 0)."""
    return await draft_send.fn(request=request, current=current, draft_id=0)


async def _draft_to_send(current: CurrentUser, draft_id: int, key: str | None, typed_for: str) -> InvoiceDraft:
    """The draft, or, for a send queued on a device (it has a key) whose draft has gone since
    (sent or deleted from another device, or the ready draft taken by another phone), a new
    draft for what the device holds: an invoice typed offline is never lost to a 404. Only
    for the structure it was typed for (the form names it): switching structures in between
    must not send it in another supplier's name."""
    try:
        return await _draft(current, draft_id)
    except NotFoundException:
        structure_id = access.require_active_right(current, "can_deposit")
        if key is None or typed_for != str(structure_id) or await InvoiceDraft.exists().where(InvoiceDraft.id == draft_id):
            raise
    draft = InvoiceDraft(structure=structure_id, user=current.id, send_key=key)
    await draft.save()
    return draft


async def _send_result(request: Request, deposit_id: int, draft_id: int) -> Template | Redirect:
    """The invoice when accepted; else the report (the draft stays to be corrected)."""
    item = await DepositItem.objects().where(DepositItem.deposit == deposit_id).first()
    if item.accepted:
        return Redirect(f"/invoices/{item.invoice}", headers={"X-Facteur-Result": "accepted"})
    response = page(request, "invoices/deposit_report.html", status_code=422, draft_id=draft_id, **await deposit_report_context(deposit_id))
    # For a send queued offline: where the page shows this report again later.
    response.headers |= {"X-Facteur-Result": "refused", "X-Facteur-Location": f"/deposits/{deposit_id}?draft={draft_id}"}
    return response


_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")


def _idempotency_key(request: Request, data: dict[str, str]) -> str | None:
    """The device's key for this send (form field or Idempotency-Key header), if any."""
    key = (request.headers.get("idempotency-key") or data.get("idempotency_key") or "").strip()
    if key and not _KEY.fullmatch(key):
        raise HTTPException(status_code=400, detail="Clé d'idempotence invalide.")
    return key or None


async def _replay(request: Request, current: CurrentUser, key: str, draft_id: int) -> Template | Redirect | None:
    structure_id = access.require_active_right(current, "can_deposit")
    first = await Deposit.select(Deposit.id).where((Deposit.structure == structure_id) & (Deposit.idempotency_key == key)).first()
    if first is None:
        return None
    # The first send may have made its own draft (a phone-only draft is sent as draft 0):
    # the report of a refused one points to that draft, where the invoice waits to be corrected.
    made = await InvoiceDraft.select(InvoiceDraft.id).where(
        (InvoiceDraft.send_key == key) & (InvoiceDraft.user == current.id) & (InvoiceDraft.structure == structure_id)).first()
    return await _send_result(request, first["id"], made["id"] if made else draft_id)


@post("/capture/{draft_id:int}/delete")
async def draft_delete(current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Redirect:
    draft = await _draft(current, draft_id)
    await InvoiceDraft.delete().where(InvoiceDraft.id == draft.id)
    return Redirect("/capture")


router = Router(opt=space("emises", level=MODIFICATION), path="/", dependencies={"current": Provide(require_user)}, route_handlers=[
    capture_home, draft_create, draft_page, draft_autosave, draft_add_line, recipient_search, recipient_choose, draft_send, draft_delete,
    new_draft_send, *draft_file_handlers,
])
