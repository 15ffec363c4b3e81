"""Memberships (rattachements) and rights (habilitations) inside a structure.

Every function takes the acting user's id and checks it itself: a controller cannot
forget a check, and a user of another structure gets "not found", never a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.service import (
    AccountError,
    active_managers,
    email_error,
    invite_user,
    normalize_email,
)
from backend.accounts.tables import Membership, User
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.directory.identifiers import clean_siret, siret_error
from backend.directory.tables import Structure
from backend.tracking.events import reset_streams

NOT_FOUND = AccountError("not_found", "Cette page n'existe pas ou vous n'y avez pas accès.")


@dataclass(frozen=True)
class Rights:
    can_deposit: bool
    can_consult: bool
    is_manager: bool
    can_process: bool = False


_RIGHTS_COLUMNS = (
    Membership.id,
    Membership.status,
    Membership.is_manager,
    Membership.can_deposit,
    Membership.can_consult,
    Membership.can_process,
    Membership.created_at,
)
_MEMBER_COLUMNS = (
    *_RIGHTS_COLUMNS,
    Membership.structure.id,
    Membership.structure.name,
    Membership.structure.siret,
    Membership.structure.is_public,
)


# Read on every signed-in request: written once as SQL, because building the same join
# with Piccolo's column objects cost about 1 ms of CPU per request (its foreign-key
# attribute lookups), more than the query itself. Same rows as
# Membership.select(*_MEMBER_COLUMNS).output(nested=True), ordered by structure name.
_USER_STRUCTURES_SQL = (
    'SELECT m.id, m.status, m.is_manager, m.can_deposit, m.can_consult, m.can_process, m.created_at, '
    's.id AS structure_id, s.name AS structure_name, s.siret AS structure_siret, s.is_public AS structure_is_public, '
    # Whether the structure acts in a works market: the "Travaux" entry of the navigation.
    'EXISTS (SELECT 1 FROM market_actor a WHERE a.structure = s.id) AS structure_in_works '
    'FROM membership m JOIN structure s ON s.id = m.structure '
    "WHERE m.\"user\" = {} AND m.status = 'active' ORDER BY s.name, m.id"
)
_STRUCTURE_KEYS = ("id", "name", "siret", "is_public", "in_works")


async def user_structures(user_id: int) -> list[dict]:
    """The user's active memberships with their structure, by structure name."""
    rows = await Membership.raw(_USER_STRUCTURES_SQL, user_id)
    return [_nested(dict(row)) for row in rows]


def _nested(row: dict) -> dict:
    row["structure"] = {key: row.pop(f"structure_{key}") for key in _STRUCTURE_KEYS}
    return row


async def user_requests(user_id: int) -> list[dict]:
    return (
        await Membership.select(*_MEMBER_COLUMNS)
        .where((Membership.user == user_id) & (Membership.status != "active"))
        .order_by(Membership.created_at, ascending=False)
        .output(nested=True)
    )


async def active_membership(user_id: int, structure_id: int) -> Membership | None:
    return await Membership.objects().get(
        (Membership.user == user_id) & (Membership.structure == structure_id) & (Membership.status == "active")
    )


async def require_manager(user_id: int, structure_id: int) -> Membership:
    membership = await active_membership(user_id, structure_id)
    if membership is None or not membership.is_manager:
        raise NOT_FOUND
    return membership


async def managed_structure(user_id: int, structure_id: int) -> Structure:
    """The structure a gestionnaire's page is about; 404 for anyone but its gestionnaires."""
    await require_manager(user_id, structure_id)
    structure = await Structure.objects().get(Structure.id == structure_id)
    assert structure is not None  # an active membership points at an existing structure
    return structure


async def members(manager_id: int, structure_id: int) -> list[dict]:
    await require_manager(manager_id, structure_id)
    return (
        await Membership.select(
            *_RIGHTS_COLUMNS,
            Membership.user.id,
            Membership.user.email,
            Membership.user.first_name,
            Membership.user.last_name,
        )
        .where((Membership.structure == structure_id) & (Membership.status.is_in(["active", "pending"])))
        .order_by(Membership.status, ascending=False)
        .order_by(Membership.user.last_name)
        .output(nested=True)
    )


async def request_join(user_id: int, raw_siret: str) -> tuple[Structure, list[str]]:
    """An existing user asks to join the structure with this SIRET; returns managers to tell."""
    if message := siret_error(raw_siret):
        raise AccountError("invalid", message, "siret")
    structure = await Structure.objects().get(Structure.siret == clean_siret(raw_siret))
    if structure is None:
        raise AccountError(
            "structure_unknown",
            "Aucune structure n'est enregistrée avec ce SIRET. Pour la créer, inscrivez-la depuis la page d'inscription.",
            "siret",
        )
    async with transaction():
        existing = await Membership.objects().get(
            (Membership.user == user_id) & (Membership.structure == structure.id)
        )
        if existing is not None and existing.status in ("active", "pending"):
            message = (
                "Vous êtes déjà membre de cette structure."
                if existing.status == "active"
                else "Une demande de rattachement à cette structure est déjà en attente."
            )
            raise AccountError("already_requested", message, "siret")
        if existing is not None:  # a refused request may be asked again
            await Membership.update({Membership.status: "pending", Membership.decided_at: None}).where(
                Membership.id == existing.id
            )
        else:
            await Membership.insert(Membership(user=user_id, structure=structure.id, status="pending"))
    managers = await active_managers(structure.id)
    return structure, [m["user"]["email"] for m in managers]


async def _member_of(structure_id: int, membership_id: int) -> Membership:
    membership = await Membership.objects().get(
        (Membership.id == membership_id) & (Membership.structure == structure_id)
    )
    if membership is None:
        raise NOT_FOUND
    return membership


async def decide_request(manager_id: int, structure_id: int, membership_id: int, accept: bool) -> str:
    """Accept (with consult + deposit rights) or refuse a pending request; returns the requester's e-mail."""
    await require_manager(manager_id, structure_id)
    async with transaction():
        membership = await _member_of(structure_id, membership_id)
        if membership.status != "pending":
            raise AccountError("not_pending", "Cette demande a déjà été traitée.")
        values = {
            Membership.status: "active" if accept else "refused",
            Membership.decided_at: utcnow(),
            Membership.decided_by: manager_id,
        }
        if accept:
            values |= {Membership.can_consult: True, Membership.can_deposit: True}
        await Membership.update(values).where(Membership.id == membership.id)
    if accept:
        await reset_streams([membership.user])  # their open pages start hearing this structure
    user = await User.objects().get(User.id == membership.user)
    return user.email


async def _other_active_managers(structure_id: int, membership_id: int) -> int:
    return await Membership.count().where(
        (Membership.structure == structure_id)
        & (Membership.status == "active")
        & (Membership.is_manager == True)  # noqa: E712
        & (Membership.id != membership_id)
    )


async def set_rights(manager_id: int, structure_id: int, membership_id: int, rights: Rights) -> None:
    await require_manager(manager_id, structure_id)
    async with transaction():
        membership = await _member_of(structure_id, membership_id)
        if membership.status != "active":
            raise NOT_FOUND
        if membership.is_manager and not rights.is_manager and not await _other_active_managers(structure_id, membership_id):
            raise AccountError("last_manager", "La structure doit garder au moins un gestionnaire.")
        await Membership.update(
            {
                Membership.is_manager: rights.is_manager,
                Membership.can_deposit: rights.can_deposit or rights.is_manager,
                Membership.can_consult: True,  # every member may at least read
                Membership.can_process: rights.can_process or rights.is_manager,
            }
        ).where(Membership.id == membership.id)


async def remove_member(manager_id: int, structure_id: int, membership_id: int) -> None:
    await require_manager(manager_id, structure_id)
    async with transaction():
        membership = await _member_of(structure_id, membership_id)
        if membership.is_manager and not await _other_active_managers(structure_id, membership_id):
            raise AccountError("last_manager", "La structure doit garder au moins un gestionnaire.")
        await Membership.delete().where(Membership.id == membership.id)
    await reset_streams([membership.user])  # their open pages stop hearing this structure


@dataclass(frozen=True)
class Invitation:
    email: str
    structure_name: str
    token: str | None  # set when a new account was created and needs a password


async def invite(manager_id: int, structure_id: int, data: dict[str, str], rights: Rights) -> Invitation:
    """A gestionnaire adds someone by e-mail: an existing account joins at once, a new one gets a link."""
    await require_manager(manager_id, structure_id)
    email = normalize_email(data.get("email", ""))
    if message := email_error(email):
        raise AccountError("invalid", message, "email")
    first_name, last_name = data.get("first_name", "").strip()[:100], data.get("last_name", "").strip()[:100]
    structure = await Structure.objects().get(Structure.id == structure_id)
    async with transaction():
        user = await User.objects().get(User.email == email)
        token = None
        if user is None:
            if not first_name or not last_name:
                raise AccountError("invalid", "Indiquez le prénom et le nom de la personne invitée.", "first_name")
            user_id, token = await invite_user(email, first_name, last_name)
        else:
            user_id = user.id
        existing = await Membership.objects().get((Membership.user == user_id) & (Membership.structure == structure_id))
        if existing is not None and existing.status == "active":
            raise AccountError("already_member", "Cette personne est déjà membre de la structure.", "email")
        if existing is not None:
            await Membership.delete().where(Membership.id == existing.id)
        await Membership.insert(Membership(
            user=user_id, structure=structure_id, status="active", decided_at=utcnow(), decided_by=manager_id,
            is_manager=rights.is_manager, can_consult=True,
            can_deposit=rights.can_deposit or rights.is_manager, can_process=rights.can_process or rights.is_manager,
        ))
    return Invitation(email=email, structure_name=structure.name, token=token)
