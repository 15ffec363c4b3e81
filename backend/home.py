"""Accueil (synthèse) and the invoice lists of both workspaces, with their live fragments.

A company's active structure sends invoices (supplier side); a public structure's agents
receive them (recipient side). Every query is limited to the active structure's side, so
a user never sees another structure's invoice, on a page or in a fragment.
"""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from backend.accounts import memberships
from backend.accounts.spaces import ACCOUNT, INVOICES, MODIFICATION, space
from backend.accounts import profile
from backend.directory.tables import Service
from backend.invoices import access, workspace
from backend.processing import validation
from backend.invoices.statuses import STATUSES, label
from backend.messages.notifications import notifications_context
from backend.lib.web import CurrentUser, page, require_user

HOME_ROWS = 5


async def _pending_requests(current: CurrentUser) -> tuple[int, int]:
    """(rattachements, rights requests) in the gestionnaire's "Approbations"."""
    if not current.is_manager:
        return 0, 0
    return await memberships.approval_counts(current.structure_id)


def _side(current: CurrentUser) -> tuple[str, int] | None:
    """(side, structure id) of the active structure when its member may consult invoices."""
    if not current.may(INVOICES):
        return None
    return workspace.side_of(current.active["structure"]), current.structure_id


async def _unread(structure_id: int, rows: list[dict]) -> dict[int, int]:
    from backend.messages.service import unread_by_invoice

    return await unread_by_invoice(structure_id, [r["id"] for r in rows]) if rows else {}


async def summary_context(side: str, structure_id: int) -> dict:
    if side == workspace.SUPPLIER:
        summary = await workspace.supplier_summary(structure_id)
        todo = workspace.Filters(status="a_traiter")
    else:
        summary = await workspace.recipient_summary(structure_id)
        todo = workspace.Filters(status="a_traiter")
    rows = (await workspace.list_page(side, structure_id, todo, page_size=HOME_ROWS)).rows
    return {"side": side, "summary": summary, "todo_rows": rows, "unread": await _unread(structure_id, rows)}


@get("/", opt=space(ACCOUNT))
async def home(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    found = _side(current)
    context = await summary_context(*found) if found else {"side": None}
    # A supplier's first run: what its profile still lacks to invoice, in order.
    first_steps = await profile.unfinished_steps(current.structure_id) if current.active else []
    to_validate = await validation.count_waiting(current.structure_id) if current.active else 0
    return page(request, "home.html", pending_requests=await _pending_requests(current), first_steps=first_steps,
                to_validate=to_validate, **context)


@get("/home/summary", opt=space(INVOICES))
async def home_summary(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    """The synthèse block alone: refreshed on `sse:changed`."""
    found = _side(current)
    if found is None:
        raise NotFoundException(access.NOT_FOUND)
    return page(request, "_summary.html", **await summary_context(*found))


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _selectable(current: CurrentUser, side: str) -> bool:
    """An agent who may process sees a box on each row for the grouped actions."""
    return side == workspace.RECIPIENT and current.may(INVOICES, MODIFICATION)


async def _list_context(side: str, structure_id: int, filters: workspace.Filters, selectable: bool = False) -> dict:
    result = await workspace.list_page(side, structure_id, filters)
    return {"side": side, "filters": filters, "invoices": result.rows, "next_cursor": result.next_cursor,
            "unread": await _unread(structure_id, result.rows), "status_label": label, "selectable": selectable}


async def _chips_context(side: str, structure_id: int, filters: workspace.Filters) -> dict:
    if side == workspace.SUPPLIER:
        summary = await workspace.supplier_summary(structure_id)
        chips = [(g["key"], g["title"], g["count"]) for g in summary["groups"]]
    else:
        summary = await workspace.recipient_summary(structure_id)
        chips = [("a_traiter", "À traiter", summary["waiting_total"])] + [
            (w["status"], w["title"], w["count"]) for w in summary["waiting"] if w["count"]]
    if summary["late"] or filters.status == workspace.LATE:
        chips.append((workspace.LATE, workspace.LATE_TITLE, summary["late"]))
    return {"chips": chips}


@get("/invoices", opt=space(INVOICES))
async def invoices(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    found = _side(current)
    if found is None:
        return page(request, "invoices/list.html", side=None, invoices=[], filters=workspace.Filters())
    side, structure_id = found
    filters = workspace.parse_filters(_params(request), side)
    context = await _list_context(side, structure_id, filters, _selectable(current, side))
    if request.query_params.get("fragment") == "rows":  # "Factures suivantes" with htmx: rows to append
        return _vary(page(request, "invoices/_rows.html", **context))
    if request.headers.get("hx-target") == "invoice-results" and not request.headers.get("hx-history-restore-request"):
        return _vary(page(request, "invoices/_results.html", **context))
    services = await Service.select(Service.code, Service.name).where(Service.structure == structure_id).order_by(
        Service.code) if side == workspace.RECIPIENT else []
    return _vary(page(request, "invoices/list.html", statuses=[(s, st.label) for s, st in STATUSES.items() if s != "BROUILLON"],
                      services=services, parties=await workspace.counterparts(side, structure_id),
                      **context, **await _chips_context(side, structure_id, filters)))


def _vary(response: Template) -> Template:
    # The same URL answers a full page or an htmx fragment: caches must keep them apart.
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


@get("/invoices/counters", opt=space(INVOICES))
async def invoice_counters(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    """The filter chips with their counts: refreshed on `sse:changed`."""
    found = _side(current)
    if found is None:
        raise NotFoundException(access.NOT_FOUND)
    side, structure_id = found
    filters = workspace.parse_filters(_params(request), side)
    return page(request, "invoices/_chips.html", filters=filters, side=side, **await _chips_context(side, structure_id, filters))


@get("/invoices/{invoice_id:int}/row", opt=space(INVOICES))
async def invoice_row(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template | Response:
    """One list row, as it is now: swapped in on `sse:invoice-<id>`.

    `?new=1` with the list's filters: an invoice that has just arrived, asked for by the
    open list (app.js) to insert it in place; 204 when it is not in that filtered list.
    `?selectable=1`: the agent's list, with the row's selection box.
    """
    found = _side(current)
    params = _params(request)
    new = params.get("new") == "1"
    filters = workspace.parse_filters(params, found[0]) if found and new else None
    row = await workspace.row(found[0], found[1], invoice_id, filters) if found else None
    if row is None:
        if new and found:
            return Response(b"", status_code=204)
        raise NotFoundException(access.NOT_FOUND)
    selectable = params.get("selectable") == "1" and _selectable(current, found[0])
    return page(request, "invoices/_row.html", i=row, side=found[0], selectable=selectable,
                unread=await _unread(found[1], [row]))


@get("/notifications", opt=space(ACCOUNT))
async def notifications(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    return page(request, "messages/notifications.html", **await notifications_context(current))


router = Router(path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[home, home_summary, invoices, invoice_counters, invoice_row, notifications])
