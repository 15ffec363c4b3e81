"""API v1 for invoicing software: deposits, invoices, supplier answers, recipient processing, directory.

Every handler takes the key's principal (401 without it), checks the scope it needs
(403), and only ever finds rows of the key's structure (404 otherwise, never 403, so
the existence of another structure's invoice does not leak). POSTs go through
`idempotent` (Idempotency-Key).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api import service
from backend.api.auth import ApiPrincipal, require_scope
from backend.api.decoding import check_numbers, french
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.api.tables import ApiUpload
# Attachments of the API (inline or sent ahead), shared with the domains' APIs (backend/justice/api.py).
from backend.api.attachments import UPLOAD_LIFETIME, attachment_uploads as _attachment_uploads, checked_attachment as _checked_attachment
from backend.lib import heavy
from backend.lib.db import transaction
from backend.lib.effects import note_committed
from backend.api.schemas import (
    AcknowledgementIn, AttachmentIn, AttachmentSent, CompletionIn, DepositOut, InvoiceDetail, InvoiceIn, InvoicePage, RecyclingIn,
    InvoiceSummary, ServiceOut, StatusIn, StructureDetail, StructureOut, ValidationIn,
)
from backend.invoices.portal_rules import Validators
from backend.directory.search import active_services, public_structure, search_structures
from backend.invoices import storage
from backend.invoices.deposit import DepositRefused, Upload, attachment_type, deposit
from backend.invoices.generation.model import FRANCHISE_CODE
from backend.invoices.documents.certificate import certificate_filename, certificate_pdf
from backend.invoices.statuses import STATUSES
from backend.invoices.tables import Attachment, DepositItem, Invoice, StoredFile
from backend.processing import frameworks, lifecycle
from backend.processing.lifecycle import Actor, Payment, Routing

JSON = "application/json"
ID = PathParameter(ge=1, le=2**31 - 1, examples=[Example(value=1)])
LIMIT = QueryParameter(ge=1, le=service.MAX_LIMIT, description="Nombre maximal de factures renvoyées (1 à 100).")
STATUS_FILTER = QueryParameter(description="Ne garder que les factures à ce statut (ex. SUSPENDUE).", max_length=24)
SINCE = QueryParameter(description="Ne garder que les factures modifiées après cet instant (ISO 8601 avec fuseau).")
CURSOR = QueryParameter(description="Le `next_cursor` de la page précédente.", max_length=200)


def _json(value: msgspec.Struct, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type=JSON)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _status_filter(status: str | None) -> str | None:
    if status and status not in STATUSES:
        raise ApiProblem(422, "status_invalid", f"Le statut « {status} » n'existe pas.")
    return status or None


def _digest(parts: list[tuple[str, str, bytes]]) -> bytes:
    """A multipart body's identity for idempotency: its parts, not the random boundary."""
    digest = hashlib.sha256()
    for name, filename, data in parts:
        digest.update(f"{name}\0{filename}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.digest()


async def _uploads(request: Request, field: str) -> list[Upload]:
    form = await request.form()
    parts = [p for p in form.getall(field) if isinstance(p, UploadFile) and p.filename] if field in form else []
    return [Upload(filename=p.filename, data=await p.read()) for p in parts]




@post("/attachments", status_code=201, summary="Envoyer une pièce jointe à l'avance (multipart)", tags=["Pièces jointes"])
async def send_attachment(request: Request, principal: NamedDependency[ApiPrincipal]) -> Response[AttachmentSent]:
    """Une partie `file` (PDF, JPEG ou PNG), envoyée telle quelle, sans base64. La réponse donne
    l'`id` à citer dans `attachments` (`{"id": …}`) d'une facture structurée ou d'un complément,
    pendant 7 jours."""
    require_scope(principal, "deposit")
    files = await _uploads(request, "file")
    if len(files) != 1:
        raise ApiProblem(422, "one_file_expected", "Envoyez exactement une partie « file » (le document).")
    settings = request.app.state.settings

    async def work() -> Response:
        upload = _checked_attachment(files[0].filename[:255], files[0].data, settings.max_file_size)
        digest = await storage.write_blob(settings, upload.data)
        row = ApiUpload(public_id="pj_" + secrets.token_urlsafe(16), structure=principal.structure_id,
                        filename=upload.filename, media_type=attachment_type(upload.data), size=len(upload.data), digest=digest)
        async with transaction():
            await row.save()
            await note_committed("api_upload", row.id)
        return await _attachment_sent(row.id)

    return await idempotent(request, principal, work, body=_digest([("file", f.filename, f.data) for f in files]),
                            effect="api_upload", replay=_attachment_sent)


async def _attachment_sent(upload_id: int) -> Response:
    row = await ApiUpload.objects().get(ApiUpload.id == upload_id)
    created = _utc(row.created_at) or datetime.now(timezone.utc)
    return _json(AttachmentSent(id=row.public_id, filename=row.filename, media_type=row.media_type, size=row.size,
                                expires_at=created + UPLOAD_LIFETIME), 201)


# --- deposits ---------------------------------------------------------------------------------

@post("/deposits", status_code=201, summary="Déposer des factures (multipart)", tags=["Dépôts"])
async def create_deposit(request: Request, principal: NamedDependency[ApiPrincipal]) -> Response[DepositOut]:
    """Un ou plusieurs fichiers `file` (Factur-X, CII, UBL ou ZIP), des pièces jointes `attachment`
    facultatives. Le dépôt est enregistré même si des fichiers sont refusés : le rapport dit pourquoi."""
    require_scope(principal, "deposit")
    files, attachments = await _uploads(request, "file"), await _uploads(request, "attachment")
    body = _digest([("file", u.filename, u.data) for u in files] + [("attachment", u.filename, u.data) for u in attachments])

    async def work() -> Response:
        depositor = await service.structure_by_id(principal.structure_id)
        try:
            deposit_id = await deposit(request.app.state.settings, depositor, None, files, attachments, channel="api",
                                         caller=f"key:{principal.key_id}", validators=await _form_validators(request))
        except DepositRefused as exc:
            raise ApiProblem(422, exc.code, exc.message) from None
        return await _deposit_report(deposit_id)

    return await idempotent(request, principal, work, body=body, effect="deposit", replay=_deposit_report)


async def _form_validators(request: Request) -> Validators:
    """A9/A12 files name their validator in the form fields `validator_siret` (and `validator_2_siret`)."""
    form = await request.form()
    return Validators(str(form.get("validator_siret") or "")[:20], str(form.get("validator_2_siret") or "")[:20])


async def _deposit_report(deposit_id: int) -> Response:
    return _json(await service.deposit_out(deposit_id), 201)


@get("/deposits/{deposit_id:int}", summary="Rapport d'un dépôt", tags=["Dépôts"])
async def get_deposit(principal: NamedDependency[ApiPrincipal], deposit_id: Annotated[int, ID]) -> DepositOut:
    require_scope(principal, "read")
    from backend.invoices.tables import Deposit

    if not await Deposit.exists().where((Deposit.id == deposit_id) & (Deposit.structure == principal.structure_id)):
        raise ApiProblem(404, "not_found", "Ce dépôt n'existe pas ou n'est pas visible avec cette clé.")
    return await service.deposit_out(deposit_id)


# --- structured invoices ----------------------------------------------------------------------

def _capture_findings(problems) -> list[dict]:
    return [{"rule": "FCT-CAPTURE", "severity": "fatal", "stage": "capture", "message": p.message, "location": p.field} for p in problems]


async def _captured(data: InvoiceIn, principal: NamedDependency[ApiPrincipal]):
    from backend.invoices.capture import _address
    from backend.invoices.generation import CapturedInvoice, check_invoice

    if reason := frameworks.refusal(data.billing_framework):
        raise ApiProblem(422, "framework_not_supported", reason)
    if frameworks.is_memoire(frameworks.code_of(data.billing_framework)):
        raise ApiProblem(422, "framework_not_supported", "Un mémoire de frais de justice (A3) s'envoie par POST /api/v1/justice/memoires, "
                                                         "avec sa décision et sa mission.")
    supplier = await service.structure_by_id(principal.structure_id)
    recipient = await public_structure(data.recipient_siret)
    if recipient is None:
        raise ApiProblem(422, "invalid", "Le destinataire n'est pas une entité publique de l'annuaire.", findings=[{
            "rule": "FCT-PORTAL-02", "severity": "fatal", "stage": "portal", "location": "recipient_siret",
            "message": f"Aucune entité publique n'a le SIRET {data.recipient_siret} dans l'annuaire."}])
    check_numbers({f"lines[{i}].{name}": getattr(line, name) for i, line in enumerate(data.lines)
                   for name in ("quantity", "unit_price", "vat_rate")})
    raw = msgspec.structs.asdict(data)
    raw.pop("recipient_siret"), raw.pop("attachments"), raw.pop("validator_siret"), raw.pop("validator_2_siret")
    raw["lines"] = [_line_terms(line, supplier.vat_franchise) for line in data.lines]
    raw = {k: v for k, v in raw.items() if v is not None}
    raw["seller"] = {"name": supplier.name, "siret": supplier.siret, "address": _address(supplier),
                     "vat_id": supplier.vat_number or None, "iban": supplier.iban or None, "bic": supplier.bic or None,
                     "email": supplier.contact_email or None}
    raw["buyer"] = {"name": recipient.name, "siret": recipient.siret, "address": _address(recipient)}
    try:
        invoice = msgspec.convert(raw, CapturedInvoice, strict=False)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        where = _MSGSPEC_PATH.search(str(exc))
        raise ApiProblem(422, "invalid", "La facture ne peut pas être établie avec ces données.", findings=[{
            "rule": "FCT-CAPTURE", "severity": "fatal", "stage": "capture", "location": where.group(1) if where else None,
            "message": french(str(exc).split(" - at ", 1)[0])}]) from None
    if problems := check_invoice(invoice):
        raise ApiProblem(422, "invalid", "La facture ne peut pas être établie avec ces données.", findings=_capture_findings(problems))
    return supplier, invoice


_MSGSPEC_PATH = re.compile(r"at `\$\.([^`]+)`")


def _line_terms(line, franchise: bool) -> dict:
    """A line for the generator; under the VAT franchise (structure profile), a 0 % line that
    names no category nor reason takes the franchise's (VATEX-FR-FRANCHISE, art. 293 B du CGI)."""
    terms = {k: v for k, v in msgspec.structs.asdict(line).items() if v is not None}
    if franchise and line.vat_rate == 0 and line.vat_category is None and not line.exemption_reason_code:
        terms["exemption_reason_code"] = FRANCHISE_CODE
    return terms


@post("/invoices", status_code=201, summary="Établir et déposer une facture structurée", tags=["Factures émises"])
async def create_invoice(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[InvoiceIn]) -> Response[InvoiceDetail]:
    """La plateforme produit le Factur-X EN 16931, le valide et le dépose comme un fichier.
    422 avec la liste des constats quand la facture n'est pas valide."""
    require_scope(principal, "deposit")
    settings = request.app.state.settings

    async def work() -> Response:
        from backend.invoices.generation import AttachmentError, build_facturx

        attachments = await _attachment_uploads(data.attachments, principal, settings)
        supplier, invoice = await _captured(data, principal)
        files = [(a.filename, a.data, attachment_type(a.data)) for a in attachments]
        try:
            pdf = await heavy.run(f"key:{principal.key_id}", build_facturx, invoice, files)
        except AttachmentError as exc:  # e.g. an image the PDF renderer cannot read
            raise ApiProblem(422, "attachment_invalid", str(exc)) from None
        deposit_id = await deposit(settings, supplier, None, [Upload(f"{invoice.number}.pdf", pdf)], attachments, channel="api",
                                 caller=f"key:{principal.key_id}",
                                 validators=Validators(data.validator_siret or "", data.validator_2_siret or ""))
        return await created(deposit_id)

    async def created(deposit_id: int) -> Response:
        """The answer once the generated file is deposited: the invoice, or why the deposit refused it."""
        item = await DepositItem.objects().where(DepositItem.deposit == deposit_id).first()
        if not item.accepted:
            report = await service.deposit_out(deposit_id)
            raise ApiProblem(422, "invalid", "La facture a été refusée au dépôt : voir les constats.",
                             findings=[msgspec.structs.asdict(f) for f in report.report[0].findings], extra={"deposit_id": deposit_id})
        saved = await Invoice.objects().get(Invoice.id == item.invoice)
        return _json(await _detail(principal, saved), 201)

    return await idempotent(request, principal, work, effect="deposit", replay=created)


# --- reading invoices -------------------------------------------------------------------------

@get("/invoices", summary="Factures émises (pagination par curseur)", tags=["Factures émises"])
async def list_invoices(
    principal: NamedDependency[ApiPrincipal],
    status: Annotated[str | None, STATUS_FILTER] = None,
    updated_since: Annotated[datetime | None, SINCE] = None,
    recipient: Annotated[str | None, QueryParameter(description="SIRET du destinataire.", pattern=r"^[0-9]{14}$")] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int, LIMIT] = service.DEFAULT_LIMIT,
) -> InvoicePage:
    require_scope(principal, "read")
    items, next_cursor = await service.invoice_page(
        Invoice.supplier, principal.structure_id, status=_status_filter(status), updated_since=_utc(updated_since),
        counterpart=recipient, cursor=cursor, limit=limit)
    return InvoicePage(items=items, next_cursor=next_cursor)


async def _detail(principal: NamedDependency[ApiPrincipal], invoice: Invoice) -> InvoiceDetail:
    actor = _actor(principal, invoice)
    actions = await lifecycle.allowed_actions(invoice, actor) if actor else []
    return await service.invoice_detail(invoice, actions)


def _actor(principal: NamedDependency[ApiPrincipal], invoice: Invoice) -> Actor | None:
    """The key's role for this invoice, if its scopes let it act on that side."""
    if invoice.recipient == principal.structure_id and "process" in principal.scopes:
        return principal.actor(lifecycle.RECIPIENT)
    if invoice.supplier == principal.structure_id and "deposit" in principal.scopes:
        return principal.actor(lifecycle.SUPPLIER)
    if principal.structure_id in (invoice.validator_1, invoice.validator_2) and "deposit" in principal.scopes:
        return principal.actor(lifecycle.VALIDATOR)
    return None


@get("/invoices/{invoice_id:int}", summary="Une facture : données, statut, historique", tags=["Factures émises"])
async def get_invoice(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> InvoiceDetail:
    require_scope(principal, "read")
    return await _detail(principal, await service.visible_invoice(principal.structure_id, invoice_id))


async def _file(request: Request, file_id: int, filename: str) -> Response:
    stored = await StoredFile.objects().get(StoredFile.id == file_id)
    data = await storage.read_blob(request.app.state.settings, stored.sha256)
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename) or "fichier"
    return Response(data, media_type=stored.media_type, headers={
        "Content-Disposition": f'attachment; filename="{safe_name}"', "X-Content-SHA256": stored.sha256,
    })


@get("/invoices/{invoice_id:int}/file", summary="Le fichier original de la facture", tags=["Factures émises"],
     media_type="application/octet-stream")
async def get_invoice_file(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> Response[bytes]:
    require_scope(principal, "read")
    invoice = await service.visible_invoice(principal.structure_id, invoice_id)
    return await _file(request, invoice.original_file, invoice.original_name)


@get("/invoices/{invoice_id:int}/attachments/{attachment_id:int}", summary="Une pièce jointe", tags=["Factures émises"],
     media_type="application/octet-stream")
async def get_attachment(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID],
                         attachment_id: Annotated[int, ID]) -> Response[bytes]:
    require_scope(principal, "read")
    invoice = await service.visible_invoice(principal.structure_id, invoice_id)
    attachment = await Attachment.objects().get((Attachment.id == attachment_id) & (Attachment.invoice == invoice.id))
    if attachment is None:
        raise ApiProblem(404, "not_found", "Cette pièce jointe n'existe pas ou n'est pas visible avec cette clé.")
    return await _file(request, attachment.file, attachment.filename)


@get("/invoices/{invoice_id:int}/certificate", summary="Le certificat de dépôt (PDF)", tags=["Factures émises"],
     media_type="application/pdf")
async def get_certificate(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> Response[bytes]:
    """L'attestation de dépôt de la facture : numéro de certificat et de dépôt, date et heure (Paris),
    empreinte SHA-256 du fichier original, fournisseur, destinataire, montants, statut à l'émission.
    Le même PDF à chaque appel ; visible des deux structures de la facture (fournisseur et destinataire)."""
    require_scope(principal, "read")
    invoice = await service.visible_invoice(principal.structure_id, invoice_id)
    return Response(await certificate_pdf(invoice), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certificate_filename(invoice)}"'})


# --- supplier answers -------------------------------------------------------------------------

async def _supplier_step(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: int, target: str, *,
                         comment: str = "", routing: Routing | None = None, attachments: list[AttachmentIn] = ()) -> Response:
    require_scope(principal, "deposit")
    settings = request.app.state.settings

    async def work() -> Response:
        invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("supplier",))
        uploads = await _attachment_uploads(list(attachments), principal, settings)
        # The files' rows are saved in the status change's transaction: both, or neither.
        save_rows = await storage.supporting_attachments(settings, invoice.id, uploads) if uploads else None
        saved = await lifecycle.change_status(
            invoice.id, principal.actor(lifecycle.SUPPLIER), target,
            expected_version=None, comment=comment, routing=routing, within=save_rows)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work, effect="invoice", replay=lambda i: _invoice_answer(principal, i))


async def _invoice_answer(principal: ApiPrincipal, invoice_id: int) -> Response:
    """The invoice as a status change answers it (replayed after a crash that followed the commit)."""
    return _json(await _detail(principal, await Invoice.objects().get(Invoice.id == invoice_id)))


@post("/invoices/{invoice_id:int}/completion", status_code=200, summary="Compléter une facture suspendue", tags=["Réponses du fournisseur"])
async def complete(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], data: JSONBody[CompletionIn]) -> Response[InvoiceDetail]:
    """Depuis SUSPENDUE : un commentaire et des pièces jointes (base64) ; la facture passe à COMPLETEE."""
    return await _supplier_step(request, principal, invoice_id, "COMPLETEE", comment=data.comment, attachments=data.attachments)


@post("/invoices/{invoice_id:int}/recycling", status_code=200, summary="Recycler (corriger l'acheminement)", tags=["Réponses du fournisseur"])
async def recycle(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], data: JSONBody[RecyclingIn]) -> Response[InvoiceDetail]:
    """Depuis A_RECYCLER : nouveau destinataire, code service ou engagement ; la facture est remise à disposition."""
    routing = Routing(data.recipient_siret, data.service_code, data.engagement)
    return await _supplier_step(request, principal, invoice_id, "DEPOSEE", comment=data.comment, routing=routing)


@post("/invoices/{invoice_id:int}/acknowledgement", status_code=200, summary="Prendre acte d'un rejet", tags=["Réponses du fournisseur"])
async def acknowledge(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], data: JSONBody[AcknowledgementIn]) -> Response[InvoiceDetail]:
    return await _supplier_step(request, principal, invoice_id, lifecycle.ACKNOWLEDGE, comment=data.comment)


# --- recipient side ---------------------------------------------------------------------------

@get("/received", summary="Factures reçues (pagination par curseur)", tags=["Factures reçues"])
async def list_received(
    principal: NamedDependency[ApiPrincipal],
    status: Annotated[str | None, STATUS_FILTER] = None,
    updated_since: Annotated[datetime | None, SINCE] = None,
    supplier: Annotated[str | None, QueryParameter(description="SIRET du fournisseur.", pattern=r"^[0-9]{14}$")] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int, LIMIT] = service.DEFAULT_LIMIT,
) -> InvoicePage:
    require_scope(principal, "read")
    items, next_cursor = await service.invoice_page(
        Invoice.recipient, principal.structure_id, status=_status_filter(status), updated_since=_utc(updated_since),
        counterpart=supplier, cursor=cursor, limit=limit)
    return InvoicePage(items=items, next_cursor=next_cursor)


@get("/received/{invoice_id:int}", summary="Une facture reçue", tags=["Factures reçues"])
async def get_received(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> InvoiceDetail:
    require_scope(principal, "read")
    return await _detail(principal, await service.visible_invoice(principal.structure_id, invoice_id, sides=("recipient",)))


@post("/received/{invoice_id:int}/status", status_code=200, summary="Changer le statut d'une facture reçue", tags=["Factures reçues"])
async def change_received_status(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], data: JSONBody[StatusIn]) -> Response[InvoiceDetail]:
    """Prise en charge, suspension, rejet, service fait, mandatement, mise en paiement. Les motifs
    (`reason_code`) sont ceux de la liste des motifs ; 409 quand l'étape n'est pas possible depuis
    le statut actuel ou que `version` n'est plus la version courante."""
    require_scope(principal, "process")

    async def work() -> Response:
        invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("recipient",))
        payment = None
        if data.payment is not None:
            check_numbers({"payment.amount": data.payment.amount})
            try:
                payment = Payment(data.payment.date, Decimal(data.payment.amount))
            except ArithmeticError:
                raise ApiProblem(422, "payment_invalid", "Le montant du paiement n'est pas valide.") from None
        saved = await lifecycle.change_status(
            invoice.id, principal.actor(lifecycle.RECIPIENT), data.status,
            expected_version=data.version, reason_code=data.reason_code, comment=data.comment,
            mandate_number=data.mandate_number, payment=payment)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work, effect="invoice", replay=lambda i: _invoice_answer(principal, i))


# --- validations (the titulaire's or mandataire's side of the A9/A12 circuit) ---------------------

@get("/validations", summary="Factures à valider (sous-traitants, cotraitants)", tags=["Validations"])
async def list_validations(principal: NamedDependency[ApiPrincipal]) -> list[InvoiceSummary]:
    """Les factures de sous-traitants et de cotraitants qui attendent la validation de la structure de la clé,
    la plus proche de sa fin de délai d'abord (`validation_due_at` ; sans réponse, validation tacite)."""
    require_scope(principal, "read")
    rows = await Invoice.select(*service.SUMMARY_COLUMNS).where(
        ((Invoice.status == "A_VALIDER_1") & (Invoice.validator_1 == principal.structure_id))
        | ((Invoice.status == "A_VALIDER_2") & (Invoice.validator_2 == principal.structure_id))
    ).order_by(Invoice.validation_due_at).order_by(Invoice.id).limit(service.MAX_LIMIT)
    return await service.summaries(rows)


@get("/validations/{invoice_id:int}", summary="Une facture à valider ou validée", tags=["Validations"])
async def get_validation(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> InvoiceDetail:
    """La facture d'un sous-traitant ou d'un cotraitant dont la structure de la clé est valideur ; en lecture seule
    une fois validée (le titulaire voit ce que l'entité publique en fait)."""
    require_scope(principal, "read")
    return await _detail(principal, await service.visible_invoice(principal.structure_id, invoice_id, sides=("validator_1", "validator_2")))


@post("/validations/{invoice_id:int}", status_code=200, summary="Valider ou refuser une facture", tags=["Validations"])
async def decide_validation(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID],
                            data: JSONBody[ValidationIn]) -> Response[InvoiceDetail]:
    """VALIDEE : la facture passe au niveau suivant (le mandataire) ou à l'entité publique (MISE_A_DISPOSITION) ;
    REFUSEE : motif obligatoire (`comment`), le circuit s'arrête. 409 quand la facture n'attend plus la
    structure de la clé ou que `version` n'est plus la version courante."""
    require_scope(principal, "deposit")

    async def work() -> Response:
        invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("validator_1", "validator_2"))
        level = lifecycle.WAITING.get(invoice.status)
        if level is None or lifecycle.validator_of(invoice, level) != principal.structure_id:
            raise ApiProblem(409, "transition_refused", "Cette facture n'attend pas (ou plus) la validation de votre structure.")
        saved = await lifecycle.change_status(
            invoice.id, principal.actor(lifecycle.VALIDATOR), f"{data.decision}_{level}",
            expected_version=data.version, reason_code=data.reason_code, comment=data.comment)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work, effect="invoice", replay=lambda i: _invoice_answer(principal, i))


# --- directory --------------------------------------------------------------------------------

@get("/structures", summary="Chercher une entité publique", tags=["Annuaire"])
async def search_directory(principal: NamedDependency[ApiPrincipal], q: Annotated[str, QueryParameter(min_length=1, max_length=100, description="Nom, ville ou début de SIRET.")]) -> list[StructureOut]:
    require_scope(principal, "directory")
    rows = await search_structures(q)
    return [StructureOut(siret=r["siret"], name=r["name"], postal_code=r["postal_code"], city=r["city"], active=r["active"]) for r in rows]


async def _public(siret: str):
    structure = await public_structure(siret)
    if structure is None:
        raise ApiProblem(404, "not_found", "Aucune entité publique n'a ce SIRET dans l'annuaire.")
    return structure


@get("/structures/{siret:str}", summary="Une entité publique", tags=["Annuaire"])
async def get_structure(principal: NamedDependency[ApiPrincipal], siret: Annotated[str, PathParameter(max_length=14)]) -> StructureDetail:
    require_scope(principal, "directory")
    s = await _public(siret)
    return StructureDetail(
        siret=s.siret, name=s.name, postal_code=s.postal_code, city=s.city, active=s.active, siren=s.siren,
        address_line1=s.address_line1, address_line2=s.address_line2, address_line3=s.address_line3, country=s.country,
        requires_service=s.requires_service, requires_engagement=s.requires_engagement,
        requires_service_or_engagement=s.requires_service_or_engagement)


@get("/structures/{siret:str}/services", summary="Les services actifs d'une entité publique", tags=["Annuaire"])
async def get_services(principal: NamedDependency[ApiPrincipal], siret: Annotated[str, PathParameter(max_length=14)]) -> list[ServiceOut]:
    require_scope(principal, "directory")
    s = await _public(siret)
    return [ServiceOut(code=r["code"], name=r["name"], requires_engagement=r["requires_engagement"]) for r in await active_services(s.id)]


HANDLERS = [
    create_deposit, get_deposit, send_attachment, create_invoice, list_invoices, get_invoice, get_invoice_file, get_attachment,
    get_certificate,
    complete, recycle, acknowledge, list_received, get_received, change_received_status,
    list_validations, get_validation, decide_validation,
    search_directory, get_structure, get_services,
]
