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
from backend.accounts import spaces
from backend.accounts.tables import Membership, SpaceRequest, StructureSpaces, User
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
    'm.space_rights, m.is_principal, '
    's.id AS structure_id, s.name AS structure_name, s.siret AS structure_siret, s.is_public AS structure_is_public, '
    # Whether the structure acts in a works market: the "Travaux" entry of the navigation.
    'EXISTS (SELECT 1 FROM market_actor a WHERE a.structure = s.id) AS structure_in_works, '
    'ss.spaces AS structure_spaces '
    'FROM membership m JOIN structure s ON s.id = m.structure '
    'LEFT JOIN structure_spaces ss ON ss.structure = s.id '
    "WHERE m.\"user\" = {} AND m.status = 'active' ORDER BY s.name, m.id"
)
_STRUCTURE_KEYS = ("id", "name", "siret", "is_public", "in_works", "spaces")


async def user_structures(user_id: int) -> list[dict]:
    """The user's active memberships with their structure, by structure name."""
    rows = await Membership.raw(_USER_STRUCTURES_SQL, user_id)
    return [_nested(dict(row)) for row in rows]


def _nested(row: dict) -> dict:
    structure = row["structure"] = {key: row.pop(f"structure_{key}") for key in _STRUCTURE_KEYS}
    structure["spaces"] = spaces.parse_active(structure["spaces"], bool(structure["is_public"]))
    # What this member may do in each active space of the structure: {"emises": "modification", …}
    row["spaces"] = spaces.effective(row, structure["spaces"])
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
        if accept:  # the rights per space follow these flags (backend/accounts/spaces.py legacy_rights)
            values |= {Membership.can_consult: True, Membership.can_deposit: True, Membership.space_rights: None}
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
                Membership.space_rights: None,  # the rights per space follow these flags again
                # A principal gestionnaire who steps down here hands the role to the earliest other
                # gestionnaire (principal_membership_id); the spaces page hands it to someone chosen.
                Membership.is_principal: membership.is_principal and rights.is_manager,
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


# --- Spaces and rights per space (backend/accounts/spaces.py) ---

PRINCIPAL_STAYS = AccountError(
    "principal_stays",
    "Le gestionnaire principal reste gestionnaire : désignez d'abord un autre gestionnaire principal.")
PRINCIPAL_ONLY = AccountError(
    "principal_only", "Seul le gestionnaire principal désigne les gestionnaires de la structure.")


async def active_spaces(structure_id: int) -> tuple[str, ...]:
    row = await StructureSpaces.select(StructureSpaces.spaces).where(StructureSpaces.structure == structure_id).first()
    structure = await Structure.select(Structure.is_public).where(Structure.id == structure_id).first()
    return spaces.parse_active(row["spaces"] if row else None, bool(structure and structure["is_public"]))


async def set_active_spaces(manager_id: int, structure_id: int, codes: list[str]) -> tuple[str, ...]:
    """The gestionnaire activates the spaces the structure uses; the others vanish for every member
    (their rights there are kept, and come back if the space is activated again)."""
    await require_manager(manager_id, structure_id)
    if unknown := [code for code in codes if code not in spaces.BY_CODE]:
        raise AccountError("space_invalid", f"Espace inconnu : {', '.join(unknown)}.")
    stored = spaces.format_active(codes)
    async with transaction():
        if await StructureSpaces.exists().where(StructureSpaces.structure == structure_id):
            await StructureSpaces.update({StructureSpaces.spaces: stored, StructureSpaces.updated_at: utcnow()}).where(
                StructureSpaces.structure == structure_id)
        else:
            await StructureSpaces.insert(StructureSpaces(structure=structure_id, spaces=stored))
    await reset_streams(await _member_user_ids(structure_id))
    return spaces.parse_active(stored, False)


async def _member_user_ids(structure_id: int) -> list[int]:
    rows = await Membership.select(Membership.user).where(
        (Membership.structure == structure_id) & (Membership.status == "active"))
    return [row["user"] for row in rows]


async def principal_membership_id(structure_id: int) -> int | None:
    """The principal gestionnaire's membership: the one so marked, else the earliest gestionnaire
    (rows written before principals existed, or by code that does not set it)."""
    row = await Membership.select(Membership.id).where(
        (Membership.structure == structure_id) & (Membership.status == "active") & (Membership.is_manager == True)  # noqa: E712
    ).order_by(Membership.is_principal, ascending=False).order_by(Membership.id).first()
    return row["id"] if row else None


_GRID_COLUMNS = (*_RIGHTS_COLUMNS, Membership.space_rights, Membership.is_principal, Membership.user.id,
                 Membership.user.email, Membership.user.first_name, Membership.user.last_name)


async def rights_grid(manager_id: int, structure_id: int) -> dict:
    """The members × spaces grid of a gestionnaire's page: active spaces, each member's rights."""
    await require_manager(manager_id, structure_id)
    active = await active_spaces(structure_id)
    principal = await principal_membership_id(structure_id)
    rows = await Membership.select(*_GRID_COLUMNS).where(
        (Membership.structure == structure_id) & (Membership.status == "active")
    ).order_by(Membership.is_manager, ascending=False).order_by(Membership.user.last_name).output(nested=True)
    for row in rows:
        row["rights"] = spaces.effective(row, active)
        row["role"] = "principal" if row["id"] == principal else ("secondary" if row["is_manager"] else "member")
    return {"active": active, "members": rows, "principal": principal}


async def _active_member_of(structure_id: int, membership_id: int) -> Membership:
    membership = await _member_of(structure_id, membership_id)
    if membership.status != "active":
        raise NOT_FOUND
    return membership


async def _write_rights(membership_id: int, rights: dict[str, str]) -> None:
    flags = spaces.legacy_flags(rights)
    await Membership.update({
        Membership.space_rights: spaces.format_rights(rights),
        Membership.can_deposit: flags["can_deposit"],
        Membership.can_process: flags["can_process"],
        Membership.can_consult: flags["can_consult"],
    }).where(Membership.id == membership_id)


async def set_space_rights(manager_id: int, structure_id: int, membership_id: int, form: dict[str, str]) -> dict[str, str]:
    """A member's rights in the active spaces, from the grid's `space_<code>` fields ("", consultation,
    modification). Rights in inactive spaces are kept. A gestionnaire holds every right: 409."""
    await require_manager(manager_id, structure_id)
    active = await active_spaces(structure_id)
    for key, value in form.items():
        code = key.removeprefix("space_")
        if key.startswith("space_") and (code not in active or value not in ("", *spaces.LEVELS)):
            raise AccountError("space_invalid", "Choisissez, pour chaque espace actif, aucun droit, la consultation ou la modification.")
    async with transaction():
        membership = await _active_member_of(structure_id, membership_id)
        if membership.is_manager:
            raise AccountError("manager_rights", "Un gestionnaire a tous les droits dans les espaces actifs de la structure.")
        rights = {code: level for code, level in spaces.stored_rights(membership.to_dict()).items() if code not in active}
        rights |= spaces.clean_rights(form, active)
        await _write_rights(membership.id, rights)
    await reset_streams([membership.user])
    return rights


async def copy_rights(manager_id: int, structure_id: int, source_id: int, target_id: int) -> dict[str, str]:
    """The target member gets exactly the source member's rights in the active spaces."""
    await require_manager(manager_id, structure_id)
    if source_id == target_id:
        raise AccountError("same_member", "Choisissez deux membres différents.")
    active = await active_spaces(structure_id)
    async with transaction():
        source = await _active_member_of(structure_id, source_id)
        target = await _active_member_of(structure_id, target_id)
        if target.is_manager:
            raise AccountError("manager_rights", "Un gestionnaire a tous les droits dans les espaces actifs de la structure.")
        copied = spaces.effective(source.to_dict(), active)
        kept = {code: level for code, level in spaces.stored_rights(target.to_dict()).items() if code not in active}
        await _write_rights(target.id, kept | copied)
    await reset_streams([target.user])
    return copied


ROLES = ("principal", "secondary", "member")


async def set_role(manager_id: int, structure_id: int, membership_id: int, role: str) -> None:
    """The principal gestionnaire names secondary gestionnaires, takes that role back, or hands the
    principal role to another member (staying a secondary gestionnaire)."""
    if role not in ROLES:
        raise AccountError("space_invalid", "Rôle inconnu.")
    acting = await require_manager(manager_id, structure_id)
    async with transaction():
        principal = await principal_membership_id(structure_id)
        if acting.id != principal:
            raise PRINCIPAL_ONLY
        target = await _active_member_of(structure_id, membership_id)
        if target.id == principal and role != "principal":
            raise PRINCIPAL_STAYS
        if role == "principal":
            await Membership.update({Membership.is_principal: False}).where(Membership.structure == structure_id)
            await Membership.update({Membership.is_manager: True, Membership.is_principal: True}).where(
                Membership.id == target.id)
        else:
            await Membership.update({Membership.is_manager: role == "secondary", Membership.is_principal: False}).where(
                Membership.id == target.id)
    await reset_streams([target.user])


async def request_space(user_id: int, structure_id: int, code: str, level: str) -> None:
    """A member asks the gestionnaires for a right in an active space ("Approbations")."""
    membership = await active_membership(user_id, structure_id)
    if membership is None:
        raise NOT_FOUND
    if code not in await active_spaces(structure_id) or level not in spaces.LEVELS:
        raise AccountError("space_invalid", "Choisissez un espace actif de la structure et un droit.")
    current = spaces.effective(membership.to_dict(), await active_spaces(structure_id))
    if spaces.allows(current.get(code), level):
        raise AccountError("already_granted", "Vous avez déjà ce droit.")
    async with transaction():
        if await SpaceRequest.exists().where((SpaceRequest.membership == membership.id) & (SpaceRequest.space == code)
                                             & (SpaceRequest.status == "pending")):
            raise AccountError("already_requested", "Une demande pour cet espace attend déjà la réponse des gestionnaires.")
        await SpaceRequest.insert(SpaceRequest(membership=membership.id, space=code, level=level))


async def approvals(manager_id: int, structure_id: int) -> dict:
    """Everything that waits for a gestionnaire of the structure: rattachements and rights requests."""
    await require_manager(manager_id, structure_id)
    joins = await Membership.select(
        Membership.id, Membership.created_at, Membership.user.email, Membership.user.first_name, Membership.user.last_name,
    ).where((Membership.structure == structure_id) & (Membership.status == "pending")).order_by(
        Membership.created_at).output(nested=True)
    rights = await SpaceRequest.select(
        SpaceRequest.id, SpaceRequest.space, SpaceRequest.level, SpaceRequest.created_at,
        SpaceRequest.membership.user.email, SpaceRequest.membership.user.first_name,
        SpaceRequest.membership.user.last_name,
    ).where((SpaceRequest.membership.structure == structure_id) & (SpaceRequest.status == "pending")).order_by(
        SpaceRequest.created_at).output(nested=True)
    for row in rights:
        row["space_label"] = spaces.BY_CODE[row["space"]].label if row["space"] in spaces.BY_CODE else row["space"]
    return {"joins": joins, "rights": rights}


async def approval_counts(structure_id: int) -> tuple[int, int]:
    """(rattachements, rights requests) waiting for the structure's gestionnaires."""
    joins = await Membership.count().where((Membership.structure == structure_id) & (Membership.status == "pending"))
    rights = await SpaceRequest.count().where(
        (SpaceRequest.membership.structure == structure_id) & (SpaceRequest.status == "pending"))
    return joins, rights


async def pending_approvals(structure_id: int) -> int:
    return sum(await approval_counts(structure_id))


async def decide_space_request(manager_id: int, structure_id: int, request_id: int, accept: bool) -> None:
    await require_manager(manager_id, structure_id)
    async with transaction():
        found = await SpaceRequest.select(SpaceRequest.id, SpaceRequest.status, SpaceRequest.space, SpaceRequest.level,
                                          SpaceRequest.membership).where(
            (SpaceRequest.id == request_id) & (SpaceRequest.membership.structure == structure_id)).first()
        if found is None:
            raise NOT_FOUND
        if found["status"] != "pending":
            raise AccountError("not_pending", "Cette demande a déjà été traitée.")
        membership = await _active_member_of(structure_id, found["membership"])
        await SpaceRequest.update({SpaceRequest.status: "accepted" if accept else "refused",
                                   SpaceRequest.decided_at: utcnow(), SpaceRequest.decided_by: manager_id}).where(
            SpaceRequest.id == request_id)
        if accept and not membership.is_manager:
            rights = spaces.stored_rights(membership.to_dict())
            if not spaces.allows(rights.get(found["space"]), found["level"]):
                rights[found["space"]] = found["level"]
            await _write_rights(membership.id, rights)
    if accept:
        await reset_streams([membership.user])
