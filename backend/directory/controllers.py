"""Directory pages: search with autocomplete, and a public structure's page."""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Template

from backend.directory import search
from backend.web import CurrentUser, page, require_user


@get("/directory")
async def directory_page(request: Request, current: CurrentUser, q: str = "") -> Template:
    results = await search.search_structures(q) if q.strip() else []
    template = "directory/results.html" if request.headers.get("hx-request") else "directory/search.html"
    return page(request, template, q=q, results=results)


@get("/directory/{siret:str}")
async def structure_page(request: Request, current: CurrentUser, siret: str) -> Template:
    structure = await search.public_structure(siret)
    if structure is None:
        raise NotFoundException()
    services = await search.active_services(structure.id)
    return page(request, "directory/structure.html", structure=structure, services=services)


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[directory_page, structure_page])
