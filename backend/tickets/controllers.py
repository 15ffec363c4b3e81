"""Ticket pages: the author's tabs, a receiver's (structure or support) tabs, the form, the ticket.

    GET  /tickets?tab=                        the author's tickets: Actions requises, En cours, Clôturés, Brouillons
    GET  /tickets/received?tab=               tickets received by the active (public) structure
    GET  /support/tickets?tab=                the support team's queue (operators only; 404 for others)
    GET  /tickets/new[?draft=ID]              the form (a new ticket, or a draft taken up again)
    POST /tickets                             save a draft (`intent=draft`) or send (`intent=submit`)
    POST /tickets/{id}/discard                delete a draft
    GET  /tickets/{id}                        the ticket, its history, the viewer's actions
    GET  /tickets/{id}/panel                  fragment: the same, refreshed by the live event `ticket-<id>`
    POST /tickets/{id}/actions/{action}       one step of the status machine
    GET  /tickets/{id}/attachments/{file id}  a file of the ticket

Everyone who is not the author, a receiver or (for support tickets) an operator gets 404.
Refused input gets its French message in place with what was typed, and a 4xx; nothing is written.
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from backend.accounts.spaces import ACCOUNT, OPERATOR, space
from backend.invoices import storage
from backend.lib.uploads import read_uploads
from backend.lib.web import CurrentUser, flash, form_data, page, require_user
from backend.messages.controllers import attachment_response
from backend.messages.service import MAX_ATTACHMENTS, MAX_BODY
from backend.tickets import categories, service, statuses
from backend.tickets.service import TicketError

TICKET = "tickets/ticket.html"
PANEL = "tickets/_panel.html"
TRANSFERRED = "tickets/transferred.html"
TRANSFERRED_PANEL = "tickets/_transferred.html"


def _raise_http(exc: TicketError) -> None:
    if exc.http_status == 404:
        raise NotFoundException(exc.message_fr)
    raise PermissionDeniedException(exc.message_fr)


def _tab(request: Request, tabs: dict) -> str:
    wanted = request.query_params.get("tab") or ""
    return wanted if wanted in tabs else next(iter(tabs))


def _is_public(current: CurrentUser) -> bool:
    return bool(current.active and current.active["structure"].get("is_public"))


@get("/tickets", opt=space("tickets_emis"))
async def authored_list(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    actor = await service.actor_of(current)
    tab = _tab(request, statuses.AUTHOR_TABS)
    return page(request, "tickets/list.html", heading="Mes tickets", base_url="/tickets", tab=tab, tabs=statuses.AUTHOR_TABS,
                counts=await service.tab_counts(actor, side=statuses.AUTHOR), tickets=await service.authored(actor, tab),
                side="author", is_public=_is_public(current), is_operator=actor.is_operator)


@get("/tickets/received", opt=space("tickets_recus"))
async def received_list(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    if not _is_public(current) or not current.active.get("can_consult"):
        raise NotFoundException("Seuls les agents d'une structure publique reçoivent des tickets.")
    actor = await service.actor_of(current)
    tab = _tab(request, statuses.RECEIVER_TABS)
    return page(request, "tickets/list.html", heading="Tickets reçus", base_url="/tickets/received", tab=tab,
                tabs=statuses.RECEIVER_TABS, counts=await service.tab_counts(actor, side=statuses.RECEIVER),
                tickets=await service.received(actor, tab, support=False), side="receiver", is_public=True,
                is_operator=actor.is_operator)


@get("/support/tickets", opt=space(OPERATOR))
async def support_queue(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    actor = await service.actor_of(current)
    if not actor.is_operator:
        raise NotFoundException("Cette page n'existe pas ou vous n'y avez pas accès.")
    tab = _tab(request, statuses.RECEIVER_TABS)
    return page(request, "tickets/list.html", heading="File du support", base_url="/support/tickets", tab=tab,
                tabs=statuses.RECEIVER_TABS, counts=await service.tab_counts(actor, side=statuses.RECEIVER, support=True),
                tickets=await service.received(actor, tab, support=True), side="support", is_public=_is_public(current),
                is_operator=True)


def _form_context(values: dict, *, error: str | None = None, draft_id: int | None = None, files: list | None = None) -> dict:
    return {"categories": categories.as_data(), "values": values, "error": error, "draft_id": draft_id,
            "draft_files": files or [], "max_body": MAX_BODY, "max_attachments": MAX_ATTACHMENTS}


@get("/tickets/new", opt=space("tickets_emis"))
async def new_form(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    draft_id = request.query_params.get("draft")
    values = {"category": request.query_params.get("category", ""), "subcategory": request.query_params.get("subcategory", ""),
              "recipient": request.query_params.get("recipient", ""), "subject": "", "body": ""}
    if draft_id and draft_id.isdigit():
        try:
            ticket = await service._own_draft(int(draft_id), await service.actor_of(current))
        except TicketError as exc:
            _raise_http(exc)
            raise
        siret = ""
        if ticket.receiver_structure:
            from backend.directory.tables import Structure

            row = await Structure.select(Structure.siret).where(Structure.id == ticket.receiver_structure).first()
            siret = row["siret"] if row else ""
        values = {"category": ticket.category, "subcategory": ticket.subcategory, "recipient": siret,
                  "subject": ticket.subject, "body": ticket.draft_body}
        return page(request, "tickets/new.html", **_form_context(values, draft_id=ticket.id, files=await service.draft_files(ticket.id)))
    return page(request, "tickets/new.html", **_form_context(values))


def _pair(raw: str | None) -> tuple[str, str]:
    """The form's one select holds "category/subcategory"."""
    category, _, subcategory = (raw or "").partition("/")
    return category, subcategory


@post("/tickets", opt=space("tickets_emis"))
async def save(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    category, subcategory = _pair(data.get("pair"))
    draft_id = int(data["draft_id"]) if (data.get("draft_id") or "").isdigit() and len(data["draft_id"]) < 10 else None
    submit = data.get("intent") != "draft"
    values = {"category": category, "subcategory": subcategory, "recipient": data.get("recipient", ""),
              "subject": (data.get("subject") or "")[:400], "body": (data.get("body") or "")[: MAX_BODY * 2]}
    try:
        files = await read_uploads(request, "file")
        ticket_id = await service.save(
            request.app.state.settings, await service.actor_of(current),
            service.TicketInput(category, subcategory, data.get("recipient"), data.get("subject"), data.get("body")),
            files, submit=submit, ticket_id=draft_id)
    except TicketError as exc:
        if exc.http_status == 404:
            _raise_http(exc)
        files_kept = await service.draft_files(draft_id) if draft_id else []
        return page(request, "tickets/new.html", status_code=exc.http_status,
                    **_form_context(values, error=exc.message_fr, draft_id=draft_id, files=files_kept))
    if submit:
        flash(request, "Ticket envoyé : il est prévenu.", "success")
        return Redirect(f"/tickets/{ticket_id}", status_code=303)
    flash(request, "Brouillon enregistré : retrouvez-le dans l'onglet Brouillons.", "success")
    return Redirect("/tickets?tab=brouillons", status_code=303)


@post("/tickets/{ticket_id:int}/discard", opt=space("tickets_emis"))
async def discard(request: Request, current: NamedDependency[CurrentUser], ticket_id: FromPath[int]) -> Redirect:
    try:
        await service.discard_draft(ticket_id, await service.actor_of(current))
    except TicketError as exc:
        if exc.http_status == 404:
            _raise_http(exc)
        flash(request, exc.message_fr, "error")
        return Redirect(f"/tickets/{ticket_id}", status_code=303)
    flash(request, "Brouillon supprimé.", "success")
    return Redirect("/tickets?tab=brouillons", status_code=303)


async def _context(ticket_id: int, current: CurrentUser, *, error: str | None = None, draft: str = "") -> dict:
    try:
        ticket = await service.ticket_context(ticket_id, await service.actor_of(current))
    except TicketError as exc:
        _raise_http(exc)
        raise
    return {"ticket": ticket, "error": error, "draft": draft, "max_body": MAX_BODY, "max_attachments": MAX_ATTACHMENTS}


async def _transferred(request: Request, current: CurrentUser, ticket_id: int, template: str) -> Template:
    """What a former receiver sees once their structure transferred the ticket to support
    (their open page refreshes into it on the live event); 404 for everyone else."""
    if not await service.transferred_away(ticket_id, await service.actor_of(current)):
        raise NotFoundException("Ce ticket n'existe pas ou vous n'y avez pas accès.")
    return page(request, template, ticket_id=ticket_id)


@get("/tickets/{ticket_id:int}", opt=space(ACCOUNT))
async def ticket_page(request: Request, current: NamedDependency[CurrentUser], ticket_id: FromPath[int]) -> Template | Redirect:
    try:
        context = await _context(ticket_id, current)
    except NotFoundException:
        return await _transferred(request, current, ticket_id, TRANSFERRED)
    if context["ticket"]["status"] == statuses.BROUILLON:
        return Redirect(f"/tickets/new?draft={ticket_id}", status_code=303)
    return page(request, TICKET, **context)


@get("/tickets/{ticket_id:int}/panel", opt=space(ACCOUNT))
async def ticket_panel(request: Request, current: NamedDependency[CurrentUser], ticket_id: FromPath[int]) -> Template:
    try:
        context = await _context(ticket_id, current)
    except NotFoundException:
        return await _transferred(request, current, ticket_id, TRANSFERRED_PANEL)
    return page(request, PANEL, **context)


@post("/tickets/{ticket_id:int}/actions/{action:str}", opt=space(ACCOUNT))
async def ticket_action(request: Request, current: NamedDependency[CurrentUser], ticket_id: FromPath[int],
                        action: FromPath[str]) -> Template | Redirect:
    actor = await service.actor_of(current)
    try:
        await service.visible_ticket(ticket_id, actor)  # 404 before the form is read
    except TicketError as exc:
        _raise_http(exc)
    data = await form_data(request)
    version = int(data["version"]) if (data.get("version") or "").isdigit() and len(data["version"]) < 10 else None
    try:
        files = await read_uploads(request, "file")
        ticket = await service.act(request.app.state.settings, ticket_id, actor, action, data.get("body"), files, version=version)
    except TicketError as exc:
        if exc.http_status == 404:
            _raise_http(exc)
        draft = (data.get("body") or "")[: MAX_BODY * 2]
        context = await _context(ticket_id, current, error=exc.message_fr, draft=draft)
        htmx = request.headers.get("hx-request") == "true"
        return page(request, PANEL if htmx else TICKET, status_code=exc.http_status, **context)
    if request.headers.get("hx-request") == "true":
        return page(request, PANEL, **await _context(ticket_id, current))
    flash(request, f"{statuses.ACTIONS[action].done}.", "success")
    target = "/tickets?tab=clotures" if ticket.status == statuses.CLOS and statuses.ACTIONS[action].role == statuses.AUTHOR else f"/tickets/{ticket_id}"
    return Redirect(target, status_code=303)


@get("/tickets/{ticket_id:int}/attachments/{attachment_id:int}", opt=space(ACCOUNT))
async def ticket_attachment(request: Request, current: NamedDependency[CurrentUser], ticket_id: FromPath[int],
                            attachment_id: FromPath[int]) -> Response:
    try:
        row = await service.attachment_for(ticket_id, attachment_id, await service.actor_of(current))
    except TicketError as exc:
        _raise_http(exc)
        raise
    return attachment_response(await storage.read_blob(request.app.state.settings, row["file.sha256"]), row)


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[
    authored_list, received_list, support_queue, new_form, save, discard, ticket_page, ticket_panel, ticket_action, ticket_attachment,
])
