"""« Exporter »: the invoice list of either workspace (with its filters) and the deposits history, as CSV or XLSX."""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.response import Stream, Template

from backend.accounts.spaces import INVOICES, space
from backend.invoices import access, export, workspace
from backend.lib.web import CurrentUser, page, require_user

UNKNOWN_FORMAT = "Format d'export inconnu : choisissez « csv » (tableur) ou « xlsx » (Excel)."


def _format(request: Request) -> str | None:
    fmt = (request.query_params.get("format") or "csv").strip().lower()
    return fmt if fmt in export.FORMATS else None


def _bad_format(request: Request) -> Template:
    return page(request, "error.html", status_code=400, status=400, message=UNKNOWN_FORMAT)


@get("/invoices/export", opt=space(INVOICES))
async def invoices_export(request: Request, current: NamedDependency[CurrentUser]) -> Stream | Template:
    """The list as the person sees it (same filters, same order), every page of it."""
    structure_id = access.require_active_right(current, "can_consult")
    fmt = _format(request)
    if fmt is None:
        return _bad_format(request)
    side = workspace.side_of(current.active["structure"])
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    filters = workspace.parse_filters(params, side)
    received = side == workspace.RECIPIENT
    return await export.download(
        fmt, export.INVOICE_COLUMNS, export.invoice_batches(side, structure_id, filters),
        "factures-recues" if received else "factures", "Factures reçues" if received else "Factures")


@get("/deposits/export", opt=space("emises"))
async def deposits_export(request: Request, current: NamedDependency[CurrentUser]) -> Stream | Template:
    structure_id = access.require_active_right(current, "can_consult")
    fmt = _format(request)
    if fmt is None:
        return _bad_format(request)
    return await export.download(fmt, export.DEPOSIT_COLUMNS, export.deposit_batches(structure_id), "depots", "Dépôts")


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[invoices_export, deposits_export])
