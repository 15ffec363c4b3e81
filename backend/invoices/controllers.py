"""Deposit pages (upload, report, history) and the invoice page with its files."""

from __future__ import annotations


import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.spaces import INVOICES, space
from backend.directory.tables import Structure
from backend.invoices import access, storage
from backend.invoices.deposit import DepositRefused, deposit
from backend.invoices.portal_rules import Validators
from backend.invoices.invoice_page import invoice_live_context, invoice_page_context
from backend.invoices.tables import Attachment, Deposit, DepositItem, InvoiceDraft, StoredFile
from backend.lib.uploads import read_uploads
from backend.lib.db import get_object
from backend.processing.lifecycle import TransitionError
from backend.lib.web import CurrentUser, flash, form_data, page, require_user

PAGE_SIZE = 25
LIVE_PARTS = {"status": "invoices/_live_status.html", "history": "invoices/_live_history.html"}
STAGES = [("detect", "Lecture du fichier"), ("xsd", "Structure XML (XSD)"), ("en16931", "Règles européennes EN 16931"),
          ("fr", "Règles françaises de la réforme (BR-FR)"),
          ("profile", "Règles du profil Factur-X"), ("portal", "Règles du portail (acheminement, doublons)")]


def shown_stage(found: dict) -> str:
    """The report's group of a finding: the French reform rules (stage en16931 for
    programs) are shown apart from the European ones, so that nobody takes them for EN 16931."""
    return "fr" if found["rule"].startswith("BR-FR") else found["stage"]


@get("/deposits", opt=space("emises"))
async def deposits_page(request: Request, current: NamedDependency[CurrentUser], before: FromQuery[int | None] = None) -> Template:
    structure_id = access.require_active_right(current, "can_consult")
    query = Deposit.select().where(Deposit.structure == structure_id)
    if before:
        query = query.where(Deposit.id < before)
    rows = await query.order_by(Deposit.id, ascending=False).limit(PAGE_SIZE + 1)
    return page(request, "invoices/deposits.html", deposits=rows[:PAGE_SIZE],
                next_before=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
                can_deposit=bool(current.active and current.active["can_deposit"]))


@post("/deposits", opt=space("emises"))
async def deposit_submit(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    structure_id = access.require_active_right(current, "can_deposit")
    depositor = await get_object(Structure, "id = {}", structure_id)
    files, attachments = await read_uploads(request, "file"), await read_uploads(request, "attachment")
    try:
        form = await form_data(request)
        strict_fr = form.get("strict_fr") == "on"
        validators = Validators(str(form.get("validator_siret") or "")[:20], str(form.get("validator_2_siret") or "")[:20])
        deposit_id = await deposit(request.app.state.settings, depositor, current.id, files, attachments,
                                   channel="web", strict_fr=strict_fr, caller=f"user:{current.id}", validators=validators)
    except DepositRefused as exc:
        return page(request, "invoices/deposits.html", status_code=400, deposits=[], next_before=None, can_deposit=True, error=exc.message)
    report = await deposit_report_context(deposit_id)
    return page(request, "invoices/deposit_report.html", status_code=201 if report["deposit"]["accepted_count"] else 422, **report)


def _columns(table) -> str:
    return ", ".join(f'"{column._meta.db_column_name}"' for column in table.all_columns())  # "user" is a keyword


_DEPOSIT_SQL = f"SELECT {_columns(Deposit)} FROM deposit WHERE id = {{}}"
_DEPOSIT_ITEMS_SQL = f'SELECT {_columns(DepositItem)} FROM deposit_item WHERE deposit = {{}} ORDER BY "position"'


async def deposit_report_context(deposit_id: int) -> dict:
    # Shown after every deposit: plain SQL written once (Piccolo built these two selects
    # anew each time, about 1 ms of CPU), the same columns as Deposit.select() and DepositItem.select().
    deposits = await Deposit.raw(_DEPOSIT_SQL, deposit_id)
    dep = dict(deposits[0]) if deposits else None
    items = [dict(row) for row in await DepositItem.raw(_DEPOSIT_ITEMS_SQL, deposit_id)]
    for item in items:
        findings = msgspec.json.decode(item["findings"]) if isinstance(item["findings"], str) else item["findings"]
        item["by_stage"] = [(title, [f for f in findings if shown_stage(f) == stage]) for stage, title in STAGES]
        item["by_stage"] = [(title, fs) for title, fs in item["by_stage"] if fs]
        item["blocking"], item["warning_groups"] = report_findings(findings)
        item["warning_count"] = sum(g["count"] for g in item["warning_groups"])
    return {"deposit": dep, "items": items}


def report_findings(findings: list[dict]) -> tuple[list[dict], list[dict]]:
    """Blocking findings first (in the order of the stages: what to fix); warnings grouped, one
    entry per same rule and message with its count and places, to be folded under them."""
    titles = dict(STAGES)
    order = {stage: position for position, (stage, _) in enumerate(STAGES)}
    blocking = sorted((dict(f, stage_title=titles.get(shown_stage(f), f["stage"])) for f in findings if f["severity"] == "fatal"),
                      key=lambda f: order.get(shown_stage(f), len(order)))
    groups: dict[tuple[str, str], dict] = {}
    for f in findings:
        if f["severity"] == "fatal":
            continue
        group = groups.setdefault((f["rule"], f["message"]), dict(f, stage_title=titles.get(shown_stage(f), f["stage"]), count=0, locations=[]))
        group["count"] += 1
        if f.get("location"):
            group["locations"].append(f["location"])
    return blocking, list(groups.values())


@get("/deposits/{deposit_id:int}", opt=space("emises"))
async def deposit_report(request: Request, current: NamedDependency[CurrentUser], deposit_id: FromPath[int],
                         draft: FromQuery[int | None] = None) -> Template:
    """?draft= names the capture draft the deposit came from (a send queued offline and
    refused): the report then offers to correct it, if it is still there and ours."""
    await access.visible_deposit(current, deposit_id)
    if draft is not None and not await InvoiceDraft.exists().where(
            (InvoiceDraft.id == draft) & (InvoiceDraft.structure == current.structure_id)):
        draft = None
    return page(request, "invoices/deposit_report.html", draft_id=draft, **await deposit_report_context(deposit_id))


@get("/invoices/{invoice_id:int}", opt=space(INVOICES))
async def invoice_page(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template:
    return page(request, "invoices/invoice.html", **await invoice_page_context(current, invoice_id))


@get("/invoices/{invoice_id:int}/live/{part:str}", opt=space(INVOICES))
async def invoice_live(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], part: FromPath[str],
                       version: int | None = None) -> Template | Response:
    """A live block of the invoice page (status and actions, or history): swapped on sse:invoice-<id>.

    The status block names the version it shows: while the invoice is still at that version the
    answer is 204 and htmx swaps nothing, so an event that changed nothing the block shows never
    closes the action form a person has open, nor loses what they typed in it."""
    if part not in LIVE_PARTS:
        raise NotFoundException(access.NOT_FOUND)
    invoice = await access.visible_invoice(current, invoice_id)
    if part == "status" and version == invoice.version:
        return Response(content=b"", status_code=204)
    return page(request, LIVE_PARTS[part], **await invoice_live_context(current, invoice))


@post("/invoices/{invoice_id:int}/reissue", opt=space("emises"))
async def invoice_reissue(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Redirect:
    """Créer une nouvelle facture à partir de celle-ci: only from a rejected invoice, by its supplier."""
    from backend.invoices.reissue import draft_from_rejected

    invoice = await access.visible_invoice(current, invoice_id)
    if not (await invoice_live_context(current, invoice))["can_reissue"]:
        raise NotFoundException(access.NOT_FOUND)
    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    draft_id = await draft_from_rejected(invoice, recipient.siret, recipient.name, current.id)
    flash(request, f"Nouvelle facture préparée à partir de la facture n° {invoice.number} : vérifiez-la, puis envoyez-la.", "success")
    return Redirect(f"/capture/{draft_id}")


NOT_LATE = "Cette facture n'a pas de retard de paiement : il n'y a pas d'intérêts moratoires à réclamer."


async def _supplier_invoice(current: CurrentUser, invoice_id: int):
    """The invoice, for a member of its supplier who may deposit (404 for anyone else: nothing leaks)."""
    invoice = await access.visible_invoice(current, invoice_id)
    if not (current.active and current.active["structure"]["id"] == invoice.supplier and current.active.get("can_deposit")):
        raise NotFoundException(access.NOT_FOUND)
    return invoice


@get("/invoices/{invoice_id:int}/late-claim.pdf", opt=space("emises"))
async def invoice_late_claim_pdf(current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Response:
    """La réclamation des intérêts moratoires et de l'indemnité forfaitaire (PDF), pour le fournisseur."""
    from backend.invoices.documents.controllers import pdf_response
    from backend.invoices.late_claim import NotLate, claim_filename, claim_pdf

    invoice = await _supplier_invoice(current, invoice_id)
    try:
        data = await claim_pdf(invoice)
    except NotLate:
        raise TransitionError("not_late", NOT_LATE, 409) from None
    return pdf_response(data, claim_filename(invoice))


@post("/invoices/{invoice_id:int}/late-claim", opt=space("emises"))
async def invoice_late_claim_draft(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Redirect:
    """A capture draft invoicing the interest and the indemnity to the same recipient."""
    from backend.invoices.late_claim import NotLate, claim_draft

    invoice = await _supplier_invoice(current, invoice_id)
    try:
        draft_id = await claim_draft(invoice, current.id)
    except NotLate:
        raise TransitionError("not_late", NOT_LATE, 409) from None
    flash(request, f"Facture des intérêts moratoires de la facture n°\u00a0{invoice.number} préparée\u00a0: vérifiez-la, puis envoyez-la.",
          "success")
    return Redirect(f"/capture/{draft_id}")


async def _file_response(request: Request, file_id: int, filename: str, inline: bool) -> Response:
    stored = await StoredFile.objects().get(StoredFile.id == file_id)
    data = await storage.read_blob(request.app.state.settings, stored.sha256)
    disposition = "inline" if inline and stored.media_type in ("application/pdf", "image/jpeg", "image/png") else "attachment"
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename) or "fichier"
    framing = "'self'" if disposition == "inline" else "'none'"
    return Response(data, media_type=stored.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{safe_name}"',
        "Cache-Control": "private, max-age=3600",
        "X-Content-SHA256": stored.sha256,
        # The browser's own PDF viewer needs object-src; the file itself may run nothing.
        # Shown inline, it may be framed by our own invoice page (the PDF preview), nowhere else.
        "Content-Security-Policy": f"default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors {framing}",
        "X-Frame-Options": "SAMEORIGIN" if disposition == "inline" else "DENY",
    })


@get("/invoices/{invoice_id:int}/original", opt=space(INVOICES))
async def invoice_original(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], inline: FromQuery[bool] = False) -> Response:
    invoice = await access.visible_invoice(current, invoice_id)
    return await _file_response(request, invoice.original_file, invoice.original_name, inline)


@get("/invoices/{invoice_id:int}/attachments/{attachment_id:int}", opt=space(INVOICES))
async def invoice_attachment(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], attachment_id: FromPath[int], inline: FromQuery[bool] = False) -> Response:
    invoice = await access.visible_invoice(current, invoice_id)
    attachment = await Attachment.objects().get((Attachment.id == attachment_id) & (Attachment.invoice == invoice.id))
    if attachment is None:
        raise NotFoundException(access.NOT_FOUND)
    return await _file_response(request, attachment.file, attachment.filename, inline)


router = Router(path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[deposits_page, deposit_submit, deposit_report, invoice_page, invoice_original, invoice_attachment,
                               invoice_live, invoice_reissue, invoice_late_claim_pdf, invoice_late_claim_draft])
