"""The one guard that checks, on every route, the right its space needs (backend/accounts/spaces.py).

Installed on the app. It reads the route's `opt["space"]`:
- a space (or `INVOICES`, the side's invoice space): the signed-in person's active structure must
  have it active and the person must hold consultation (GET/HEAD) or modification (other methods,
  or the route's `space_level`); otherwise 404, the answer for what one may not see anywhere else.
  An invoice's own routes (`INVOICES` with an `invoice_id`) need the right in the invoice's space
  for the active structure: « Factures à valider » for its validator (invoices/access.space_of);
- `public`, `account`, `manager`, `api`, `operator`: not a space, the route checks its own audience;
- nothing: refused (404) — a route must say where it belongs (the access-matrix test names it).
Anonymous visitors of a space route get what `require_user` gives them: the way to /login.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from backend.accounts import spaces
from backend.invoices import access
from backend.lib.web import NOT_FOUND_TEXT, require_user

# Litestar's own handlers (OPTIONS answers, static files) declare nothing and serve no data.
_FRAMEWORK_MODULES = ("litestar.",)


def declared_space(handler: BaseRouteHandler) -> str | None:
    return handler.opt.get("space")


def is_framework_handler(handler: BaseRouteHandler) -> bool:
    fn = getattr(handler, "fn", None)
    return bool(fn and getattr(fn, "__module__", "").startswith(_FRAMEWORK_MODULES))


async def space_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if connection.scope["type"] != "http":
        return
    declared = declared_space(handler)
    if declared in spaces.NOT_SPACES:
        return
    if declared is None:
        if is_framework_handler(handler):
            return
        raise NotFoundException(NOT_FOUND_TEXT)  # undeclared: closed until it says where it belongs
    current = await require_user(connection)  # type: ignore[arg-type]
    level = spaces.required_level(connection.scope["method"], handler.opt)
    if declared == spaces.INVOICES and "invoice_id" in connection.path_params:
        allowed = await access.may_reach(current, connection.path_params["invoice_id"], level)
    else:
        allowed = current.may(declared, level)
    if not allowed:
        raise NotFoundException(NOT_FOUND_TEXT)
