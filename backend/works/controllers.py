"""Pages of the "Travaux" workspace, phone first.

    GET  /works                          Mes marchés (keyset pages: ?cursor=), the ones to confirm first
    GET  /works/markets/new              Déclarer un marché (form)
    POST /works/markets                  declare (MOA gestionnaire: active; titulaire: pending)
    GET  /works/markets/{id}             the market: actors, dossiers, confirmation for the MOA
    POST /works/markets/{id}/confirm     the MOA confirms a market declared by its titulaire
    GET  /works/dossiers/{id}            a dossier de facturation: its timeline of amounts
    GET  /works/markets/{id}/statements/new   the titulaire's projet de décompte mensuel (form)
    POST /works/markets/{id}/statements       file it: a dossier, the A4 for the MOE
    GET  /works/pieces/{id}              a works piece: amounts asked and accepted, état d'acompte, countdown, steps
    GET  /works/pieces/{id}/live         its live block (swapped on sse:invoice-<id>)
    POST /works/pieces/{id}/actions      a step of the circuit (MOE, MOA, titulaire), through the lifecycle
    GET  /works/pieces/{id}/attachments/{aid}  an attachment of the statement (every actor of the market)
    GET  /works/pieces/{id}/messages     the piece's message thread (backend/messages), between its filer and receiver
    POST /works/pieces/{id}/messages     write in it: where the titulaire contests a correction (30 days)

A structure that is not an actor of a market gets 404 on every route of that market. A
refused declaration shows each field's French error in place, with what was typed (422).
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.spaces import space
from backend.invoices import storage
from backend.lib.uploads import read_uploads
from backend.lib.web import CurrentUser, flash, form_data, page, require_user
from backend.messages import service as messages
from backend.messages.service import MessageError
from backend.processing.lifecycle import MOA_CLOCK, Actor, TransitionError
from backend.processing.reasons import reasons_for
from backend.works import circuit, dossiers, markets, pieces
from backend.works.acompte import STATEMENT_LABELS
from backend.works.markets import Declarer, MarketIn, WorksError
from backend.works.tables import ACTIVE, MOA, PENDING

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
    to_act = (await pieces.piece_page(current.structure_id, to_act=True, limit=50))[0] if not cursor else []
    recent = (await pieces.piece_page(current.structure_id, limit=10))[0] if not cursor else []
    return page(request, "works/workspace.html", markets=rows, next_cursor=next_cursor, to_confirm=to_confirm,
                to_act=to_act, recent=recent)


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
    can_file = market.status == ACTIVE and _may_deposit(current) and bool(
        {"titulaire", "cotraitant", "sous_traitant"} & set(detail["roles"]))
    # A subcontractor files no final statement (its titulaire's covers it); one per filer until refused.
    can_file_final = can_file and bool({"titulaire", "cotraitant"} & set(detail["roles"]))
    final_filed = await pieces.final_statement_of(market.id, current.structure_id) if can_file_final else None
    market_pieces = (await pieces.piece_page(current.structure_id, market_id=market.id, limit=50))[0]
    return page(request, "works/market.html", can_confirm=can_confirm, can_file=can_file, can_file_final=can_file_final,
                final_filed=final_filed, pieces=market_pieces, **detail)


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


def _may_deposit(current: CurrentUser) -> bool:
    active = current.active or {}
    return bool(active.get("can_deposit"))


STATEMENT_FIELDS = ("works", "supplies", "price_revision", "bonuses", "expenses", "penalties", "advance_repaid")
STATEMENT_HINTS = {"works": "Travaux et autres prestations, cumul depuis le début du marché", "supplies": "Approvisionnements",
                   "price_revision": "Effet de la révision ou de l'actualisation des prix (peut être négatif)",
                   "bonuses": "Primes", "expenses": "Débours avancés pour le maître d'ouvrage (hors TVA)",
                   "penalties": "Pénalités appliquées", "advance_repaid": "Remboursement de l'avance"}


def _statement_page(request: Request, market, form: dict, errors: dict, error: str = "", status: int = 200) -> Template:
    return page(request, "works/statement.html", status_code=status, market=market, form=form, errors=errors, error=error,
                fields=STATEMENT_FIELDS, labels=STATEMENT_LABELS, hints=STATEMENT_HINTS)


async def _filing_market(current: CurrentUser, market_id: int):
    try:
        market = await markets.visible_market(market_id, current.structure_id)
    except WorksError as exc:
        _raise(exc)
    roles = (await markets.market_detail(market, current.structure_id))["roles"]
    if not ({"titulaire", "cotraitant", "sous_traitant"} & set(roles)) or not _may_deposit(current):
        raise NotFoundException("Seules les entreprises du marché, avec le droit de dépôt, déposent un projet de décompte mensuel.")
    return market


@get("/works/markets/{market_id:int}/statements/new")
async def statement_form(request: Request, current: NamedDependency[CurrentUser], market_id: FromPath[int]) -> Template:
    market = await _filing_market(current, market_id)
    kind = "final" if request.query_params.get("kind") == "final" else "monthly"  # the projet de décompte final (A7, A14)
    return _statement_page(request, market, {"vat_rate": "0.20", "kind": kind}, {})


@post("/works/markets/{market_id:int}/statements")
async def statement_file(request: Request, current: NamedDependency[CurrentUser], market_id: FromPath[int]) -> Template | Redirect:
    market = await _filing_market(current, market_id)
    data = await form_data(request)
    form = {k: (v or "")[:MAX_FIELD] for k, v in data.items() if k not in ("_csrf_token", "attachment")}
    statement = pieces.StatementIn(number=form.get("number", ""), period_start=form.get("period_start", ""),
                                   period_end=form.get("period_end", ""), vat_rate=form.get("vat_rate", "0.20"),
                                   amounts={name: form.get(name, "") for name in STATEMENT_FIELDS},
                                   caution=bool(form.get("caution")), final=form.get("kind") == "final")
    try:
        uploads = await read_uploads(request, "attachment")
        piece = await pieces.file_statement(market.id, current.structure_id, Actor("supplier", current.id), statement, uploads)
    except WorksError as exc:
        return _statement_page(request, market, form, exc.errors, exc.message, exc.http_status)
    what = "Projet de décompte final" if statement.final else "Projet de décompte"
    if piece.status == "A_VALIDER_1":
        flash(request, f"{what} n° {piece.number} envoyé au mandataire, qui le valide avant le maître d'œuvre.", "success")
    else:
        flash(request, f"{what} n° {piece.number} envoyé au maître d'œuvre : il a {circuit.DAYS} jours pour l'accepter.", "success")
    return Redirect(f"/works/pieces/{piece.id}", status_code=303)


ACTION_TONES = {"REFUSEE_MOE": "btn-danger", "REFUSEE_MOA": "btn-danger", "REFUSEE_1": "btn-danger", "REFUSEE_2": "btn-danger",
                "RECLAMATION_TITULAIRE": "btn-danger"}
TONES = {"MISE_A_DISPOSITION_MOE": "warn", "COMPLETEE_MOE": "warn", "SUSPENDUE_MOE": "warn", "HORS_DELAI_MOE": "bad",
         "REFUSEE_MOE": "bad", "REFUSEE_MOA": "bad", "MISE_A_DISPOSITION_MOA": "warn", "PRISE_EN_COMPTE_MOE": "ok",
         "PRISE_EN_COMPTE_MOA": "ok", "TRANSMISE_MOA": "ok", "MISE_EN_PAIEMENT": "ok", "HORS_DELAI_MOA": "bad",
         "A_SIGNER_TITULAIRE": "warn", "SIGNEE_TITULAIRE": "ok", "RECLAMATION_TITULAIRE": "bad", "REMPLACEE_A22": "neutral",
         "DGD_TACITE": "ok"}


async def _piece_context(current: CurrentUser, piece_id: int) -> dict:
    try:
        piece = await pieces.visible_piece(piece_id, current.structure_id)
    except WorksError as exc:
        _raise(exc)
    viewer = pieces.viewer_for(piece, current.structure_id, user_id=current.id)
    detail = await pieces.detail(piece, viewer)
    final = piece.billing_framework in circuit.FINAL_PIECES
    return {"piece": detail, "action_labels": {**pieces.ACTION_LABELS, **(pieces.FINAL_ACTION_LABELS if final else {})},
            "action_tones": ACTION_TONES, "tones": TONES, "refusal_reasons": reasons_for("REFUSEE_MOE"), "moe_days": circuit.DAYS,
            "claim_reasons": circuit.CLAIM_REASONS, "moa_waits": piece.billing_framework in MOA_CLOCK,
            "is_payer_piece": piece.billing_framework in circuit.PAYER_PIECES and current.structure_id == piece.recipient}


THREAD = "messages/_thread.html"


async def _thread(piece_id: int, current: CurrentUser, **kwargs) -> dict:
    """The piece's thread (the messages of its invoice row), posted through the works routes: the MOE
    and the MOA read their pieces here, not in the invoice pages."""
    try:
        piece = await pieces.visible_piece(piece_id, current.structure_id)
    except WorksError as exc:
        _raise(exc)
    context = await messages.thread_context(piece, current, **kwargs)
    context["thread"]["url"] = f"/works/pieces/{piece.id}/messages"
    return context


@get("/works/pieces/{piece_id:int}")
async def piece_page(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int]) -> Template:
    return page(request, "works/piece.html", **await _piece_context(current, piece_id), **await _thread(piece_id, current))


@get("/works/pieces/{piece_id:int}/attachments/{attachment_id:int}")
async def piece_attachment(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int],
                           attachment_id: FromPath[int]) -> Response:
    """An attachment of the statement, for every actor of the market; a download, never rendered here."""
    try:
        piece = await pieces.visible_piece(piece_id, current.structure_id)
        row = await pieces.attachment_of(piece, attachment_id)
    except WorksError as exc:
        _raise(exc)
    data = await storage.read_blob(request.app.state.settings, row["file.sha256"])
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in row["filename"]) or "piece-jointe"
    return Response(data, media_type=row["media_type"], headers={
        "Content-Disposition": f'attachment; filename="{safe_name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"})


@get("/works/pieces/{piece_id:int}/messages")
async def piece_thread(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int]) -> Template:
    context = await _thread(piece_id, current)
    if not context["thread"]["visible"]:
        raise NotFoundException(context["thread"]["reason"])
    return page(request, THREAD, **context)


@post("/works/pieces/{piece_id:int}/messages")
async def piece_message(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int]) -> Template | Redirect:
    await _thread(piece_id, current, mark=False)  # 404 for a piece this structure may not see
    data = await form_data(request)
    try:
        closed = await pieces.contest_closed(piece_id, current.structure_id)
        if closed:
            raise MessageError(pieces.CONTEST_CLOSED, closed, 422)
        files = await read_uploads(request, "file")
        await messages.post_message(request.app.state.settings, piece_id, current.id, current.structure_id, data.get("body"), files)
    except MessageError as exc:
        if exc.http_status in (403, 404):
            raise NotFoundException(exc.message_fr) from None
        return page(request, THREAD, status_code=exc.http_status,
                    **await _thread(piece_id, current, error=exc.message_fr, draft=data.get("body") or "", error_code=exc.code))
    if request.headers.get("hx-request") == "true":
        return page(request, THREAD, status_code=201, **await _thread(piece_id, current))
    flash(request, "Message envoyé.", "success")
    return Redirect(f"/works/pieces/{piece_id}#messages", status_code=303)


@get("/works/pieces/{piece_id:int}/live")
async def piece_live(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int]) -> Template:
    return page(request, "works/_piece_live.html", **await _piece_context(current, piece_id))


@post("/works/pieces/{piece_id:int}/actions")
async def piece_act(request: Request, current: NamedDependency[CurrentUser], piece_id: FromPath[int]) -> Template | Redirect:
    data = await form_data(request)
    target = (data.get("action") or "")[:30]
    correction = None
    if target == "PRISE_EN_COMPTE_MOE":
        try:
            piece = await pieces.visible_piece(piece_id, current.structure_id)
        except WorksError as exc:
            _raise(exc)
        asked = circuit.works_data(piece).get("statement") or {}
        typed = {name: data[name] for name in STATEMENT_FIELDS if name in data}
        try:
            correction = {name: value for name, value in typed.items()
                          if circuit.parse_amount(value, name) != circuit.parse_amount(asked.get(name, "0"), name)} or None
        except circuit.StatementError as exc:
            return await _refused(request, current, piece_id, exc.message, 422)
    try:
        version = int(data.get("version") or 0) or None
    except ValueError:
        version = None
    try:
        piece = await pieces.visible_piece(piece_id, current.structure_id)
        actor = pieces.viewer_for(piece, current.structure_id, user_id=current.id)
        await pieces.act(piece_id, current.structure_id, actor, target, version=version, reason_code=data.get("reason_code") or None,
                         comment=(data.get("comment") or "")[:MAX_FIELD], correction=correction)
    except WorksError as exc:
        _raise(exc)
    except TransitionError as exc:
        if exc.http_status == 404:
            raise NotFoundException(exc.message_fr) from None
        return await _refused(request, current, piece_id, exc.message_fr, exc.http_status)
    flash(request, "C'est fait.", "success")
    return Redirect(f"/works/pieces/{piece_id}", status_code=303)


async def _refused(request: Request, current: CurrentUser, piece_id: int, message: str, status: int) -> Template:
    return page(request, "works/piece.html", status_code=status, action_error=message, **await _piece_context(current, piece_id),
                **await _thread(piece_id, current, mark=False))


router = Router(opt=space("travaux"), path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[workspace, declare_form, declare, market_page, confirm, dossier_page, statement_form, statement_file,
                                piece_page, piece_live, piece_act, piece_thread, piece_message, piece_attachment])
