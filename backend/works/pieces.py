"""Works pieces: the titulaire files a projet de décompte mensuel (A4); every actor of the market
lists and reads the pieces; the MOE, the MOA and the titulaire act on them through the lifecycle.

The circuit (who may take which step, deadlines, the pieces each step files) is the lifecycle's
(CIRCUITS[WORKS_MONTHLY]); this module checks the input, saves the A4 and its dossier, and
reads pieces for the pages and the API. A piece is visible to every actor of its market (the
dossier is one timeline for all of them); anyone else gets "not found".
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from backend.directory.tables import Service, Structure
from backend.invoices.statuses import CHORUS_NAMES, STATUSES, label
from backend.invoices import storage
from backend.invoices.deposit import attachment_type
from backend.invoices.tables import Attachment, Invoice, InvoiceHistory
from backend.lib.common import PARIS, paris_today, parse_id, utcnow
from backend.lib.formats import date_fr
from backend.lib.db import is_unique_violation, retrying, transaction
from backend.processing import deadlines, frameworks, lifecycle, validation
from backend.processing import worker as outbox_worker
from backend.notifications.service import WORKS_EVENT
from backend.processing.lifecycle import Actor, TransitionError
from backend.processing.tables import Outbox
from backend.settings import get_settings
from backend.tracking.events import publish
from backend.works import circuit
from backend.works.acompte import STATEMENT_LABELS, Terms
from backend.works.circuit import StatementError
from backend.works.markets import NOT_FOUND, WorksError, visible_market
from backend.works.tables import ACTIVE, MarketActor

WORKS_FRAMEWORKS = (*circuit.STATEMENTS, circuit.ETAT, circuit.VALIDATED, *circuit.FINAL_PIECES)
FILED_BY_COMPANY = (*circuit.STATEMENTS, *circuit.FINAL_STATEMENTS)  # the pieces a company files (its MOE's)
MOA_PIECES = (circuit.ETAT, circuit.GENERAL_PROJECT, circuit.TACIT_PROJECT)  # what waits for the MOA's validation
VAT_RATES = (Decimal("0.20"), Decimal("0.10"), Decimal("0.055"), Decimal("0"))
MAX_NUMBER = 50
MAX_ATTACHMENTS = 10
CONTEST_DELAY = timedelta(days=30)  # the titulaire may contest the MOE's correction, in the piece's messages
CONTEST_CLOSED = "works_contest_closed"  # the stable code of a message refused once those 30 days are over
PAGE_SIZE = 20
# role → (the framework of the pieces it receives; None: the pieces it files)
ROLE_PIECES = {"titulaire": None, "moe": FILED_BY_COMPANY, "moa": (*MOA_PIECES, circuit.GENERAL), "payer": circuit.PAYER_PIECES}
KIND_LABELS = {circuit.STATEMENT: "Projet de décompte mensuel", circuit.SUBCONTRACTOR_STATEMENT: "Décompte mensuel de sous-traitant",
               circuit.COCONTRACTOR_STATEMENT: "Décompte mensuel de cotraitant", circuit.ETAT: "État d'acompte",
               circuit.VALIDATED: "État d'acompte validé", circuit.FINAL_STATEMENT: "Projet de décompte final",
               circuit.COCONTRACTOR_FINAL: "Projet de décompte final de cotraitant", circuit.GENERAL_PROJECT: "Projet de décompte général",
               circuit.GENERAL: "Décompte général", circuit.DGD: "Décompte général et définitif",
               circuit.TACIT_PROJECT: "Projet de décompte général tacite", circuit.TACIT_DGD: "Décompte général et définitif tacite"}
ACTION_LABELS = {
    "PRISE_EN_COMPTE_MOE": "Accepter", "SUSPENDUE_MOE": "Demander un complément", "REFUSEE_MOE": "Refuser (autre motif qu'un montant)",
    "COMPLETEE_MOE": "Envoyer le complément", "TRANSMISE_MOA": "Transmettre au maître d'ouvrage",
    "PRISE_EN_COMPTE_MOA": "Valider l'état d'acompte", "REFUSEE_MOA": "Renvoyer au maître d'œuvre",
    "VALIDEE_1": "Valider pour le maître d'œuvre", "REFUSEE_1": "Refuser", "VALIDEE_2": "Valider pour le maître d'œuvre",
    "REFUSEE_2": "Refuser",
    "SIGNEE_TITULAIRE": "Signer le décompte général", "RECLAMATION_TITULAIRE": "Refuser de signer (réclamation)",
    "REMPLACEE_A22": "Déposer le projet de décompte général tacite", "DGD_TACITE": "Déposer le décompte général et définitif tacite",
}
# The same step, said of a piece of the final circuit.
FINAL_ACTION_LABELS = {"PRISE_EN_COMPTE_MOA": "Valider : notifier le décompte général", "REFUSEE_MOA": "Renvoyer au maître d'œuvre"}


@dataclass
class StatementIn:
    """A projet de décompte mensuel as typed or sent: cumuls since the start of the market, HT."""

    number: str = ""
    period_start: str = ""
    period_end: str = ""
    amounts: dict[str, Any] = field(default_factory=dict)  # works, supplies, price_revision, bonuses, expenses, penalties, advance_repaid
    vat_rate: str = "0.20"
    retenue_rate: str = "0.05"
    caution: bool = False
    final: bool = False  # a projet de décompte final (A7; a co-contractor's A14), not a monthly one


def _date(raw: str, name: str, what: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise WorksError("invalid", f"{what} : une date (aaaa-mm-jj).", errors={name: f"{what} : une date."}) from None


def _terms(data: StatementIn) -> Terms:
    try:
        vat, retenue = Decimal(str(data.vat_rate).replace(",", ".")), Decimal(str(data.retenue_rate).replace(",", "."))
    except Exception:
        raise WorksError("invalid", "Taux de TVA ou de retenue illisible.", errors={"vat_rate": "Taux illisible."}) from None
    if vat not in VAT_RATES:
        raise WorksError("invalid", "Le taux de TVA est 20 %, 10 %, 5,5 % ou 0 (autoliquidation).", errors={"vat_rate": "Taux de TVA invalide."})
    return Terms(vat_rate=vat, retenue_rate=Decimal(0) if data.caution else retenue, caution=bool(data.caution))


async def _filer(market, structure_id: int, final: bool = False) -> tuple[str, int | None]:
    """The framework of the statement this structure files in the market, and who validates it first:
    the titulaire files an A4 (straight to the MOE); a first-rank subcontractor an A10, validated by
    the titulaire; a co-contractor an A13, validated by the mandataire (when it is not the mandataire).
    A projet de décompte final: A7 for the titulaire, A14 for a co-contractor (validated the same way);
    a subcontractor's final account is its titulaire's (Chorus Pro has no subcontractor's final piece)."""
    if market.titulaire == structure_id:
        return (circuit.FINAL_STATEMENT if final else circuit.STATEMENT), None
    roles = {r["role"] for r in await MarketActor.select(MarketActor.role).where(
        (MarketActor.market == market.id) & (MarketActor.structure == structure_id))}
    if "sous_traitant" in roles and not final:
        return circuit.SUBCONTRACTOR_STATEMENT, market.titulaire
    if "cotraitant" in roles:
        validator = market.mandataire or market.titulaire
        return (circuit.COCONTRACTOR_FINAL if final else circuit.COCONTRACTOR_STATEMENT), (None if validator == structure_id else validator)
    if "sous_traitant" in roles:
        raise WorksError("final_not_subcontractor", "Le projet de décompte final se dépose par le titulaire ou un cotraitant : "
                         "vos travaux y figurent par le titulaire.", 403)
    raise WorksError("not_titulaire", "Seuls le titulaire, ses cotraitants et ses sous-traitants déposent un projet de décompte mensuel.", 403)


def check_attachments(uploads: list, max_size: int) -> None:
    """The statement's attachments (attachements, situations): PDF, JPEG or PNG, MAX_ATTACHMENTS at most."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise WorksError("attachments_invalid", f"Trop de pièces jointes : {MAX_ATTACHMENTS} au plus.", errors={"attachment": "Trop de fichiers."})
    for upload in uploads:
        if len(upload.data) > max_size:
            raise WorksError("attachments_invalid", f"La pièce jointe « {upload.filename[:80]} » dépasse {max_size // (1024 * 1024)} Mo.",
                             errors={"attachment": "Fichier trop lourd."})
        if attachment_type(upload.data) is None:
            raise WorksError("attachments_invalid", f"La pièce jointe « {upload.filename[:80]} » n'est ni un PDF, ni une image JPEG ou PNG.",
                             errors={"attachment": "PDF, JPEG ou PNG seulement."})


async def file_statement(market_id: int, structure_id: int, actor: Actor, data: StatementIn, attachments: list | None = None) -> Invoice:
    """The titulaire files a projet de décompte mensuel: a new dossier, the A4 for the MOE, its 7 days."""
    market = await visible_market(market_id, structure_id)
    framework, validator = await _filer(market, structure_id, data.final)
    if market.status != ACTIVE:
        raise WorksError("market_pending", "Ce marché attend la confirmation du maître d'ouvrage : déposez vos décomptes ensuite.", 409)
    number = (data.number or "").strip()
    if not number or len(number) > MAX_NUMBER or any(ord(c) < 32 for c in number):
        raise WorksError("invalid", f"Le numéro du décompte est obligatoire ({MAX_NUMBER} caractères au plus).",
                         errors={"number": "Numéro obligatoire."})
    start, end = _date(data.period_start, "period_start", "Début de la période"), _date(data.period_end, "period_end", "Fin de la période")
    if end < start:
        raise WorksError("invalid", "La fin de la période précède son début.", errors={"period_end": "La fin précède le début."})
    terms = _terms(data)
    unknown = set(data.amounts) - set(circuit.FIELDS)
    if unknown:
        raise WorksError("invalid", f"Montant inconnu : {', '.join(sorted(unknown))[:100]}.", errors={"amounts": "Montant inconnu."})
    try:
        statement = circuit.statement_of(data.amounts)
        previous = await circuit.previous_statement(market.id, structure_id)
        etat = circuit.compute(statement, previous, terms)
    except StatementError as exc:
        raise WorksError(exc.code, exc.message, errors={exc.field or "amounts": exc.message}) from None
    supplier = await Structure.objects().get(Structure.id == structure_id)
    moe = await Structure.objects().get(Structure.id == market.moe)
    service = await Service.select(Service.code).where(Service.id == market.moe_service).first() if market.moe_service else None
    settings = get_settings()
    attachments = attachments or []
    check_attachments(attachments, settings.max_file_size)
    stored = [(upload, await storage.write_blob(settings, upload.data)) for upload in attachments]  # before the commit
    works = {"kind": "projet_decompte_final" if data.final else "projet_decompte_mensuel", "statement_number": number, "period_start": start.isoformat(),
             "period_end": end.isoformat(), "statement": circuit.as_json(statement),
             "previous": circuit.as_json(previous) if previous else None}

    async def write() -> tuple[Invoice, list[int]]:
        async with transaction():
            if data.final:
                await _no_final_statement_yet(market.id, structure_id)
            dossier_id = await circuit.dossier_for(market.id, number, start, end, actor.user_id)
            piece = await circuit.build_piece(settings, framework=framework, market=market, dossier_id=dossier_id,
                                              supplier=supplier, recipient=moe, number=number,
                                              status="A_VALIDER_1" if validator else "MISE_A_DISPOSITION_MOE",
                                              works=works, etat=etat, terms=terms, service_code=service["code"] if service else "",
                                              validator=validator)
            for upload, digest in stored:
                media_type = attachment_type(upload.data)
                file_id = await storage.file_row(digest, len(upload.data), media_type)
                await Attachment.insert(Attachment(invoice=piece.id, file=file_id, filename=upload.filename[:255],
                                                   media_type=media_type, role="supporting"))
            return piece, await lifecycle.file_works_statement(piece.id, actor)

    try:
        piece, event_ids = await retrying(write)
    except Exception as exc:
        if is_unique_violation(exc):
            raise WorksError("duplicate", f"Le numéro {number} est déjà pris (un décompte ou une facture de votre structure, "
                             "ou un dossier de ce marché) : choisissez-en un autre.", 409, errors={"number": "Numéro déjà pris."}) from None
        raise
    outbox_worker.wake()
    await publish(event_ids)
    return await Invoice.objects().get(Invoice.id == piece.id)


async def final_statement_of(market_id: int, structure_id: int) -> dict | None:
    """The filer's projet de décompte final on this market that stands (not refused): id and number, or None.
    There is one per market and filer (CCAG Travaux art. 12.3); another only once it was refused."""
    return await Invoice.select(Invoice.id, Invoice.number).where(
        (Invoice.market == market_id) & (Invoice.supplier == structure_id)
        & Invoice.billing_framework.is_in(list(circuit.FINAL_STATEMENTS))
        & Invoice.status.not_in(list(circuit.FINAL_REFUSED))).first()


async def _no_final_statement_yet(market_id: int, structure_id: int) -> None:
    """Checked in the filing's transaction: the page's hint may be seconds old."""
    previous = await final_statement_of(market_id, structure_id)
    if previous is not None:
        raise WorksError("final_exists", f"Un projet de décompte final ({previous['number']}) est déjà déposé pour ce marché : "
                         "vous ne pouvez en déposer un autre que s'il est refusé.", 409)


# --- reading ------------------------------------------------------------------------------------

async def visible_piece(piece_id: int, structure_id: int | None) -> Invoice:
    piece = await Invoice.objects().get(Invoice.id == piece_id)
    if piece is None or piece.market is None or piece.billing_framework not in WORKS_FRAMEWORKS or structure_id is None:
        raise WorksError("not_found", "Cette pièce n'existe pas ou vous n'y avez pas accès.", 404)
    if not await MarketActor.exists().where((MarketActor.market == piece.market) & (MarketActor.structure == structure_id)):
        raise WorksError("not_found", "Cette pièce n'existe pas ou vous n'y avez pas accès.", 404)
    return piece


def encode_cursor(piece_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{piece_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    piece_id = parse_id(raw[1:]) if raw.startswith("p") else None
    if piece_id is None:
        raise WorksError("cursor_invalid", "Le curseur de pagination n'est pas valide : reprenez celui de la page précédente.")
    return piece_id


LIST_COLUMNS = (Invoice.id, Invoice.number, Invoice.billing_framework, Invoice.status, Invoice.version, Invoice.market,
                Invoice.dossier, Invoice.total_excl_vat, Invoice.total_incl_vat, Invoice.amount_due, Invoice.validation_due_at,
                Invoice.deposited_at, Invoice.updated_at, Invoice.supplier, Invoice.recipient,
                Invoice.supplier.name.as_alias("supplier_name"), Invoice.recipient.name.as_alias("recipient_name"))


def _waiting_for(structure_id: int):
    """The pieces whose next step is this structure's."""
    moe = list(lifecycle.MOE_WAITING | {"HORS_DELAI_MOE"})
    statements = list(FILED_BY_COMPANY)
    moa_clock = list(lifecycle.MOA_CLOCK)
    return ((Invoice.billing_framework.is_in(statements) & (Invoice.recipient == structure_id) & Invoice.status.is_in(moe))
            | (Invoice.billing_framework.is_in(list(MOA_PIECES)) & (Invoice.recipient == structure_id) & (Invoice.status == "MISE_A_DISPOSITION_MOA"))
            | ((Invoice.billing_framework == circuit.GENERAL_PROJECT) & (Invoice.recipient == structure_id) & (Invoice.status == "HORS_DELAI_MOA"))
            | (Invoice.billing_framework.is_in(statements) & (Invoice.supplier == structure_id)
               & Invoice.status.is_in(["SUSPENDUE_MOE", "HORS_DELAI_MOE"]))
            | (Invoice.billing_framework.is_in(moa_clock) & (Invoice.supplier == structure_id) & (Invoice.status == "HORS_DELAI_MOA"))
            | ((Invoice.billing_framework == circuit.GENERAL) & (Invoice.supplier == structure_id) & (Invoice.status == "A_SIGNER_TITULAIRE"))
            | (Invoice.billing_framework.is_in(statements) & (((Invoice.status == "A_VALIDER_1") & (Invoice.validator_1 == structure_id))
                                                               | ((Invoice.status == "A_VALIDER_2") & (Invoice.validator_2 == structure_id)))))


async def piece_page(structure_id: int, *, role: str | None = None, status: str | None = None, to_act: bool = False,
                     market_id: int | None = None, cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[list[dict], str | None]:
    """The works pieces this structure files or receives, newest first (keyset on id)."""
    if role is not None and role not in ROLE_PIECES:
        raise WorksError("role_invalid", "Rôle inconnu : titulaire, moe, moa ou payer.")
    if status and status not in STATUSES:
        raise WorksError("status_invalid", "Statut inconnu : voyez la liste des statuts des pièces de travaux dans la documentation.")
    query = Invoice.select(*LIST_COLUMNS).where(Invoice.billing_framework.is_in(list(WORKS_FRAMEWORKS)) & Invoice.market.is_not_null())
    if role is None:
        query = query.where((Invoice.supplier == structure_id) | (Invoice.recipient == structure_id) | (Invoice.validator_1 == structure_id)
                            | (Invoice.validator_2 == structure_id))
    elif ROLE_PIECES[role] is None:
        query = query.where(Invoice.supplier == structure_id)
    else:
        query = query.where((Invoice.recipient == structure_id) & Invoice.billing_framework.is_in(list(ROLE_PIECES[role])))
    if status:
        query = query.where(Invoice.status == status)
    if to_act:
        query = query.where(_waiting_for(structure_id))
    if market_id is not None:
        query = query.where(Invoice.market == market_id)
    if cursor:
        query = query.where(Invoice.id < decode_cursor(cursor))
    rows = await query.order_by(Invoice.id, ascending=False).limit(limit + 1)
    now = utcnow()
    for row in rows[:limit]:
        _decorate(row, now)
    return rows[:limit], (encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None)


def _decorate(row: dict, now) -> None:
    row["kind_label"] = KIND_LABELS[row["billing_framework"]]
    row["status_label"] = label(row["status"])
    row["chorus_status"] = CHORUS_NAMES.get(row["status"], row["status"])
    moa_waits = row["status"] == "MISE_A_DISPOSITION_MOA" and row["billing_framework"] in lifecycle.MOA_CLOCK
    due = row["validation_due_at"] if row["status"] in lifecycle.MOE_WAITING or moa_waits else None
    row["days_left"] = circuit.days_left(due, now)


async def count_to_act(structure_id: int | None) -> int:
    return await Invoice.count().where(_waiting_for(structure_id)) if structure_id else 0


def _money(value) -> str:
    return f"{Decimal(str(value or 0)):.2f}"


async def detail(piece: Invoice, viewer: Actor | None) -> dict[str, Any]:
    """What the piece page and the API show: amounts asked and accepted, the état d'acompte's lines,
    the countdown, the history, and the viewer's possible steps."""
    works = circuit.works_data(piece)
    history = await InvoiceHistory.select(InvoiceHistory.status, InvoiceHistory.actor_kind, InvoiceHistory.reason_code,
                                          InvoiceHistory.comment, InvoiceHistory.details, InvoiceHistory.created_at).where(
        InvoiceHistory.invoice == piece.id).order_by(InvoiceHistory.id)
    for row in history:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"] or "{}")
        row["label"] = label(row["status"])
    now = utcnow()
    row = {name: getattr(piece, name) for name in ("id", "number", "billing_framework", "status", "version", "market", "dossier",
                                                    "validation_due_at", "deposited_at", "updated_at", "supplier", "recipient")}
    _decorate(row, now)
    actions = await lifecycle.allowed_actions(piece, viewer) if viewer is not None else []
    statement = works.get("statement") or {}
    asked = works.get("asked") or statement
    corrected = works.get("corrected") or {}
    if piece.billing_framework in FILED_BY_COMPANY and piece.status == "PRISE_EN_COMPTE_MOE":
        # The statement as its MOE accepted it: the titulaire reads each correction on its own piece.
        accepted = next(h["details"] for h in reversed(history) if h["status"] == "PRISE_EN_COMPTE_MOE")
        statement, corrected = accepted.get("statement") or statement, accepted.get("corrected") or {}
    contest_until = contest_until_of(piece, history)
    amounts = [{"code": name, "label": STATEMENT_LABELS[name], "asked": asked.get(name, "0.00"), "accepted": statement.get(name, "0.00"),
                "previous": (works.get("previous") or {}).get(name, "0.00"), "corrected": name in corrected} for name in circuit.FIELDS]
    market = await visible_market(piece.market, piece.supplier)
    chain = [piece.id]
    source = works.get("source")
    while source and len(chain) < 5:  # A19 ← A15 ← A4, A8 ← A20 ← A17 ← A7: the statement's attachments follow it
        chain.append(source)
        earlier = await Invoice.select(Invoice.data).where(Invoice.id == source).first()
        source = circuit.works_data(earlier).get("source") if earlier else None
    files = await Attachment.select(Attachment.id, Attachment.invoice, Attachment.filename, Attachment.media_type).where(
        Attachment.invoice.is_in(chain) & (Attachment.role == "supporting")).order_by(Attachment.id)
    period = [date.fromisoformat(works[k]) if works.get(k) else None for k in ("period_start", "period_end")]
    return {**row, "framework_label": frameworks.label(piece.billing_framework), "period_start": period[0], "period_end": period[1], "amounts": amounts, "lines": works.get("lines") or [],
            "warnings": works.get("warnings") or [], "total_excl_vat": _money(piece.total_excl_vat),
            "total_incl_vat": _money(piece.total_incl_vat), "amount_due": _money(piece.amount_due),
            "source": works.get("source"), "corrected": corrected, "contest_until": contest_until,
            "contest_open": contest_until is not None and paris_today() <= contest_until,
            "transmitted_by_titulaire": bool(works.get("transmitted_by_titulaire")), "history": history,
            "actions": [a for a in actions if a in ACTION_LABELS or piece.billing_framework in circuit.PAYER_PIECES],
            "claim": _claim(history), "replaced_by": await _replaced_by(piece),
            "attachments": files, "market_number": market.number, "market_title": market.title, "viewer_role": viewer.role if viewer else None}


def contest_until_of(piece: Invoice, history: list[dict]) -> date | None:
    """The last day (Paris) the titulaire may contest the MOE's correction of its statement, in the
    piece's messages: 30 days from the correction; None when the MOE corrected nothing."""
    if piece.billing_framework not in FILED_BY_COMPANY or piece.status != "PRISE_EN_COMPTE_MOE":
        return None
    decided = next((h for h in reversed(history) if h["status"] == "PRISE_EN_COMPTE_MOE"), None)
    details = (decided or {}).get("details") or {}
    if isinstance(details, str):
        details = json.loads(details or "{}")
    if not details.get("corrected"):
        return None
    return (decided["created_at"] + CONTEST_DELAY).astimezone(PARIS).date()


async def contest_closed(piece_id: int, structure_id: int | None) -> str | None:
    """Why the titulaire may no longer write in a corrected statement's messages (its 30 days to
    contest the correction are over; the thread stays readable), or None when it may."""
    piece = await Invoice.objects().get(Invoice.id == piece_id)
    if piece is None or structure_id is None or structure_id != piece.supplier or piece.status != "PRISE_EN_COMPTE_MOE":
        return None  # not a statement the MOE has answered: nothing to contest (most invoices stop here)
    history = await InvoiceHistory.select(InvoiceHistory.status, InvoiceHistory.details, InvoiceHistory.created_at).where(
        InvoiceHistory.invoice == piece.id).order_by(InvoiceHistory.id)
    until = contest_until_of(piece, history)
    if until is None or paris_today() <= until:
        return None
    return (f"Le délai pour contester la correction du maître d'œuvre a pris fin le {date_fr(until)} "
            f"({CONTEST_DELAY.days} jours) : vous ne pouvez plus écrire dans les messages de cette pièce.")


def _claim(history: list[dict]) -> dict | None:
    """The titulaire's refusal to sign the décompte général: its reason and its réclamation."""
    row = next((h for h in reversed(history) if h["status"] == "RECLAMATION_TITULAIRE"), None)
    if row is None:
        return None
    return {"reason": row["reason_code"], "label": circuit.CLAIM_REASONS.get(row["reason_code"], row["reason_code"]),
            "comment": row["comment"], "at": row["created_at"]}


REPLACED = {"REMPLACEE_A22": circuit.TACIT_PROJECT, "DGD_TACITE": circuit.TACIT_DGD}


async def _replaced_by(piece: Invoice) -> dict | None:
    """The piece of the tacit procedure that replaced this one (A17 → A22, A22 → A23)."""
    framework = REPLACED.get(piece.status)
    if framework is None:
        return None
    rows = await Invoice.select(Invoice.id, Invoice.number, Invoice.billing_framework, Invoice.data).where(
        (Invoice.dossier == piece.dossier) & (Invoice.billing_framework == framework)).order_by(Invoice.id, ascending=False)
    row = next((r for r in rows if circuit.works_data(r).get("source") == piece.id), None)
    return None if row is None else {"id": row["id"], "number": row["number"], "billing_framework": framework,
                                     "kind_label": KIND_LABELS[framework]}


def viewer_for(piece: Invoice, structure_id: int | None, *, user_id: int | None = None, api_key_id: int | None = None) -> Actor | None:
    """The role of a person (or an API key's structure) on this piece: titulaire, MOE, MOA, payer."""
    if structure_id is None:
        return None
    if user_id is not None:
        return lifecycle.actor_for(user_id, structure_id, piece)
    if structure_id == piece.recipient:
        return Actor(lifecycle.RECIPIENT_ROLE.get(piece.billing_framework, lifecycle.RECIPIENT), api_structure_id=structure_id, api_key_id=api_key_id)
    if structure_id == piece.supplier:
        return Actor(lifecycle.SUPPLIER, api_structure_id=structure_id, api_key_id=api_key_id)
    if structure_id in (piece.validator_1, piece.validator_2):
        return Actor(lifecycle.VALIDATOR, api_structure_id=structure_id, api_key_id=api_key_id)
    return None


async def act(piece_id: int, structure_id: int | None, actor: Actor | None, target: str, *, version: int | None,
              reason_code: str | None = None, comment: str = "", correction: dict[str, Any] | None = None) -> Invoice:
    """One step on a works piece, through the lifecycle (404 for a piece not visible)."""
    piece = await visible_piece(piece_id, structure_id)
    if actor is None:
        raise TransitionError("forbidden", "Vous n'avez pas d'action possible sur cette pièce.", 403)
    return await lifecycle.change_status(piece.id, actor, target, expected_version=version, reason_code=reason_code,
                                         comment=comment, correction=correction)


async def on_overdue(row: dict[str, Any]) -> None:
    """7 days without the MOE's answer: the step HORS_DELAI_MOE (its push goes to the titulaire), and
    an e-mail, as the validation circuit's deadlines send, to the titulaire's people (they may now
    transmit it to the MOA) and the MOE's (they may still answer). In the deadline row's transaction."""
    before = await Invoice.select(Invoice.status).where(Invoice.id == row["invoice"]).first()
    await lifecycle.works_overdue(row["invoice"])
    piece = await Invoice.objects().get(Invoice.id == row["invoice"])
    if before is None or before["status"] not in lifecycle.MOE_WAITING or piece is None or piece.status != "HORS_DELAI_MOE":
        return
    subject = f"{_statement_word(piece)} n°\u00a0{piece.number} : délai de {circuit.DAYS} jours du maître d'œuvre dépassé"
    link = f"\n\nLa pièce : /works/pieces/{piece.id}\n"
    now = utcnow()
    rows = validation.email_rows(WORKS_EVENT, piece.id, await validation.people_emails(piece.supplier, lifecycle.RIGHTS[lifecycle.SUPPLIER]), subject,
                                 "Le maître d'œuvre n'a pas répondu à temps : vous pouvez transmettre le décompte au maître "
                                 "d'ouvrage, qui paie les sommes qu'il admet." + link, now)
    rows += validation.email_rows(WORKS_EVENT, piece.id, await validation.people_emails(piece.recipient, lifecycle.RIGHTS[lifecycle.MOE]), subject,
                                  "Vous pouvez encore l'accepter ou corriger ses montants ; l'entreprise peut désormais le "
                                  "transmettre au maître d'ouvrage." + link, now)
    if rows:
        await Outbox.insert(*rows)


def _statement_word(piece: Invoice) -> str:
    return "Décompte final" if piece.billing_framework in circuit.FINAL_STATEMENTS else "Décompte mensuel"


async def on_reminder(row: dict[str, Any]) -> None:
    """Two days before the MOE's deadline, still unanswered: its people get a push and an e-mail."""
    piece = await Invoice.objects().get(Invoice.id == row["invoice"])
    if piece is None or piece.status not in lifecycle.MOE_WAITING:
        return
    await _remind(piece, lifecycle.MOE, circuit.REMIND_BEFORE.days, "Acceptez-le ou corrigez ses montants.",
                  "Sans réponse, l'entreprise pourra le transmettre au maître d'ouvrage.")


# What happens when the MOA stays silent on each projet de décompte général (CCAG Travaux 2021).
MOA_SILENCE = {
    circuit.GENERAL_PROJECT: "Sans réponse dans le délai, l'entreprise pourra notifier son propre projet de décompte "
                             "général (art. 12.4.2), qui deviendra le décompte général et définitif si vous ne répondez "
                             "pas dans les 10 jours suivants.",
    circuit.TACIT_PROJECT: "Sans réponse dans le délai, ce projet devient le décompte général et définitif (art. 12.4.4), "
                           "transmis au payeur.",
}


async def on_moa_reminder(row: dict[str, Any]) -> None:
    """Before the MOA's 30 days (A17) or 10 days (A22) run out, still unanswered: its people get a push and an e-mail."""
    piece = await Invoice.objects().get(Invoice.id == row["invoice"])
    if piece is None or piece.status != "MISE_A_DISPOSITION_MOA" or piece.billing_framework not in MOA_SILENCE:
        return
    await _remind(piece, lifecycle.MOA, circuit.MOA_REMIND_BEFORE[piece.billing_framework].days,
                  "Validez-le ou renvoyez-le au maître d'œuvre.", MOA_SILENCE[piece.billing_framework])


async def _remind(piece: Invoice, role: str, days: int, action: str, consequence: str) -> None:
    """A push to the structure that must answer, and an e-mail to its people who may."""
    now = utcnow()
    title = f"{_piece_word(piece)} n°\u00a0{piece.number} : plus que {days} jours pour répondre"
    push = {"event": WORKS_EVENT, "invoice_id": piece.id, "number": piece.number, "supplier_id": piece.supplier,
            "recipient_id": piece.recipient, "status": piece.status, "audience": {"structure_id": piece.recipient},
            "title": title, "comment": consequence, "url": f"/works/pieces/{piece.id}",
            "tag": f"works-{piece.id}", "occurred_at": now.isoformat(), "reminder": True}
    rows = [Outbox(event_type=WORKS_EVENT, channel="push", invoice=piece.id,
                   payload=json.dumps(push, ensure_ascii=False), created_at=now, next_attempt_at=now)]
    rows += validation.email_rows(WORKS_EVENT, piece.id, await validation.people_emails(piece.recipient, lifecycle.RIGHTS[role]), title,
                                  f"{action} {consequence}\n\nLa pièce : /works/pieces/{piece.id}\n", now)
    await Outbox.insert(*rows)


def _piece_word(piece: Invoice) -> str:
    if piece.billing_framework in MOA_SILENCE:
        return "Projet de décompte général"
    return _statement_word(piece)


deadlines.register_kind(circuit.OVERDUE_KIND, on_overdue)
deadlines.register_kind(circuit.REMINDER_KIND, on_reminder)


async def on_moa_overdue(row: dict[str, Any]) -> None:
    await lifecycle.works_moa_overdue(row["invoice"])


deadlines.register_kind(circuit.MOA_OVERDUE_KIND, on_moa_overdue)
deadlines.register_kind(circuit.MOA_REMINDER_KIND, on_moa_reminder)


async def attachment_of(piece: Invoice, attachment_id: int) -> dict:
    """One attachment of the piece or of the pieces it was filed from (404 otherwise), with its digest."""
    chain, source = [piece.id], circuit.works_data(piece).get("source")
    while source and len(chain) < 5:
        chain.append(source)
        row = await Invoice.select(Invoice.data).where(Invoice.id == source).first()
        source = circuit.works_data(row).get("source") if row else None
    row = await Attachment.select(Attachment.filename, Attachment.media_type, Attachment.file.sha256).where(
        (Attachment.id == attachment_id) & Attachment.invoice.is_in(chain)).first()
    if row is None:
        raise WorksError("not_found", "Cette pièce jointe n'existe pas ou vous n'y avez pas accès.", 404)
    return row
