"""API v1 for mémoires de frais de justice (framework A3).

    POST /api/v1/justice/memoires                 capture and send a mémoire (scope deposit)
    GET  /api/v1/justice/memoires                 the key's structure's mémoires: sent, or received by a juridiction
    GET  /api/v1/justice/memoires/{invoice_id}    one mémoire: the invoice (status, history, actions) and its decision and mission
    POST /api/v1/justice/memoires/{invoice_id}/abandonment   a refused mémoire is abandoned (ABANDONNEE)
    POST /api/v1/justice/memoires/{invoice_id}/duplicate     a refused mémoire is duplicated: the new one is sent
                                                  and the refused one becomes DUPLIQUEE, in one transaction
    GET  /api/v1/justice/juridictions             the juridictions of the directory

A mémoire is an invoice with billing_framework "A3": its status changes go through the invoice
API as any invoice's (/api/v1/received/{id}/status for the juridiction, /api/v1/invoices/{id}/…
for the provider), in the JUSTICE circuit. Same rules as the pages (backend/justice/service.py):
`justice_too_late` when the mission ended more than one year ago.
"""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api import service as api_service
from backend.api.attachments import attachment_uploads
from backend.api.auth import ApiPrincipal, require_scope
from backend.api.decoding import check_numbers
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.api.schemas import AttachmentIn, InvoiceDetail, InvoiceSummary, Quantity, Rate, UnitPrice
from backend.directory import juridictions
from backend.invoices.tables import DepositItem, Invoice
from backend.justice import service
from backend.processing import lifecycle

TAG = ["Mémoires de justice"]
ID = PathParameter(ge=1, le=2**31 - 1, examples=[Example(value=1)])
DecisionKind = Literal["requisition", "ordonnance", "proces_verbal"]
LineKind = Literal["honoraires", "deplacement", "frais"]


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Annotated[DecisionKind, msgspec.Meta(description="Nature : réquisition, ordonnance ou procès-verbal.")]
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["ORD-2026-118"])]
    date: date
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="Le magistrat ou l'officier.",
                                        examples=["Mme Leroy, juge d'instruction"])]


class MissionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    start: date
    end: Annotated[date, msgspec.Meta(description="Le mémoire s'envoie au plus tard un an après cette date (422 `justice_too_late`).")]
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Lyon"])]


class MemoireLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Annotated[LineKind, msgspec.Meta(description="honoraires, deplacement (frais de déplacement) ou frais (frais et débours).")]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=250)]
    quantity: Quantity
    unit_price: UnitPrice
    vat_rate: Rate
    unit_code: Annotated[Literal["HUR", "DAY", "KMT", "C62", "E48"], msgspec.Meta(
        description="Unité : HUR heure, DAY jour, KMT km, C62 unité, E48 forfait.")] = "HUR"


class MemoireIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    juridiction_siret: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{14}$", description="SIRET de la juridiction (GET /justice/juridictions).")]
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9+\-_/]+$", examples=["MJ2026-0001"])]
    decision: DecisionIn
    mission: MissionIn
    lines: Annotated[list[MemoireLineIn], msgspec.Meta(min_length=1, max_length=service.MAX_LINES)]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=10, description="La décision, les justificatifs.")] = []


class MemoireOut(msgspec.Struct, kw_only=True):
    decision_kind: str
    decision_reference: str
    decision_date: date
    decision_author: str
    mission_start: date
    mission_end: date
    mission_place: str
    send_deadline: Annotated[date, msgspec.Meta(description="Dernier jour d'envoi : un an après la fin de la mission.")]
    vat_on_debits: bool
    duplicated_from: Annotated[int | None, msgspec.Meta(description="Le mémoire refusé dont celui-ci est le duplicata.")] = None
    duplicate: Annotated[int | None, msgspec.Meta(description="Le duplicata de ce mémoire refusé (statut DUPLIQUEE).")] = None


class MemoireDetail(InvoiceDetail, kw_only=True):
    memoire: MemoireOut | None


class MemoirePage(msgspec.Struct, kw_only=True):
    items: list[InvoiceSummary]


class JuridictionOut(msgspec.Struct, kw_only=True):
    siret: str
    name: str
    kind: str
    kind_label: str
    code: str
    service_code: str


def _form(data: MemoireIn) -> dict:
    """The request as the capture form (backend/justice/service.py checks both the same way)."""
    plain = lambda value: format(Decimal(value), "f")  # noqa: E731
    return {
        "juridiction_siret": data.juridiction_siret, "number": data.number, "decision_kind": data.decision.kind,
        "decision_reference": data.decision.reference, "decision_date": data.decision.date.isoformat(),
        "decision_author": data.decision.author, "mission_start": data.mission.start.isoformat(),
        "mission_end": data.mission.end.isoformat(), "mission_place": data.mission.place, "note": data.note,
        "lines": [{"kind": line.kind, "description": line.description, "quantity": plain(line.quantity),
                   "unit_code": line.unit_code, "unit_price": plain(line.unit_price), "vat_rate": plain(line.vat_rate)}
                  for line in data.lines],
    }


def _problem(problems) -> ApiProblem:
    findings = [{"rule": "FCT-JUSTICE", "severity": "fatal", "stage": "request", "location": p.field, "message": p.message}
                for p in problems]
    too_late = next((p for p in problems if p.field == "mission_end" and "dans l'année" in p.message), None)
    if too_late is not None:
        return ApiProblem(422, "justice_too_late", too_late.message, findings=findings)
    return ApiProblem(422, "invalid", "Le mémoire ne peut pas être établi avec ces données.", findings=findings)


def _actor(principal: ApiPrincipal, invoice: Invoice) -> lifecycle.Actor | None:
    if invoice.recipient == principal.structure_id and "process" in principal.scopes:
        return principal.actor(lifecycle.RECIPIENT)
    if invoice.supplier == principal.structure_id and "deposit" in principal.scopes:
        return principal.actor(lifecycle.SUPPLIER)
    return None


async def _detail(principal: ApiPrincipal, invoice: Invoice) -> MemoireDetail:
    actor = _actor(principal, invoice)
    actions = [a for a in (await lifecycle.allowed_actions(invoice, actor) if actor else []) if a != lifecycle.DUPLICATE]
    detail = await api_service.invoice_detail(invoice, actions)
    view = await service.memoire_view(invoice)
    memoire = None
    if view is not None:
        memoire = MemoireOut(**{k: view[k] for k in (
            "decision_kind", "decision_reference", "decision_date", "decision_author", "mission_start", "mission_end",
            "mission_place", "send_deadline", "vat_on_debits")},
            duplicated_from=view["duplicated_from"]["id"] if view["duplicated_from"] else None,
            duplicate=view["duplicate"]["id"] if view["duplicate"] else None)
    return MemoireDetail(**msgspec.structs.asdict(detail), memoire=memoire)


def _json(value: msgspec.Struct, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


@post("/justice/memoires", status_code=201, summary="Établir et envoyer un mémoire de frais de justice (A3)", tags=TAG)
async def create_memoire(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[MemoireIn]) -> Response[MemoireDetail]:
    """La plateforme produit le Factur-X EN 16931 du mémoire (BT-23 = A3, la décision et la mission en note BT-22),
    l'adresse au service centralisateur de la juridiction et le dépose. 422 `justice_too_late` quand la mission s'est
    terminée il y a plus d'un an ; 422 `invalid` avec un constat par champ sinon. Une fois envoyé, un mémoire ne se
    modifie plus : refusé, il s'abandonne (statut ABANDONNEE) ou se duplique (POST /justice/memoires/{id}/duplicate)."""
    require_scope(principal, "deposit")
    settings = request.app.state.settings

    check_numbers({f"lines[{i}].{name}": getattr(line, name) for i, line in enumerate(data.lines)
                   for name in ("quantity", "unit_price", "vat_rate")})

    async def work() -> Response:
        uploads = await attachment_uploads(data.attachments, principal, settings)
        supplier = await api_service.structure_by_id(principal.structure_id)
        sent = await service.send(settings, supplier, None, _form(data), uploads, caller=f"key:{principal.key_id}", channel="api")
        return await _created(principal, sent.deposit_id, sent.problems)

    return await idempotent(request, principal, work, effect="deposit", replay=lambda deposit_id: _created(principal, deposit_id))


async def _created(principal: ApiPrincipal, deposit_id: int | None, problems=()) -> Response:
    """The answer to a mémoire sent (or its replay from the deposit row an earlier attempt committed)."""
    if problems:
        raise _problem(problems)
    item = await DepositItem.objects().where(DepositItem.deposit == deposit_id).first()
    if not item.accepted:
        report = await api_service.deposit_out(deposit_id)
        raise ApiProblem(422, "invalid", "Le mémoire a été refusé au dépôt : voir les constats.",
                         findings=[msgspec.structs.asdict(f) for f in report.report[0].findings], extra={"deposit_id": deposit_id})
    return _json(await _detail(principal, await Invoice.objects().get(Invoice.id == item.invoice)), 201)


@get("/justice/memoires", summary="Mémoires de justice envoyés, ou reçus par une juridiction", tags=TAG)
async def list_memoires(
    principal: NamedDependency[ApiPrincipal],
    limit: Annotated[int, QueryParameter(ge=1, le=100, description="Nombre de mémoires (1 à 100), du plus récent au plus ancien.")] = 50,
) -> MemoirePage:
    require_scope(principal, "read")
    column = Invoice.recipient if await juridictions.of_structure(principal.structure_id) else Invoice.supplier
    rows = await Invoice.select(*api_service.SUMMARY_COLUMNS).where(
        (column == principal.structure_id) & (Invoice.billing_framework == service.FRAMEWORK)).order_by(Invoice.id, ascending=False).limit(limit)
    return MemoirePage(items=await api_service.summaries(rows))


@get("/justice/memoires/{invoice_id:int}", summary="Un mémoire : statut, historique, décision et mission", tags=TAG)
async def get_memoire(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> MemoireDetail:
    require_scope(principal, "read")
    invoice = await api_service.visible_invoice(principal.structure_id, invoice_id)
    if invoice.billing_framework != service.FRAMEWORK:
        raise ApiProblem(404, "not_found", "Ce mémoire n'existe pas ou n'est pas visible avec cette clé.")
    return await _detail(principal, invoice)


class AbandonmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    version: Annotated[int | None, msgspec.Meta(description="La version lue (409 si le mémoire a changé depuis).")] = None


@post("/justice/memoires/{invoice_id:int}/abandonment", status_code=200, summary="Abandonner un mémoire refusé", tags=TAG)
async def abandon_memoire(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID],
                          data: JSONBody[AbandonmentIn]) -> Response[MemoireDetail]:
    """Un mémoire refusé (REJETEE) par la juridiction est abandonné (statut ABANDONNEE) : son circuit est terminé.
    Le dupliquer sous un nouveau numéro : POST /justice/memoires/{invoice_id}/duplicate."""
    require_scope(principal, "deposit")

    async def work() -> Response:
        invoice = await api_service.visible_invoice(principal.structure_id, invoice_id, sides=("supplier",))
        if invoice.billing_framework != service.FRAMEWORK:
            raise ApiProblem(404, "not_found", "Ce mémoire n'existe pas ou n'est pas visible avec cette clé.")
        saved = await lifecycle.change_status(invoice.id, principal.actor(lifecycle.SUPPLIER), lifecycle.ABANDON,
                                              expected_version=data.version, comment=data.comment)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work)


class DuplicateIn(MemoireIn, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int | None, msgspec.Meta(description="La version lue du mémoire refusé (409 s'il a changé depuis).")] = None


DUPLICATE_DOC = """Un mémoire refusé (REJETEE) par la juridiction est corrigé et renvoyé sous un nouveau numéro : le corps est
    celui de POST /justice/memoires (le mémoire complet, corrigé). Le nouveau mémoire est déposé et l'ancien passe au
    statut DUPLIQUEE dans la même transaction ; ils se nomment l'un l'autre (`memoire.duplicated_from`,
    `memoire.duplicate`). 404 `not_found` si le mémoire n'est pas un mémoire de cette clé ; 409
    `justice_not_refused` s'il n'est pas refusé, `justice_already_duplicated` s'il l'est déjà, `stale_version` si
    `version` n'est plus la sienne ; 422 comme à la création (`justice_too_late`, `invalid`)."""


@post("/justice/memoires/{invoice_id:int}/duplicate", status_code=201, summary="Dupliquer un mémoire refusé (le duplicata est envoyé)",
      description=inspect.cleandoc(DUPLICATE_DOC), tags=TAG)
async def duplicate_memoire(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID],
                            data: JSONBody[DuplicateIn]) -> Response[MemoireDetail]:
    """The refused mémoire becomes DUPLIQUEE in the transaction that deposits its duplicate (DUPLICATE_DOC)."""
    require_scope(principal, "deposit")
    settings = request.app.state.settings
    check_numbers({f"lines[{i}].{name}": getattr(line, name) for i, line in enumerate(data.lines)
                   for name in ("quantity", "unit_price", "vat_rate")})

    async def work() -> Response:
        try:
            await service.duplicable(invoice_id, principal.structure_id)
        except service.JusticeError as exc:
            raise ApiProblem(exc.http_status, exc.code, exc.message) from None
        uploads = await attachment_uploads(data.attachments, principal, settings)
        supplier = await api_service.structure_by_id(principal.structure_id)
        sent = await service.send(settings, supplier, None, _form(data), uploads, duplicated_from=invoice_id,
                                  duplicating=service.Duplicating(principal.actor(lifecycle.SUPPLIER), data.version),
                                  caller=f"key:{principal.key_id}", channel="api")
        return await _created(principal, sent.deposit_id, sent.problems)

    return await idempotent(request, principal, work, effect="deposit",
                            replay=lambda deposit_id: _created(principal, deposit_id))


@get("/justice/juridictions", summary="Les juridictions de l'annuaire", tags=TAG)
async def list_juridictions(principal: NamedDependency[ApiPrincipal]) -> list[JuridictionOut]:
    require_scope(principal, "read")
    return [JuridictionOut(**{k: j[k] for k in ("siret", "name", "kind", "kind_label", "code", "service_code")})
            for j in await juridictions.all_juridictions()]


HANDLERS = [create_memoire, list_memoires, get_memoire, abandon_memoire, duplicate_memoire, list_juridictions]

REQUEST_EXAMPLE = {
    "juridiction_siret": "17690001500012", "number": "MJ2026-0001",
    "decision": {"kind": "ordonnance", "reference": "ORD-2026-118", "date": "2026-03-02", "author": "Mme Leroy, juge d'instruction"},
    "mission": {"start": "2026-03-10", "end": "2026-04-20", "place": "Lyon"},
    "lines": [{"kind": "honoraires", "description": "Expertise comptable", "quantity": "10", "unit_code": "HUR", "unit_price": "90.00", "vat_rate": "20"},
              {"kind": "deplacement", "description": "Lyon - Villefranche", "quantity": "120", "unit_code": "KMT", "unit_price": "0.50", "vat_rate": "20"}],
}
