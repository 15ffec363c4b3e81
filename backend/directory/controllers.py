"""Directory pages: search with autocomplete, a public structure's page, and two fragments
the invoice capture form swaps in with htmx.

    GET /directory?q=                 page; the results fragment for htmx requests
    GET /directory/autocomplete?q=    fragment: a listbox of matching structures
    GET /directory/{siret}            page: what the structure requires, its active services, a question form
    GET /directory/{siret}/services   fragment: requirements + <select name="service_code">

All of them need a signed-in user (a 401 becomes a redirect to /login for pages).
"""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from backend.accounts.spaces import ACCOUNT, space
from backend.directory.structure_page import structure_context
from backend.directory import search
from backend.lib.web import CurrentUser, page, require_user

def _is_fragment_request(request: Request) -> bool:
    """An htmx swap, but not htmx restoring a page from history (that needs the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def _vary(response: Template) -> Template:
    # Same URL, two bodies (page or fragment): caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


@get("/directory")
async def directory_page(request: Request, current: NamedDependency[CurrentUser], q: FromQuery[str] = "") -> Template:
    results = await search.search_structures(q)
    fragment = _is_fragment_request(request)
    template = "directory/results.html" if fragment else "directory/search.html"
    return _vary(page(request, template, q=q.strip(), results=results, fragment=fragment))


@get("/directory/autocomplete")
async def autocomplete(request: Request, current: NamedDependency[CurrentUser], q: FromQuery[str] = "") -> Template:
    results = await search.search_structures(q)
    return page(request, "directory/options.html", q=q.strip(), results=results)


async def _public_structure(siret: str):
    structure = await search.public_structure(siret.replace(" ", ""))
    if structure is None:
        raise NotFoundException()
    return structure


@get("/directory/{siret:str}")
async def structure_page(request: Request, current: NamedDependency[CurrentUser], siret: FromPath[str]) -> Template:
    structure = await _public_structure(siret)
    return page(request, "directory/structure.html", **await structure_context(current, structure))


@get("/directory/{siret:str}/services")
async def structure_services(
    request: Request,
    current: NamedDependency[CurrentUser],
    siret: FromPath[str],
    selected: FromQuery[str] = "",
) -> Template:
    structure = await _public_structure(siret)
    services = await search.active_services(structure.id)
    return page(request, "directory/services.html", structure=structure, services=services, selected=selected)


router = Router(opt=space(ACCOUNT), 
    path="/",
    dependencies={"current": Provide(require_user)},
    route_handlers=[directory_page, autocomplete, structure_page, structure_services],
)
