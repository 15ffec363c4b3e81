"""Works markets: declare, confirm, find the ones a structure may see, read one.

A market is declared by its MOA (active at once) or by its titulaire (pending until the MOA
confirms it). Every structure named in it is an actor (table market_actor) and sees it; any
other gets "not found", never "forbidden", so a market's existence does not leak.

Validation gathers every refused field before answering (a form shows each error under its
field; the API returns them all as findings); nothing is written unless everything passes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from backend.directory.identifiers import clean_siret, siret_error
from backend.directory.tables import Service, Structure
from backend.lib.common import parse_id, utcnow
from backend.lib.db import is_unique_violation, transaction
from backend.processing import worker as outbox_worker
from backend.processing.tables import Outbox
from backend.works.tables import (
    ACTIVE, COTRAITANT, MOA, MOE, PAYER, PENDING, SOUS_TRAITANT, TITULAIRE, BillingFile, Market, MarketActor,
)

MAX_NUMBER = 50
MAX_TITLE = 255
MAX_ENGAGEMENT = 50
MAX_PARTNERS = 20  # co-contractors, and subcontractors: a list a person can read on a phone
MAX_AMOUNT = Decimal("9999999999999999.99")
PAGE_SIZE = 20
MAX_PAGE = 100

ROLE_LABELS = {
    MOA: "Maître d'ouvrage (MOA)",
    MOE: "Maître d'œuvre (MOE)",
    PAYER: "Payeur",
    TITULAIRE: "Titulaire",
    COTRAITANT: "Cotraitant",
    SOUS_TRAITANT: "Sous-traitant (paiement direct)",
}
# Short: the market page shows it in a one-line pill, on a phone.
STATUS_LABELS = {ACTIVE: "Actif", PENDING: "À confirmer par le maître d'ouvrage"}


class WorksError(Exception):
    """A refused request: a stable code, a French message, an HTTP status, and for a
    refused declaration the error of each field (`errors`: field name → French message)."""

    def __init__(self, code: str, message: str, http_status: int = 422, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status, self.errors = code, message, http_status, errors or {}


NOT_FOUND = WorksError("not_found", "Ce marché n'existe pas ou vous n'y avez pas accès.", 404)


@dataclass
class MarketIn:
    """A declaration as typed (form) or sent (API): text everywhere, checked by `declare`."""

    number: str = ""
    title: str = ""
    moa_siret: str = ""
    moa_service: str = ""
    moe_siret: str = ""
    moe_service: str = ""
    payer_siret: str = ""
    payer_service: str = ""
    engagement: str = ""
    titulaire_siret: str = ""
    cotraitants: list[str] = field(default_factory=list)
    mandataire_siret: str = ""
    sous_traitants: list[str] = field(default_factory=list)
    start_date: str = ""  # AAAA-MM-JJ, optional
    amount_excl_vat: str = ""  # optional


@dataclass(frozen=True)
class Declarer:
    """Who declares: the structure acted for, the person (None through an API key), and whether
    they may speak for it as MOA (a gestionnaire, or a key with the "process" scope) or as
    titulaire (a member who may deposit, or a key with the "deposit" scope)."""

    structure_id: int
    user_id: int | None
    may_act_as_moa: bool
    may_act_as_titulaire: bool


# --- validation ---------------------------------------------------------------------------------

@dataclass
class _Checked:
    """The declaration once every field passed: rows found in the directory, typed values."""

    moa: Structure | None = None
    moa_service: int | None = None
    moe: Structure | None = None
    moe_service: int | None = None
    payer: Structure | None = None
    payer_service: int | None = None
    titulaire: Structure | None = None
    cotraitants: list[Structure] = field(default_factory=list)
    mandataire: Structure | None = None
    sous_traitants: list[Structure] = field(default_factory=list)
    start_date: date | None = None
    amount: Decimal | None = None


async def _structure(raw: str, name: str, errors: dict[str, str], *, public: bool, who: str) -> Structure | None:
    if (problem := siret_error(raw)) is not None:
        errors[name] = f"{who} : {problem[0].lower()}{problem[1:]}"
        return None
    found = await Structure.objects().get((Structure.siret == clean_siret(raw)) & (Structure.active == True))  # noqa: E712
    if found is None:
        errors[name] = f"{who} : aucune structure active n'a le SIRET {clean_siret(raw)} dans l'annuaire."
    elif public and not found.is_public:
        errors[name] = f"{who} : {found.name} n'est pas une structure publique de l'annuaire."
        return None
    return found


async def _service(structure: Structure | None, raw: str, name: str, errors: dict[str, str], who: str) -> int | None:
    """The service's id; required when the structure's directory entry says so."""
    code = (raw or "").strip()
    if structure is None:
        return None
    if not code:
        if structure.requires_service:
            errors[name] = f"{who} : {structure.name} exige un code service."
        return None
    row = await Service.select(Service.id).where(
        (Service.structure == structure.id) & (Service.code == code) & (Service.active == True)  # noqa: E712
    ).first()
    if row is None:
        errors[name] = f"{who} : {structure.name} n'a pas de service actif « {code[:100]} »."
        return None
    return row["id"]


async def _partners(raws: list[str], name: str, errors: dict[str, str], who: str) -> list[Structure]:
    sirets = [r for r in (raw.strip() for raw in raws) if r]
    if len(sirets) > MAX_PARTNERS:
        errors[name] = f"{MAX_PARTNERS} {who.lower()}s au plus."
        return []
    found = []
    for raw in sirets:
        problems: dict[str, str] = {}
        structure = await _structure(raw, name, problems, public=False, who=f"{who} {raw[:20]}")
        if problems:
            errors.setdefault(name, problems[name])
        elif structure is not None:
            found.append(structure)
    if len({s.id for s in found}) != len(found):
        errors.setdefault(name, f"Un même {who.lower()} est nommé deux fois.")
    return found


def _start_date(raw: str, errors: dict[str, str]) -> date | None:
    if not (raw or "").strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors["start_date"] = "La date de début doit être une date (jj/mm/aaaa)."
        return None


def _amount(raw: str, errors: dict[str, str]) -> Decimal | None:
    text = (raw or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors["amount_excl_vat"] = "Le montant HT doit être un nombre, par exemple 125000,00."
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        errors["amount_excl_vat"] = "Le montant HT doit être positif, avec deux décimales au plus."
        return None
    return value


def _text(data: MarketIn, errors: dict[str, str]) -> None:
    for name, limit, label in (("number", MAX_NUMBER, "Le numéro du marché"), ("title", MAX_TITLE, "L'objet du marché")):
        value = getattr(data, name).strip()
        if not value:
            errors[name] = f"{label} est obligatoire."
        elif len(value) > limit:
            errors[name] = f"{label} fait {limit} caractères au plus."
    if len(data.engagement.strip()) > MAX_ENGAGEMENT:
        errors["engagement"] = f"Le numéro d'engagement fait {MAX_ENGAGEMENT} caractères au plus."


def _payer_rules(data: MarketIn, checked: _Checked, errors: dict[str, str]) -> None:
    """The pieces reach the payer's "Factures reçues": its routing rules hold for the market."""
    payer, engagement = checked.payer, data.engagement.strip()
    if payer is None or "payer_service" in errors or engagement:
        return
    if payer.requires_engagement:
        errors["engagement"] = f"{payer.name} exige un numéro d'engagement sur ses factures."
    elif payer.requires_service_or_engagement and checked.payer_service is None:
        errors["engagement"] = f"{payer.name} exige un code service ou un numéro d'engagement."


def _mandataire(data: MarketIn, checked: _Checked, errors: dict[str, str]) -> None:
    """With co-contractors, the mandataire is the titulaire (by default) or one of them."""
    raw = clean_siret(data.mandataire_siret)
    if not checked.cotraitants:
        if raw and (checked.titulaire is None or raw != checked.titulaire.siret):
            errors["mandataire_siret"] = "Un mandataire se désigne parmi le titulaire et ses cotraitants : nommez d'abord les cotraitants."
        return
    candidates = [s for s in (checked.titulaire, *checked.cotraitants) if s is not None]
    if not raw:
        checked.mandataire = checked.titulaire
        return
    checked.mandataire = next((s for s in candidates if s.siret == raw), None)
    if checked.mandataire is None:
        errors["mandataire_siret"] = "Le mandataire doit être le titulaire ou l'un des cotraitants."


def _distinct_companies(checked: _Checked, errors: dict[str, str]) -> None:
    titulaire = checked.titulaire
    if titulaire is None:
        return
    if any(s.id == titulaire.id for s in checked.cotraitants):
        errors.setdefault("cotraitants", "Le titulaire ne peut pas être aussi son propre cotraitant.")
    if any(s.id == titulaire.id for s in checked.sous_traitants):
        errors.setdefault("sous_traitants", "Le titulaire ne peut pas être aussi son propre sous-traitant.")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_characters(data: MarketIn, errors: dict[str, str]) -> None:
    """Tabs, line breaks or NUL in a one-line field: refused (PostgreSQL refuses NUL in text)."""
    for name, value in vars(data).items():
        values = value if isinstance(value, list) else [value]
        if any(_CONTROL.search(v or "") for v in values):
            errors[name] = "Ce champ contient un caractère de contrôle (tabulation, saut de ligne…) : retapez-le."


async def check_declaration(data: MarketIn) -> _Checked:
    """Every field checked against the directory; WorksError("invalid") with each field's error."""
    errors: dict[str, str] = {}
    _control_characters(data, errors)
    if errors:  # nothing goes to the database with such a value
        raise WorksError("invalid", "Le marché ne peut pas être déclaré : " + next(iter(errors.values())).lower(), errors=errors)
    checked = _Checked()
    _text(data, errors)
    for role, label in ((MOA, "Maître d'ouvrage"), (MOE, "Maître d'œuvre"), (PAYER, "Payeur")):
        structure = await _structure(getattr(data, f"{role}_siret"), f"{role}_siret", errors, public=True, who=label)
        setattr(checked, role, structure)
        setattr(checked, f"{role}_service", await _service(structure, getattr(data, f"{role}_service"), f"{role}_service", errors, label))
    checked.titulaire = await _structure(data.titulaire_siret, "titulaire_siret", errors, public=False, who="Titulaire")
    checked.cotraitants = await _partners(data.cotraitants, "cotraitants", errors, "Cotraitant")
    checked.sous_traitants = await _partners(data.sous_traitants, "sous_traitants", errors, "Sous-traitant")
    _distinct_companies(checked, errors)
    _mandataire(data, checked, errors)
    _payer_rules(data, checked, errors)
    checked.start_date = _start_date(data.start_date, errors)
    checked.amount = _amount(data.amount_excl_vat, errors)
    if errors:
        first = next(iter(errors.values()))
        raise WorksError("invalid", f"Le marché ne peut pas être déclaré : {first[0].lower()}{first[1:]}", errors=errors)
    return checked


# --- declaring and confirming --------------------------------------------------------------------

def _status_for(declarer: Declarer, checked: _Checked) -> str:
    """Active when the MOA declares it, pending when the titulaire does; anyone else is refused."""
    if checked.moa.id == declarer.structure_id:
        if not declarer.may_act_as_moa:
            raise WorksError("not_allowed", "Seul un gestionnaire du maître d'ouvrage déclare un marché en son nom.", 403)
        return ACTIVE
    if checked.titulaire.id == declarer.structure_id:
        if not declarer.may_act_as_titulaire:
            raise WorksError("not_allowed", "Il faut le droit de saisie et dépôt du titulaire pour déclarer ce marché.", 403)
        return PENDING
    raise WorksError("not_declarer", "Un marché se déclare par son maître d'ouvrage ou par son titulaire : "
                     "votre structure n'est ni l'un ni l'autre dans ce marché.", 422,
                     errors={"titulaire_siret": "Votre structure doit être le titulaire (ou le maître d'ouvrage) du marché."})


def _actor_rows(market_id: int, checked: _Checked) -> list[MarketActor]:
    rows = [
        MarketActor(market=market_id, structure=checked.moa.id, role=MOA, service=checked.moa_service),
        MarketActor(market=market_id, structure=checked.moe.id, role=MOE, service=checked.moe_service),
        MarketActor(market=market_id, structure=checked.payer.id, role=PAYER, service=checked.payer_service),
        MarketActor(market=market_id, structure=checked.titulaire.id, role=TITULAIRE),
    ]
    rows += [MarketActor(market=market_id, structure=s.id, role=COTRAITANT) for s in checked.cotraitants]
    rows += [MarketActor(market=market_id, structure=s.id, role=SOUS_TRAITANT, direct_payment=True) for s in checked.sous_traitants]
    return rows


DUPLICATE = "Ce maître d'ouvrage a déjà un marché n° {number} : un numéro de marché est unique par maître d'ouvrage."


async def declare(data: MarketIn, declarer: Declarer) -> int:
    """The new market's id. Raises WorksError (invalid fields, not allowed, duplicate number)."""
    checked = await check_declaration(data)
    status = _status_for(declarer, checked)
    number = data.number.strip()
    if await Market.exists().where((Market.moa == checked.moa.id) & (Market.number == number)):
        raise WorksError("duplicate", DUPLICATE.format(number=number), 409, errors={"number": DUPLICATE.format(number=number)})
    now = utcnow()
    market = Market(
        number=number, title=data.title.strip(), moa=checked.moa.id, moa_service=checked.moa_service,
        moe=checked.moe.id, moe_service=checked.moe_service, payer=checked.payer.id, payer_service=checked.payer_service,
        engagement=data.engagement.strip(), titulaire=checked.titulaire.id,
        mandataire=checked.mandataire.id if checked.mandataire else None, start_date=checked.start_date,
        amount_excl_vat=checked.amount, status=status, declared_by=declarer.user_id,
        declared_by_structure=declarer.structure_id, created_at=now, updated_at=now,
        confirmed_at=now if status == ACTIVE else None, confirmed_by=declarer.user_id if status == ACTIVE else None,
    )
    try:
        async with transaction():
            await market.save()
            actors = _actor_rows(market.id, checked)
            await MarketActor.insert(*actors)
            await Outbox.insert(_webhook_row("market.created", market, sorted({a.structure for a in actors}), now))
    except Exception as exc:
        if is_unique_violation(exc):  # declared at the same moment by someone else
            raise WorksError("duplicate", DUPLICATE.format(number=number), 409, errors={"number": DUPLICATE.format(number=number)}) from None
        raise
    outbox_worker.wake()  # the actors' webhooks hear of it now
    return market.id


async def confirm(market_id: int, structure_id: int, user_id: int | None, *, may_act_as_moa: bool) -> None:
    """The MOA confirms a market its titulaire declared: it becomes active."""
    market = await visible_market(market_id, structure_id)
    if market.moa != structure_id:
        raise WorksError("not_moa", "Seul le maître d'ouvrage du marché le confirme.", 403)
    if not may_act_as_moa:
        raise WorksError("not_allowed", "Seul un gestionnaire du maître d'ouvrage confirme un marché.", 403)
    now = utcnow()
    async with transaction():
        changed = await Market.update({Market.status: ACTIVE, Market.confirmed_by: user_id, Market.confirmed_at: now,
                                       Market.updated_at: now}).where(
            (Market.id == market_id) & (Market.status == PENDING)).returning(Market.id)
        if not changed:
            raise WorksError("already_active", "Ce marché est déjà actif.", 409)
        market.status = ACTIVE
        actors = await MarketActor.select(MarketActor.structure).where(MarketActor.market == market_id)
        await Outbox.insert(_webhook_row("market.confirmed", market, sorted({a["structure"] for a in actors}), now))
    outbox_worker.wake()


def _webhook_row(event: str, market: Market, structures: list[int], now) -> Outbox:
    """The webhook of a market's event, for every actor's subscribed webhooks (backend/webhooks/delivery.py),
    written in the transaction of the change: both, or neither."""
    payload = {"event": event, "structures": structures, "occurred_at": now.isoformat(),
               "market": {"id": market.id, "number": market.number, "title": market.title, "status": market.status}}
    return Outbox(event_type=event, channel="webhook", invoice=None, payload=json.dumps(payload, ensure_ascii=False),
                  created_at=now, next_attempt_at=now)


# --- reading ------------------------------------------------------------------------------------

async def visible_market(market_id: int, structure_id: int | None) -> Market:
    """The market when this structure acts in it; NOT_FOUND otherwise."""
    if structure_id is None or not await MarketActor.exists().where(
            (MarketActor.market == market_id) & (MarketActor.structure == structure_id)):
        raise NOT_FOUND
    market = await Market.objects().get(Market.id == market_id)
    if market is None:
        raise NOT_FOUND
    return market


async def acts_in_a_market(structure_id: int) -> bool:
    return await MarketActor.exists().where(MarketActor.structure == structure_id)


def encode_cursor(market_id: int) -> str:
    return base64.urlsafe_b64encode(f"m{market_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    market_id = parse_id(raw[1:]) if raw.startswith("m") else None
    if market_id is None:
        raise WorksError("cursor_invalid", "Le curseur de pagination n'est pas valide : reprenez celui de la page précédente.")
    return market_id


LIST_COLUMNS = (Market.id, Market.number, Market.title, Market.status, Market.engagement, Market.start_date,
                Market.amount_excl_vat, Market.created_at, Market.moa.name.as_alias("moa_name"),
                Market.titulaire.name.as_alias("titulaire_name"))


async def market_page(structure_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[list[dict], str | None]:
    """The markets where this structure acts, newest first (keyset on id), and the next cursor."""
    mine = MarketActor.select(MarketActor.market).where(MarketActor.structure == structure_id)
    query = Market.select(*LIST_COLUMNS).where(Market.id.is_in(mine))
    if cursor:
        query = query.where(Market.id < decode_cursor(cursor))
    rows = await query.order_by(Market.id, ascending=False).limit(limit + 1)
    roles = await _roles_by_market(structure_id, [r["id"] for r in rows[:limit]])
    for row in rows[:limit]:
        row["roles"] = roles.get(row["id"], [])
        row["role_labels"] = [ROLE_LABELS[r] for r in row["roles"]]
        row["status_label"] = STATUS_LABELS[row["status"]]
    return rows[:limit], (encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None)


async def _roles_by_market(structure_id: int, market_ids: list[int]) -> dict[int, list[str]]:
    if not market_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = await MarketActor.select(MarketActor.market, MarketActor.role).where(
        (MarketActor.structure == structure_id) & MarketActor.market.is_in(market_ids)).order_by(MarketActor.id)
    for row in rows:
        found.setdefault(row["market"], []).append(row["role"])
    return found


ROLE_ORDER = (MOA, MOE, PAYER, TITULAIRE, COTRAITANT, SOUS_TRAITANT)


async def market_detail(market: Market, structure_id: int) -> dict:
    """What the market page and the API show: the market, its actors, its dossiers, the viewer's roles."""
    actors = await MarketActor.select(
        MarketActor.role, MarketActor.direct_payment, MarketActor.structure.id.as_alias("structure_id"),
        MarketActor.structure.siret.as_alias("siret"), MarketActor.structure.name.as_alias("name"),
        MarketActor.service.code.as_alias("service_code"), MarketActor.service.name.as_alias("service_name"),
    ).where(MarketActor.market == market.id).order_by(MarketActor.id)
    for actor in actors:
        actor["role_label"] = ROLE_LABELS[actor["role"]]
        actor["is_mandataire"] = actor["structure_id"] == market.mandataire and actor["role"] in (TITULAIRE, COTRAITANT)
    actors.sort(key=lambda a: ROLE_ORDER.index(a["role"]))
    dossiers = await BillingFile.select().where(BillingFile.market == market.id).order_by(BillingFile.id, ascending=False)
    return {
        "market": market, "status_label": STATUS_LABELS[market.status], "actors": actors, "dossiers": dossiers,
        "roles": [a["role"] for a in actors if a["structure_id"] == structure_id],
    }
