"""Accueil and the sections of the bottom navigation that later issues fill in."""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from backend.accounts.tables import Membership
from backend.invoices.listing import invoice_list
from backend.invoices.statuses import label
from backend.web import CurrentUser, page, require_user


async def _pending_requests(current: NamedDependency[CurrentUser]) -> int:
    if not current.is_manager:
        return 0
    return await Membership.count().where(
        (Membership.structure == current.structure_id) & (Membership.status == "pending")
    )


@get("/")
async def home(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    return page(request, "home.html", pending_requests=await _pending_requests(current))


@get("/invoices")
async def invoices(request: Request, current: NamedDependency[CurrentUser], before: FromQuery[int | None] = None) -> Template:
    rows, next_before = await invoice_list(current, before)
    return page(request, "invoices/list.html", invoices=rows, next_before=next_before, status_label=label)


@get("/notifications")
async def notifications(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    return page(request, "section.html", title="Notifications", message="Aucune notification.")


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[home, invoices, notifications])
