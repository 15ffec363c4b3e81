"""Pages of the "Travaux" workspace, phone first.

    GET  /works                          Mes marchés (keyset pages: ?cursor=), the ones to confirm first
    GET  /works/markets/new              Déclarer un marché (form)
    POST /works/markets                  declare (MOA gestionnaire: active; titulaire: pending)
    GET  /works/markets/{id}             the market: actors, dossiers, confirmation for the MOA
    POST /works/markets/{id}/confirm     the MOA confirms a market declared by its titulaire
    GET  /works/dossiers/{id}            a dossier de facturation: its timeline of amounts

A structure that is not an actor of a market gets 404 on every route of that market. A
refused declaration shows each field's French error in place, with what was typed (422).
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.spaces import space
from backend.lib.web import CurrentUser, flash, form_data, page, require_user
from backend.works import dossiers, markets
from backend.works.markets import Declarer, MarketIn, WorksError
from backend.works.tables import MOA, PENDING

FORM_FIELDS = ("number", "title", "moa_siret", "moa_service", "moe_siret", "moe_service", "payer_siret", "payer_service",
               "engagement", "titulaire_siret", "mandataire_siret", "start_date", "amount_excl_vat")
LIST_FIELDS = ("cotraitants", "sous_traitants")  # one SIRET a line
MAX_FIELD = 2000  # what a form field may carry back into the page


def _raise(exc: WorksError) -> None:
    if exc.http_status == 404:
        raise NotFoundException(exc.message)
    raise HTTPException(status_code=exc.http_status, detail=exc.message)


def declarer_for(current: CurrentUser) -> Declarer:
    active = current.active or {}
    return Declarer(current.structure_id, current.id, may_act_as_moa=current.is_manager,
                    may_act_as_titulaire=bool(active.get("can_deposit") or active.get("is_manager")))


def market_in(data: dict[str, str]) -> MarketIn:
    values = {name: (data.get(name) or "")[:MAX_FIELD] for name in FORM_FIELDS}
    lists = {name: (data.get(name) or "")[:MAX_FIELD].replace(",", "\n").splitlines() for name in LIST_FIELDS}
    return MarketIn(**values, **lists)


@get("/works")
async def workspace(request: Request, current: NamedDependency[CurrentUser], cursor: FromQuery[str | None] = None) -> Template:
    if current.structure_id is None:
        return page(request, "works/workspace.html", markets=[], next_cursor=None, to_confirm=[])
    try:
        rows, next_cursor = await markets.market_page(current.structure_id, cursor=cursor)
    except WorksError as exc:
        _raise(exc)
    to_confirm = [r for r in rows if r["status"] == PENDING and MOA in r["roles"]] if not cursor else []
    return page(request, "works/workspace.html", markets=rows, next_cursor=next_cursor, to_confirm=to_confirm)


def _form_page(request: Request, current: CurrentUser, form: dict, errors: dict, status: int = 200, error: str = "") -> Template:
    active = (current.active or {}).get("structure") or {}
    return page(request, "works/declare.html", status_code=status, form=form, errors=errors, error=error,
                is_public=bool(active.get("is_public")), own_siret=active.get("siret", ""))


@get("/works/markets/new")
async def declare_form(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    active = (current.active or {}).get("structure") or {}
    # The declarer's own structure is prefilled where it is most likely to stand.
    form = {"moa_siret": active.get("siret", "")} if active.get("is_public") else {"titulaire_siret": active.get("siret", "")}
    return _form_page(request, current, form, {})


@post("/works/markets")
async def declare(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    try:
        market_id = await markets.declare(market_in(data), declarer_for(current))
    except WorksError as exc:
        form = {name: (data.get(name) or "")[:MAX_FIELD] for name in (*FORM_FIELDS, *LIST_FIELDS)}
        return _form_page(request, current, form, exc.errors, exc.http_status, exc.message)
    market = await markets.visible_market(market_id, current.structure_id)
    flash(request, "Marché déclaré." if market.status != PENDING else
          "Marché déclaré : il attend la confirmation du maître d'ouvrage.", "success")
    return Redirect(f"/works/markets/{market_id}", status_code=303)


@get("/works/markets/{market_id:int}")
async def market_page(request: Request, current: NamedDependency[CurrentUser], market_id: FromPath[int]) -> Template:
    try:
        market = await markets.visible_market(market_id, current.structure_id)
    except WorksError as exc:
        _raise(exc)
    detail = await markets.market_detail(market, current.structure_id)
    for dossier in detail["dossiers"]:
        dossier["summary_label"] = (await dossiers.dossier_summary(dossier["id"]))[1]
    can_confirm = market.status == PENDING and MOA in detail["roles"] and current.is_manager
    return page(request, "works/market.html", can_confirm=can_confirm, **detail)


@post("/works/markets/{market_id:int}/confirm")
async def confirm(request: Request, current: NamedDependency[CurrentUser], market_id: FromPath[int]) -> Redirect:
    try:
        await markets.confirm(market_id, current.structure_id, current.id, may_act_as_moa=current.is_manager)
    except WorksError as exc:
        _raise(exc)
    flash(request, "Marché confirmé : il est actif pour tous ses acteurs.", "success")
    return Redirect(f"/works/markets/{market_id}", status_code=303)


@get("/works/dossiers/{dossier_id:int}")
async def dossier_page(request: Request, current: NamedDependency[CurrentUser], dossier_id: FromPath[int]) -> Template:
    try:
        dossier, market = await dossiers.visible_dossier(dossier_id, current.structure_id)
    except WorksError as exc:
        _raise(exc)
    steps = await dossiers.timeline(dossier.id)
    return page(request, "works/dossier.html", dossier=dossier, market=market, steps=steps,
                summary=dossiers.SUMMARY_LABELS[dossiers.summary_of(steps)])


router = Router(opt=space("travaux"), path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[workspace, declare_form, declare, market_page, confirm, dossier_page])
