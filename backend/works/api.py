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
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.works import dossiers, markets, pieces
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


# --- pieces: the monthly circuit (A4 → MOE → A15 → MOA → A19 → payer), the final one (A7 → MOE → A17 →
# MOA → A20 → titulaire signs → A8 → payer) and its tacit procedure (A22, A23) ------------------------
#
#     POST /api/v1/works/pieces                      the titulaire files a projet de décompte mensuel, or final
#                                                    (`"kind": "final"`) (scope deposit)
#     GET  /api/v1/works/pieces                      the pieces the key's structure files or receives (?role, status, to_act)
#     GET  /api/v1/works/pieces/{piece_id}           one piece: amounts asked and accepted, état d'acompte lines, history
#     POST /api/v1/works/pieces/{piece_id}/actions   a step of the circuit (MOE, MOA: scope process; titulaire: deposit)

PIECE_TAG = ["Pièces de travaux"]
Amount = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$", examples=["12500.00"])]


class StatementAmounts(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Cumuls depuis le début du marché, HT, en euros (texte)."""

    works: Amount = "0"
    supplies: Amount = "0"
    price_revision: Amount = "0"
    bonuses: Amount = "0"
    expenses: Amount = "0"
    penalties: Amount = "0"
    advance_repaid: Amount = "0"


class CorrectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Les cumuls que le maître d'œuvre corrige ; les autres restent ceux demandés."""

    works: Amount | None = None
    supplies: Amount | None = None
    price_revision: Amount | None = None
    bonuses: Amount | None = None
    expenses: Amount | None = None
    penalties: Amount | None = None
    advance_repaid: Amount | None = None


class PieceCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Un projet de décompte mensuel (A4) du titulaire, ou son projet de décompte final (A7 ; `kind` = `final`),
    pour le maître d'œuvre du marché."""

    market_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="Numéro du décompte (et du dossier de facturation).")]
    period_start: date
    period_end: date
    amounts: StatementAmounts
    vat_rate: Annotated[str, msgspec.Meta(pattern=r"^0(\.[0-9]{1,3})?$", examples=["0.20"])] = "0.20"
    retenue_rate: Annotated[str, msgspec.Meta(pattern=r"^0(\.[0-9]{1,3})?$", examples=["0.05"])] = "0.05"
    caution: bool = False
    kind: Annotated[Literal["monthly", "final"], msgspec.Meta(description=(
        "monthly : projet de décompte mensuel (A4 ; A10 sous-traitant, A13 cotraitant) ; final : projet de décompte "
        "final (A7 ; A14 cotraitant), cumuls de fin de marché : le solde est calculé depuis le dernier décompte accepté."))] = "monthly"


class PieceAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Annotated[str, msgspec.Meta(max_length=24, examples=["PRISE_EN_COMPTE_MOE"], description=(
        "MOE : PRISE_EN_COMPTE_MOE (avec `correction` éventuelle), SUSPENDUE_MOE, REFUSEE_MOE (motif autre qu'un montant) ; "
        "titulaire : COMPLETEE_MOE, TRANSMISE_MOA (après le délai de 7 jours) ; MOA : PRISE_EN_COMPTE_MOA, REFUSEE_MOA ; "
        "valideur d'un décompte de sous-traitant (A10) ou de cotraitant (A13, A14) : VALIDEE_1, REFUSEE_1 (VALIDEE_2, REFUSEE_2). "
        "Décompte final : titulaire sur le décompte général (A20) : SIGNEE_TITULAIRE, ou RECLAMATION_TITULAIRE (`reason_code` : "
        "SOLDE_CONTESTE, PENALITES_CONTESTEES, TRAVAUX_NON_RETENUS, REVISION_PRIX, AUTRE, et `comment`) ; procédure tacite : "
        "REMPLACEE_A22 sur le projet de décompte général (A17) resté sans réponse du MOA 30 jours, puis DGD_TACITE sur le "
        "projet tacite (A22) resté 10 jours sans réponse."))]
    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    reason_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    correction: CorrectionIn | None = None


class AmountOut(msgspec.Struct, kw_only=True):
    code: str
    label: str
    asked: str
    accepted: str
    previous: str
    corrected: bool


class LineOut(msgspec.Struct, kw_only=True):
    code: str
    letter: str
    label: str
    amount: str
    sign: int


class StepOut(msgspec.Struct, kw_only=True):
    status: str
    label: str
    actor_kind: str
    reason_code: str
    comment: str
    at: datetime


class ClaimOut(msgspec.Struct, kw_only=True):
    reason: str  # SOLDE_CONTESTE, PENALITES_CONTESTEES, TRAVAUX_NON_RETENUS, REVISION_PRIX, AUTRE
    label: str
    comment: str


class PieceSummary(msgspec.Struct, kw_only=True):
    id: int
    number: str
    billing_framework: str  # A4 | A15 | A19
    kind_label: str
    status: str
    chorus_status: str  # Chorus Pro's name (ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE for HORS_DELAI_MOE)
    status_label: str
    version: int
    market_id: int
    dossier_id: int | None
    days_left: int | None  # the MOE's days left to answer, while it runs
    due_at: datetime | None


class PieceListItem(PieceSummary, kw_only=True):
    total_excl_vat: str
    amount_due: str
    supplier_name: str
    recipient_name: str


class PieceDetail(PieceSummary, kw_only=True):
    framework_label: str
    market_number: str
    period_start: date | None
    period_end: date | None
    amounts: list[AmountOut]
    lines: list[LineOut]
    warnings: list[str]
    total_excl_vat: str
    total_incl_vat: str
    amount_due: str
    source_id: int | None  # the piece this one was filed from (A15 ← A4, A19 ← A15)
    actions: list[str]  # the steps the key may take now
    history: list[StepOut]
    replaced_by_id: int | None = None  # the tacit piece that replaced this one (A17 → A22: REMPLACEE_PAR_A22; A22 → A23)
    claim: ClaimOut | None = None  # the titulaire's refusal to sign the décompte général (A20)


class PiecePage(msgspec.Struct, kw_only=True):
    items: list[PieceListItem]
    next_cursor: str | None


def _summary(row: dict) -> dict:
    return {"id": row["id"], "number": row["number"], "billing_framework": row["billing_framework"], "kind_label": row["kind_label"],
            "status": row["status"], "chorus_status": row["chorus_status"], "status_label": row["status_label"],
            "version": row["version"], "market_id": row["market"], "dossier_id": row["dossier"], "days_left": row["days_left"],
            "due_at": row["validation_due_at"] if row["days_left"] is not None else None}


async def _piece_detail(piece_id: int, principal: ApiPrincipal) -> PieceDetail:
    piece = await pieces.visible_piece(piece_id, principal.structure_id)
    viewer = pieces.viewer_for(piece, principal.structure_id, api_key_id=principal.key_id)
    d = await pieces.detail(piece, viewer)
    return PieceDetail(
        **_summary(d), framework_label=d["framework_label"], market_number=d["market_number"], period_start=d["period_start"],
        period_end=d["period_end"], amounts=[AmountOut(**a) for a in d["amounts"]], lines=[LineOut(**line) for line in d["lines"]],
        warnings=d["warnings"], total_excl_vat=d["total_excl_vat"], total_incl_vat=d["total_incl_vat"], amount_due=d["amount_due"],
        source_id=d["source"], actions=d["actions"],
        history=[StepOut(status=h["status"], label=h["label"], actor_kind=h["actor_kind"], reason_code=h["reason_code"] or "",
                         comment=h["comment"] or "", at=h["created_at"]) for h in d["history"]],
        replaced_by_id=d["replaced_by"]["id"] if d["replaced_by"] else None,
        claim=ClaimOut(reason=d["claim"]["reason"], label=d["claim"]["label"], comment=d["claim"]["comment"] or "") if d["claim"] else None)


@post("/works/pieces", status_code=201, summary="Déposer un projet de décompte mensuel (A4) ou final (A7)", tags=PIECE_TAG)
async def create_piece(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[PieceCreate]) -> Response[PieceDetail]:
    """Par le titulaire du marché (A4), un sous-traitant (A10, validé d'abord par le titulaire) ou un
    cotraitant (A13, validé d'abord par le mandataire), avec la permission `deposit`. Les montants sont les cumuls depuis le début du
    marché ; l'état d'acompte (cumul − cumul précédent accepté, TVA, retenue de garantie…) est calculé
    aussitôt. La pièce va au maître d'œuvre, qui a 7 jours pour l'accepter ou corriger ses montants.
    422 pour un montant illisible ou un acompte négatif ; 409 pour un numéro déjà pris ; 404 pour un
    marché où la structure n'agit pas ; 403 quand elle n'en est pas le titulaire."""
    require_scope(principal, "deposit")
    statement = pieces.StatementIn(number=data.number, period_start=data.period_start.isoformat(), period_end=data.period_end.isoformat(),
                                   amounts=msgspec.structs.asdict(data.amounts), vat_rate=data.vat_rate,
                                   retenue_rate=data.retenue_rate, caution=data.caution, final=data.kind == "final")

    async def work() -> Response:
        try:
            piece = await pieces.file_statement(data.market_id, principal.structure_id, principal.actor("supplier"), statement)
            return _json(await _piece_detail(piece.id, principal), 201)
        except WorksError as exc:
            raise _problem(exc) from None

    return await idempotent(request, principal, work)


@get("/works/pieces", summary="Pièces de travaux (pagination par curseur)", tags=PIECE_TAG)
async def list_pieces(
    principal: NamedDependency[ApiPrincipal],
    role: Annotated[str | None, QueryParameter(description="titulaire, moe, moa ou payer", max_length=20)] = None,
    status: Annotated[str | None, QueryParameter(description="Un statut (MISE_A_DISPOSITION_MOE…).", max_length=40)] = None,
    to_act: Annotated[bool, QueryParameter(description="Seulement celles qui attendent la structure de la clé.")] = False,
    market_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    cursor: Annotated[str | None, QueryParameter(description="Le `next_cursor` de la page précédente.", max_length=200)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=markets.MAX_PAGE)] = pieces.PAGE_SIZE,
) -> PiecePage:
    """Les pièces que la structure de la clé dépose (titulaire) ou reçoit (maître d'œuvre, maître
    d'ouvrage, payeur), de la plus récente à la plus ancienne."""
    require_scope(principal, "read")
    try:
        rows, next_cursor = await pieces.piece_page(principal.structure_id, role=role, status=status, to_act=to_act,
                                                    market_id=market_id, cursor=cursor, limit=limit)
    except WorksError as exc:
        raise _problem(exc) from None
    return PiecePage(items=[PieceListItem(**_summary(r), total_excl_vat=f"{r['total_excl_vat']:.2f}", amount_due=f"{r['amount_due']:.2f}",
                                          supplier_name=r["supplier_name"], recipient_name=r["recipient_name"]) for r in rows],
                     next_cursor=next_cursor)


@get("/works/pieces/{piece_id:int}", summary="Une pièce de travaux", tags=PIECE_TAG)
async def get_piece(principal: NamedDependency[ApiPrincipal], piece_id: Annotated[int, ID]) -> PieceDetail:
    """Visible de tous les acteurs du marché ; 404 pour les autres."""
    require_scope(principal, "read")
    try:
        return await _piece_detail(piece_id, principal)
    except WorksError as exc:
        raise _problem(exc) from None


@post("/works/pieces/{piece_id:int}/actions", status_code=200, summary="Une étape du circuit d'une pièce de travaux", tags=PIECE_TAG)
async def act_on_piece(request: Request, principal: NamedDependency[ApiPrincipal], piece_id: Annotated[int, ID],
                       data: JSONBody[PieceAction]) -> Response[PieceDetail]:
    """Le maître d'œuvre accepte (en corrigeant des montants : acceptation partielle ; un refus entier
    pour une erreur de montant est interdit, R.2192-34 CCP, code `amount_refusal_forbidden`), demande
    un complément ou refuse pour un autre motif ; le titulaire complète, ou transmet au maître d'ouvrage
    après 7 jours sans réponse ; le maître d'ouvrage valide ou renvoie au maître d'œuvre. 409
    `stale_version` si la pièce a changé depuis `version`."""
    # The companies' steps (completing, transmitting, validating a subcontractor's statement) need `deposit`.
    require_scope(principal, "deposit" if data.action in COMPANY_ACTIONS else "process")
    correction = {k: v for k, v in msgspec.structs.asdict(data.correction).items() if v is not None} if data.correction else None

    async def work() -> Response:
        try:
            piece = await pieces.visible_piece(piece_id, principal.structure_id)
            actor = pieces.viewer_for(piece, principal.structure_id, api_key_id=principal.key_id)
            await pieces.act(piece_id, principal.structure_id, actor, data.action, version=data.version,
                             reason_code=data.reason_code, comment=data.comment, correction=correction or None)
            return _json(await _piece_detail(piece_id, principal))
        except WorksError as exc:
            raise _problem(exc) from None

    return await idempotent(request, principal, work)


# The companies' steps: the titulaire's (or a validator's), with the `deposit` scope.
COMPANY_ACTIONS = frozenset({"COMPLETEE_MOE", "TRANSMISE_MOA", "VALIDEE_1", "REFUSEE_1", "VALIDEE_2", "REFUSEE_2",
                             "SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22", "DGD_TACITE"})

HANDLERS = [create_market, list_markets, get_market, confirm_market, create_piece, list_pieces, get_piece, act_on_piece]

PIECE_EXAMPLE = {
    "market_id": 1, "number": "DM-2026-09", "period_start": "2026-09-01", "period_end": "2026-09-30",
    "amounts": {"works": "48000.00", "supplies": "2500.00", "bonuses": "0", "expenses": "120.00"}, "vat_rate": "0.20",
}
ACTION_EXAMPLE = {"action": "PRISE_EN_COMPTE_MOE", "version": 2, "comment": "Travaux constatés : 45 000 € au cumul.",
                  "correction": {"works": "45000.00"}}

REQUEST_EXAMPLE = {
    "number": "2026-TX-014", "title": "Réfection de la toiture de l'école Jules-Ferry",
    "moa_siret": "21690123100011", "moa_service": "TECH", "moe_siret": "21690123100011", "moe_service": "TECH",
    "payer_siret": "21690123100011", "payer_service": "FIN", "engagement": "EJ-2026-0042",
    "titulaire_siret": "12345678200010", "cotraitants": ["55210055400013"], "sous_traitants": ["44306184100047"],
    "start_date": "2026-03-02", "amount_excl_vat": "250000.00",
}
