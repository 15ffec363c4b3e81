"""API exports: an invoice list as CSV (the same file as the site's « Exporter »), with the site's filters.

The JSON lists (`GET /invoices`, `GET /received`) stay as they are: an export is its own
route, with one content type, so that the OpenAPI document says exactly what comes back.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.problems import ApiProblem
from backend.invoices import export, workspace

CSV = export.MEDIA_TYPES["csv"]
STATUS = QueryParameter(max_length=24, description="Un statut (ex. SUSPENDUE) ou un groupe de la liste (a_traiter, en_cours, payees ; "
                                                   "reçues : a_traiter, chez_fournisseur, terminees).")
DU = QueryParameter(max_length=10, description="Date d'émission au plus tôt (AAAA-MM-JJ).")
AU = QueryParameter(max_length=10, description="Date d'émission au plus tard (AAAA-MM-JJ).")
MIN = QueryParameter(max_length=20, description="Montant TTC minimal (ex. 100 ou 1 000,50).")
MAX = QueryParameter(max_length=20, description="Montant TTC maximal.")
Q = QueryParameter(max_length=100, description="Recherche (numéro ; pour les reçues aussi nom ou SIRET du fournisseur).")
DESCRIPTION = ("Toutes les factures qui répondent aux filtres, les plus récentes d'abord, en CSV pour un tableur français : "
               "UTF-8 avec BOM, `;`, virgule décimale, dates JJ/MM/AAAA. Envoyé au fil de la lecture.")


def _filters(request: Request, side: str) -> workspace.Filters:
    """The site's filter parsing; what it would drop with a message is a 422 here."""
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    params.pop("party", None)  # the site's counterpart filter takes an internal id: not for programs
    filters = workspace.parse_filters(params, side)
    if filters.errors:
        raise ApiProblem(422, "filter_invalid", " ".join(filters.errors))
    return filters


def _csv(principal: ApiPrincipal, side: str, filters: workspace.Filters, stem: str) -> Stream:
    batches = export.invoice_batches(side, principal.structure_id, filters)
    name = export.file_name(stem, "csv")
    return Stream(export.csv_stream(export.INVOICE_COLUMNS, batches), media_type=CSV,
                  headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@get("/invoices/export", summary="Exporter les factures émises (CSV)", tags=["Factures émises"], media_type=CSV,
     description=DESCRIPTION)
async def export_invoices(
    request: Request, principal: NamedDependency[ApiPrincipal],
    status: Annotated[str | None, STATUS] = None, du: Annotated[str | None, DU] = None, au: Annotated[str | None, AU] = None,
    min: Annotated[str | None, MIN] = None, max: Annotated[str | None, MAX] = None, q: Annotated[str | None, Q] = None,
) -> Stream:
    require_scope(principal, "read")
    return _csv(principal, workspace.SUPPLIER, _filters(request, workspace.SUPPLIER), "factures")


@get("/received/export", summary="Exporter les factures reçues (CSV)", tags=["Factures reçues"], media_type=CSV,
     description=DESCRIPTION)
async def export_received(
    request: Request, principal: NamedDependency[ApiPrincipal],
    status: Annotated[str | None, STATUS] = None, service: Annotated[str | None, QueryParameter(max_length=100, description="Code service.")] = None,
    du: Annotated[str | None, DU] = None, au: Annotated[str | None, AU] = None,
    min: Annotated[str | None, MIN] = None, max: Annotated[str | None, MAX] = None, q: Annotated[str | None, Q] = None,
) -> Stream:
    require_scope(principal, "read")
    return _csv(principal, workspace.RECIPIENT, _filters(request, workspace.RECIPIENT), "factures-recues")


HANDLERS = [export_invoices, export_received]
