"""Deposit pages (upload, report, history) and the invoice page with its files."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.directory.tables import Structure
from backend.invoices import access, storage
from backend.invoices.capture import UNITS
from backend.invoices.deposit import DepositRefused, Upload, deposit
from backend.invoices.statuses import label
from backend.invoices.tables import Attachment, Deposit, DepositItem, Invoice, InvoiceDraft, InvoiceHistory, StoredFile
from backend.lib.web import CurrentUser, flash, form_data, page, require_user

PAGE_SIZE = 25
LIVE_PARTS = {"status": "invoices/_live_status.html", "history": "invoices/_live_history.html"}
STAGES = [("detect", "Lecture du fichier"), ("xsd", "Structure XML (XSD)"), ("en16931", "Règles européennes EN 16931"),
          ("profile", "Règles du profil Factur-X"), ("portal", "Règles du portail (acheminement, doublons)")]


async def read_uploads(request: Request, field: str) -> list[Upload]:
    """The non-empty file parts named `field` of a multipart form (an empty file input sends none)."""
    form = await request.form()
    parts = [p for p in form.getall(field) if isinstance(p, UploadFile) and p.filename] if field in form else []
    return [Upload(filename=p.filename, data=await p.read()) for p in parts]


@get("/deposits")
async def deposits_page(request: Request, current: NamedDependency[CurrentUser], before: FromQuery[int | None] = None) -> Template:
    structure_id = access.require_active_right(current, "can_consult")
    query = Deposit.select().where(Deposit.structure == structure_id)
    if before:
        query = query.where(Deposit.id < before)
    rows = await query.order_by(Deposit.id, ascending=False).limit(PAGE_SIZE + 1)
    return page(request, "invoices/deposits.html", deposits=rows[:PAGE_SIZE],
                next_before=rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
                can_deposit=bool(current.active and current.active["can_deposit"]))


@post("/deposits")
async def deposit_submit(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    structure_id = access.require_active_right(current, "can_deposit")
    depositor = await Structure.objects().get(Structure.id == structure_id)
    files, attachments = await read_uploads(request, "file"), await read_uploads(request, "attachment")
    try:
        strict_fr = (await form_data(request)).get("strict_fr") == "on"
        deposit_id = await deposit(request.app.state.settings, depositor, current.id, files, attachments,
                                   channel="web", strict_fr=strict_fr)
    except DepositRefused as exc:
        return page(request, "invoices/deposits.html", status_code=400, deposits=[], next_before=None, can_deposit=True, error=exc.message)
    report = await deposit_report_context(deposit_id)
    return page(request, "invoices/deposit_report.html", status_code=201 if report["deposit"]["accepted_count"] else 422, **report)


async def deposit_report_context(deposit_id: int) -> dict:
    dep = await Deposit.select().where(Deposit.id == deposit_id).first()
    items = await DepositItem.select().where(DepositItem.deposit == deposit_id).order_by(DepositItem.position)
    for item in items:
        findings = msgspec.json.decode(item["findings"]) if isinstance(item["findings"], str) else item["findings"]
        item["by_stage"] = [(title, [f for f in findings if f["stage"] == stage]) for stage, title in STAGES]
        item["by_stage"] = [(title, fs) for title, fs in item["by_stage"] if fs]
        item["blocking"], item["warning_groups"] = report_findings(findings)
        item["warning_count"] = sum(g["count"] for g in item["warning_groups"])
    return {"deposit": dep, "items": items}


def report_findings(findings: list[dict]) -> tuple[list[dict], list[dict]]:
    """Blocking findings first (in the order of the stages: what to fix); warnings grouped, one
    entry per same rule and message with its count and places, to be folded under them."""
    titles = dict(STAGES)
    order = {stage: position for position, (stage, _) in enumerate(STAGES)}
    blocking = sorted((dict(f, stage_title=titles.get(f["stage"], f["stage"])) for f in findings if f["severity"] == "fatal"),
                      key=lambda f: order.get(f["stage"], len(order)))
    groups: dict[tuple[str, str], dict] = {}
    for f in findings:
        if f["severity"] == "fatal":
            continue
        group = groups.setdefault((f["rule"], f["message"]), dict(f, stage_title=titles.get(f["stage"], f["stage"]), count=0, locations=[]))
        group["count"] += 1
        if f.get("location"):
            group["locations"].append(f["location"])
    return blocking, list(groups.values())


@get("/deposits/{deposit_id:int}")
async def deposit_report(request: Request, current: NamedDependency[CurrentUser], deposit_id: FromPath[int],
                         draft: FromQuery[int | None] = None) -> Template:
    """?draft= names the capture draft the deposit came from (a send queued offline and
    refused): the report then offers to correct it, if it is still there and ours."""
    await access.visible_deposit(current, deposit_id)
    if draft is not None and not await InvoiceDraft.exists().where(
            (InvoiceDraft.id == draft) & (InvoiceDraft.structure == current.structure_id)):
        draft = None
    return page(request, "invoices/deposit_report.html", draft_id=draft, **await deposit_report_context(deposit_id))


ACTOR_KINDS = {"platform": "Plateforme Facteur"}


async def timeline(invoice: Invoice, supplier_name: str, recipient_name: str) -> list[dict]:
    """The history, oldest first, with who acted (person and structure) and why, in French."""
    from backend.processing.reasons import reason_label

    rows = await InvoiceHistory.select(
        InvoiceHistory.all_columns(), InvoiceHistory.actor.first_name, InvoiceHistory.actor.last_name,
    ).where(InvoiceHistory.invoice == invoice.id).order_by(InvoiceHistory.id).output(load_json=True)
    sides = {"supplier": supplier_name, "recipient": recipient_name}
    for row in rows:
        person = f"{row.get('actor.first_name') or ''} {row.get('actor.last_name') or ''}".strip()
        side = sides.get(row["actor_kind"], ACTOR_KINDS.get(row["actor_kind"], row["actor_kind"]))
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
    from backend.processing import lifecycle
    from backend.processing.controllers import ACTION_LABELS, IRREVERSIBLE
    from backend.processing.reasons import REASONS

    from backend.invoices.workspace import file_name_differs

    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    supplier = await Structure.objects().get(Structure.id == invoice.supplier)
    history = await timeline(invoice, supplier.name, recipient.name)
    attachments = await Attachment.select(Attachment.id, Attachment.filename, Attachment.media_type, Attachment.created_at).where(
        Attachment.invoice == invoice.id).order_by(Attachment.id)
    actor = lifecycle.actor_for(current.id, current.structure_id, invoice)
    actions = await lifecycle.allowed_actions(invoice, actor) if actor else []
    last_reason = next((h for h in reversed(history) if h["status"] == invoice.status and (h["reason_code"] or h["comment"])), None)
    can_reissue = (invoice.status == "REJETEE" and actor is not None and actor.role == lifecycle.SUPPLIER
                   and bool(current.active and current.active.get("can_deposit")))
    # The registered names are shown; the file's only beside them, flagged, when they differ.
    names_in_file = {"seller": invoice.seller_name if file_name_differs(invoice.seller_name, supplier.name) else "",
                     "buyer": invoice.buyer_name if file_name_differs(invoice.buyer_name, recipient.name) else ""}
    return {"invoice": invoice, "history": history, "attachments": attachments, "recipient": recipient,
            "supplier": supplier, "names_in_file": names_in_file,
            "status_label": label, "actions": actions, "action_labels": ACTION_LABELS, "irreversible": IRREVERSIBLE,
            "reasons": REASONS, "action_error": None, "last_reason": last_reason, "can_reissue": can_reissue,
            "role": actor.role if actor else None}


async def invoice_page_context(current: CurrentUser, invoice_id: int) -> dict:
    """Everything the invoice page shows, including the actions this user may take now."""
    from backend.messages.service import thread_context

    invoice = await access.visible_invoice(current, invoice_id)
    data = msgspec.json.decode(invoice.data) if isinstance(invoice.data, str) else invoice.data
    original = await StoredFile.objects().get(StoredFile.id == invoice.original_file)
    return {**await invoice_live_context(current, invoice), "data": data, "original": original, "units": UNITS,
            **await thread_context(invoice, current)}  # opening the page reads the thread


@get("/invoices/{invoice_id:int}")
async def invoice_page(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template:
    return page(request, "invoices/invoice.html", **await invoice_page_context(current, invoice_id))


@get("/invoices/{invoice_id:int}/live/{part:str}")
async def invoice_live(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], part: FromPath[str]) -> Template:
    """A live block of the invoice page (status and actions, or history): swapped on sse:invoice-<id>."""
    if part not in LIVE_PARTS:
        raise NotFoundException(access.NOT_FOUND)
    invoice = await access.visible_invoice(current, invoice_id)
    return page(request, LIVE_PARTS[part], **await invoice_live_context(current, invoice))


@post("/invoices/{invoice_id:int}/reissue")
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


async def _file_response(request: Request, file_id: int, filename: str, inline: bool) -> Response:
    stored = await StoredFile.objects().get(StoredFile.id == file_id)
    data = await storage.read_blob(request.app.state.settings.files_dir, stored.sha256)
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


@get("/invoices/{invoice_id:int}/original")
async def invoice_original(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], inline: FromQuery[bool] = False) -> Response:
    invoice = await access.visible_invoice(current, invoice_id)
    return await _file_response(request, invoice.original_file, invoice.original_name, inline)


@get("/invoices/{invoice_id:int}/attachments/{attachment_id:int}")
async def invoice_attachment(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], attachment_id: FromPath[int], inline: FromQuery[bool] = False) -> Response:
    invoice = await access.visible_invoice(current, invoice_id)
    attachment = await Attachment.objects().get((Attachment.id == attachment_id) & (Attachment.invoice == invoice.id))
    if attachment is None:
        raise NotFoundException(access.NOT_FOUND)
    return await _file_response(request, attachment.file, attachment.filename, inline)


router = Router(path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[deposits_page, deposit_submit, deposit_report, invoice_page, invoice_original, invoice_attachment,
                               invoice_live, invoice_reissue])
