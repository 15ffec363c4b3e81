"""API v1 for works markets: declare, list (keyset pages), read, confirm.

    POST /api/v1/works/markets                      declare (the key's structure is the MOA or the titulaire)
    GET  /api/v1/works/markets                      the markets where the key's structure acts
    GET  /api/v1/works/markets/{market_id}          one market, its actors and dossiers
    POST /api/v1/works/markets/{market_id}/confirm  the MOA confirms a market declared by its titulaire

Same rules as the pages (backend/works/markets.py): a market the key's structure does not
act in is 404. A key declares as MOA with the "process" scope, as titulaire with "deposit".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.works import dossiers, markets
from backend.works.markets import Declarer, MarketIn, WorksError

Siret = Annotated[str, msgspec.Meta(max_length=20, examples=["21690123100011"])]
Text50 = Annotated[str, msgspec.Meta(max_length=50)]
Text100 = Annotated[str, msgspec.Meta(max_length=100)]
ID = PathParameter(ge=1, le=2**31 - 1, examples=[Example(value=1)])
TAG = ["Marchés de travaux"]


class MarketCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Un marché de travaux : ses acteurs par SIRET (et code service pour les structures publiques)."""

    number: Annotated[str, msgspec.Meta(max_length=50, description="Numéro du marché, unique pour ce maître d'ouvrage.")]
    title: Annotated[str, msgspec.Meta(max_length=255, description="Objet du marché.")]
    moa_siret: Siret
    moa_service: Text100 = ""
    moe_siret: Siret
    moe_service: Text100 = ""
    payer_siret: Siret
    payer_service: Text100 = ""
    engagement: Text50 = ""
    titulaire_siret: Siret
    cotraitants: Annotated[list[Siret], msgspec.Meta(max_length=markets.MAX_PARTNERS)] = []
    mandataire_siret: Annotated[str, msgspec.Meta(max_length=20, description="Le titulaire (par défaut) ou un cotraitant.")] = ""
    sous_traitants: Annotated[list[Siret], msgspec.Meta(max_length=markets.MAX_PARTNERS,
                                                        description="Sous-traitants de premier rang en paiement direct.")] = []
    start_date: date | None = None
    amount_excl_vat: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,16}(\.[0-9]{1,2})?$", examples=["250000.00"])] | None = None


class ActorOut(msgspec.Struct, kw_only=True):
    role: str  # moa | moe | payer | titulaire | cotraitant | sous_traitant
    role_label: str
    siret: str
    name: str
    service_code: str | None
    is_mandataire: bool
    direct_payment: bool


class DossierOut(msgspec.Struct, kw_only=True):
    id: int
    number: str
    period_start: date
    period_end: date
    status: str | None  # asked | accepted | corrected | validated | paid, None without a piece
    status_label: str


class MarketSummary(msgspec.Struct, kw_only=True):
    id: int
    number: str
    title: str
    status: str  # active | pending
    status_label: str
    engagement: str
    start_date: date | None
    amount_excl_vat: str | None
    moa_name: str
    titulaire_name: str
    roles: list[str]  # the key's structure's roles in the market
    created_at: datetime


class MarketDetail(MarketSummary, kw_only=True):
    actors: list[ActorOut]
    dossiers: list[DossierOut]


class MarketPage(msgspec.Struct, kw_only=True):
    items: list[MarketSummary]
    next_cursor: str | None


def _problem(exc: WorksError) -> ApiProblem:
    findings = [{"rule": f"FCT-WORKS-{exc.code.upper()}", "severity": "fatal", "stage": "request", "location": name,
                 "message": message} for name, message in exc.errors.items()]
    return ApiProblem(exc.http_status, exc.code, exc.message, findings=findings or None)


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _summary_fields(row: dict) -> dict:
    return {"id": row["id"], "number": row["number"], "title": row["title"], "status": row["status"],
            "status_label": markets.STATUS_LABELS[row["status"]], "engagement": row["engagement"],
            "start_date": row["start_date"], "amount_excl_vat": _money(row["amount_excl_vat"]),
            "moa_name": row["moa_name"], "titulaire_name": row["titulaire_name"], "created_at": row["created_at"]}


async def _detail(market_id: int, structure_id: int) -> MarketDetail:
    market = await markets.visible_market(market_id, structure_id)
    detail = await markets.market_detail(market, structure_id)
    row = (await markets.Market.select(*markets.LIST_COLUMNS).where(markets.Market.id == market_id))[0]
    dossier_rows = []
    for d in detail["dossiers"]:
        step, label = await dossiers.dossier_summary(d["id"])
        dossier_rows.append(DossierOut(id=d["id"], number=d["number"], period_start=d["period_start"],
                                       period_end=d["period_end"], status=step, status_label=label))
    actors = [ActorOut(role=a["role"], role_label=a["role_label"], siret=a["siret"], name=a["name"], service_code=a["service_code"],
                       is_mandataire=a["is_mandataire"], direct_payment=bool(a["direct_payment"])) for a in detail["actors"]]
    return MarketDetail(**_summary_fields(row), roles=detail["roles"], actors=actors, dossiers=dossier_rows)


def _json(value: msgspec.Struct, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


@post("/works/markets", status_code=201, summary="Déclarer un marché de travaux", tags=TAG)
async def create_market(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[MarketCreate]) -> Response[MarketDetail]:
    """Déclaré par le maître d'ouvrage (clé avec la permission `process`), le marché est actif
    (`active`) ; déclaré par le titulaire (permission `deposit`), il attend la confirmation du
    maître d'ouvrage (`pending`). 422 avec un constat par champ refusé (SIRET absent de
    l'annuaire, structure non publique, code service exigé, engagement exigé par le payeur…) ;
    409 quand ce maître d'ouvrage a déjà un marché de ce numéro."""
    if not principal.scopes & {"deposit", "process"}:
        require_scope(principal, "deposit")
    declarer = Declarer(principal.structure_id, None, may_act_as_moa="process" in principal.scopes,
                        may_act_as_titulaire="deposit" in principal.scopes)
    fields = msgspec.structs.asdict(data)
    fields["start_date"] = data.start_date.isoformat() if data.start_date else ""
    fields["amount_excl_vat"] = data.amount_excl_vat or ""

    async def work() -> Response:
        try:
            market_id = await markets.declare(MarketIn(**fields), declarer)
        except WorksError as exc:
            raise _problem(exc) from None
        return _json(await _detail(market_id, principal.structure_id), 201)

    return await idempotent(request, principal, work)


@get("/works/markets", summary="Mes marchés de travaux (pagination par curseur)", tags=TAG)
async def list_markets(
    principal: NamedDependency[ApiPrincipal],
    cursor: Annotated[str | None, QueryParameter(description="Le `next_cursor` de la page précédente.", max_length=200)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=markets.MAX_PAGE, description="Nombre de marchés (1 à 100).")] = markets.PAGE_SIZE,
) -> MarketPage:
    """Les marchés où la structure de la clé est un acteur, du plus récent au plus ancien."""
    require_scope(principal, "read")
    try:
        rows, next_cursor = await markets.market_page(principal.structure_id, cursor=cursor, limit=limit)
    except WorksError as exc:
        raise _problem(exc) from None
    return MarketPage(items=[MarketSummary(**_summary_fields(r), roles=r["roles"]) for r in rows], next_cursor=next_cursor)


@get("/works/markets/{market_id:int}", summary="Un marché de travaux : acteurs et dossiers", tags=TAG)
async def get_market(principal: NamedDependency[ApiPrincipal], market_id: Annotated[int, ID]) -> MarketDetail:
    require_scope(principal, "read")
    try:
        return await _detail(market_id, principal.structure_id)
    except WorksError as exc:
        raise _problem(exc) from None


@post("/works/markets/{market_id:int}/confirm", status_code=200, summary="Confirmer un marché déclaré par le titulaire", tags=TAG)
async def confirm_market(request: Request, principal: NamedDependency[ApiPrincipal], market_id: Annotated[int, ID]) -> Response[MarketDetail]:
    """Par le maître d'ouvrage du marché (permission `process`). 409 quand le marché est déjà actif."""
    require_scope(principal, "process")

    async def work() -> Response:
        try:
            await markets.confirm(market_id, principal.structure_id, None, may_act_as_moa=True)
            return _json(await _detail(market_id, principal.structure_id))
        except WorksError as exc:
            raise _problem(exc) from None

    return await idempotent(request, principal, work)


HANDLERS = [create_market, list_markets, get_market, confirm_market]

REQUEST_EXAMPLE = {
    "number": "2026-TX-014", "title": "Réfection de la toiture de l'école Jules-Ferry",
    "moa_siret": "21690123100011", "moa_service": "TECH", "moe_siret": "21690123100011", "moe_service": "TECH",
    "payer_siret": "21690123100011", "payer_service": "FIN", "engagement": "EJ-2026-0042",
    "titulaire_siret": "12345678200010", "cotraitants": ["55210055400013"], "sous_traitants": ["44306184100047"],
    "start_date": "2026-03-02", "amount_excl_vat": "250000.00",
}
