"""API v1 for tickets: a structure's key opens tickets, lists and reads them, and takes their steps.

    POST /api/v1/tickets                        open (or keep as a draft) a ticket for the key's structure
    GET  /api/v1/tickets?status=&cursor=&limit= the structure's tickets (opened through the API, or received), newest first
    GET  /api/v1/tickets/{id}                   one ticket with its history
    POST /api/v1/tickets/{id}/actions           one step: {"action": "assign" | "answer" | …, "body": …}

Scopes: `read` to list, read, open and take the author's steps; `process` for a receiving
(public) structure's steps. Another structure's ticket is 404, never 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.controllers import _attachment_uploads, _json
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.api.schemas import AttachmentIn
from backend.tickets import categories, service, statuses
from backend.tickets.service import TicketError

ID = PathParameter(ge=1, le=2**31 - 1, examples=[Example(value=1)])
ActionCode = Literal["assign", "answer", "ask_info", "transfer", "close", "complete", "reopen", "author_close"]
StatusCode = Literal["BROUILLON", "OUVERT", "EN_COURS", "INFO_DEMANDEE", "REPONDU", "CLOS"]


class TicketIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new ticket. The (category, subcategory) pair decides who receives it (see GET /api/v1/tickets/categories)."""

    category: Annotated[str, msgspec.Meta(max_length=40, examples=["factures_emises"])]
    subcategory: Annotated[str, msgspec.Meta(max_length=60, examples=["question_entite_publique"])]
    recipient_siret: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{14}$", examples=["21750001600019"],
                                                 description="Structure publique destinataire (catégories routées vers une structure)")] | None = None
    subject: Annotated[str, msgspec.Meta(max_length=400, examples=["Quel code service pour les écoles ?"])]
    body: Annotated[str, msgspec.Meta(max_length=10000, examples=["Bonjour, quel code service indiquer ?"])] = ""
    draft: bool = False
    attachments: list[AttachmentIn] = []


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Annotated[ActionCode, msgspec.Meta(examples=["answer"])]
    body: Annotated[str, msgspec.Meta(max_length=10000, examples=["Indiquez le code ECOLES."])] = ""
    version: Annotated[int, msgspec.Meta(ge=1, description="La version lue : refus 409 si le ticket a changé entre-temps")] | None = None
    attachments: list[AttachmentIn] = []


class EntryOut(msgspec.Struct):
    action: str
    status: str
    actor_role: str
    actor: str
    body: str
    attachments: list[str]
    created_at: datetime


class TicketOut(msgspec.Struct):
    id: int
    subject: str
    status: StatusCode
    status_label: str
    category: str
    subcategory: str
    receiver: str  # the structure's name, or "Support de la plateforme"
    updated_at: datetime


class TicketDetail(TicketOut):
    version: int = 1
    actions: list[str] = []  # the steps this key may take now
    history: list[EntryOut] = []


class TicketPage(msgspec.Struct):
    items: list[TicketOut]
    next_cursor: str | None


def _problem(exc: TicketError) -> ApiProblem:
    return ApiProblem(exc.http_status, exc.code, exc.message_fr)


async def _detail(ticket_id: int, actor: service.Actor) -> TicketDetail:
    shown = await service.ticket_context(ticket_id, actor)
    history = [EntryOut(e["action"], e["to_status"], e["actor_role"], e["actor_label"], e["body"],
                        [f["filename"] for f in e["attachments"]], e["created_at"]) for e in shown["entries"]]
    return TicketDetail(id=shown["id"], subject=shown["subject"], status=shown["status"], status_label=shown["status_label"],
                        category=shown["category"], subcategory=shown["subcategory"], receiver=shown["receiver"],
                        updated_at=shown["updated_at"], version=shown["version"], actions=[a.code for a in shown["actions"]],
                        history=history)


@get("/tickets/categories", summary="Catégories et sous-catégories des tickets", tags=["Tickets"])
async def list_categories(principal: NamedDependency[ApiPrincipal]) -> list[dict]:
    return categories.as_data()


@post("/tickets", status_code=201, summary="Ouvrir un ticket (ou l'enregistrer en brouillon)", tags=["Tickets"])
async def create_ticket(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[TicketIn]) -> Response[TicketDetail]:
    require_scope(principal, "read")
    settings = request.app.state.settings
    actor = service.actor_of_key(principal)

    async def work() -> Response:
        files = await _attachment_uploads(data.attachments, principal, settings)
        try:
            ticket_id = await service.save(settings, actor, service.TicketInput(
                data.category, data.subcategory, data.recipient_siret, data.subject, data.body), files, submit=not data.draft)
            return await answer_created(ticket_id)
        except TicketError as exc:
            raise _problem(exc) from None

    async def answer_created(ticket_id: int) -> Response:
        return _json(await _detail(ticket_id, actor), 201)

    # A retry with the same Idempotency-Key gets the first answer, never a second ticket.
    return await idempotent(request, principal, work, effect=service.EFFECT, replay=answer_created)


@get("/tickets", summary="Tickets de la structure (pagination par curseur)", tags=["Tickets"])
async def list_tickets(
    principal: NamedDependency[ApiPrincipal],
    status: Annotated[StatusCode | None, QueryParameter(description="Ne garder que les tickets à ce statut (ex. REPONDU).")] = None,
    cursor: Annotated[str | None, QueryParameter(description="Le `next_cursor` de la page précédente.", max_length=12)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100, description="Nombre maximal de tickets renvoyés (1 à 100).")] = 50,
) -> TicketPage:
    require_scope(principal, "read")
    before = None
    if cursor is not None:
        if not cursor.isdigit() or not 1 <= int(cursor) <= 2**31 - 1:
            raise ApiProblem(422, "cursor_invalid", "Le curseur de pagination n'est pas valide : reprenez celui de la réponse précédente.")
        before = int(cursor)
    rows, next_id = await service.api_page(service.actor_of_key(principal), status=status, before_id=before, limit=limit)
    items = [TicketOut(r["id"], r["subject"], r["status"], r["status_label"], r["category"], r["subcategory"], r["receiver_name"],
                       r["updated_at"]) for r in rows]
    return TicketPage(items=items, next_cursor=str(next_id) if next_id else None)


@get("/tickets/{ticket_id:int}", summary="Un ticket et son historique", tags=["Tickets"])
async def get_ticket(principal: NamedDependency[ApiPrincipal], ticket_id: Annotated[int, ID]) -> TicketDetail:
    require_scope(principal, "read")
    try:
        return await _detail(ticket_id, service.actor_of_key(principal))
    except TicketError as exc:
        raise _problem(exc) from None


@post("/tickets/{ticket_id:int}/actions", status_code=200, summary="Une étape du ticket (prendre en charge, répondre…)", tags=["Tickets"])
async def act_on_ticket(request: Request, principal: NamedDependency[ApiPrincipal], ticket_id: Annotated[int, ID],
                        data: JSONBody[ActionIn]) -> Response[TicketDetail]:
    settings = request.app.state.settings
    actor = service.actor_of_key(principal)

    async def work() -> Response:
        try:
            await service.visible_ticket(ticket_id, actor)  # 404 before the scope and the files: nothing leaks
            require_scope(principal, "process" if statuses.ACTIONS[data.action].role == statuses.RECEIVER else "read")
            files = await _attachment_uploads(data.attachments, principal, settings)
            await service.act(settings, ticket_id, actor, data.action, data.body, files, version=data.version)
            return await answer(ticket_id)
        except TicketError as exc:
            raise _problem(exc) from None

    async def answer(_: int) -> Response:
        return _json(await _detail(ticket_id, actor))

    # A retried step (same Idempotency-Key) is answered from the first one: taken once, notified once.
    return await idempotent(request, principal, work, effect=service.EFFECT, replay=answer)


HANDLERS = [list_categories, create_ticket, list_tickets, get_ticket, act_on_ticket]
