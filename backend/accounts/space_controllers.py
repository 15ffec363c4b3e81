"""The gestionnaire's "Espaces et habilitations" and "Approbations" pages, and a member's request for a right.

    GET  /structures/{id}/spaces                         active spaces, members × spaces grid, copy rights
    POST /structures/{id}/spaces                         activate spaces (`active_<code>=on`)
    POST /structures/{id}/members/{mid}/spaces           a member's rights (`space_<code>` = "" | consultation | modification)
    POST /structures/{id}/members/{mid}/role             principal gestionnaire only: `role` = principal | secondary | member
    POST /structures/{id}/rights/copy                    `from` member's rights onto `to` member
    GET  /structures/{id}/approvals                      pending rattachements and rights requests
    POST /structures/{id}/space-requests/{rid}/{decision}  accept | refuse a rights request
    POST /account/space-requests                         a member asks for a right in the active structure

Everyone but the structure's gestionnaires gets 404 (memberships.require_manager); refusals are
409 with their French message, unknown spaces or levels 422; nothing is half-written.
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts import memberships, spaces
from backend.accounts.spaces import ACCOUNT, MANAGER, space
from backend.accounts.service import AccountError
from backend.directory.tables import Structure
from backend.lib.web import CurrentUser, flash, form_data, page, require_user


def _member_id(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise AccountError("space_invalid", "Choisissez un membre de la structure.") from None


@get("/structures/{structure_id:int}/spaces", opt=space(MANAGER))
async def spaces_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    grid = await memberships.rights_grid(current.id, structure_id)
    structure = await Structure.objects().get(Structure.id == structure_id)
    me = next((m for m in grid["members"] if m["user"]["id"] == current.id), None)
    return page(request, "accounts/spaces.html", structure=structure, grid=grid, spaces=spaces.SPACES,
                levels=spaces.LEVEL_LABELS, is_principal=bool(me and me["id"] == grid["principal"]),
                pending=await memberships.pending_approvals(structure_id))


@post("/structures/{structure_id:int}/spaces", opt=space(MANAGER))
async def activate_spaces(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Redirect:
    data = await form_data(request)
    codes = [key.removeprefix("active_") for key, value in data.items() if key.startswith("active_") and value == "on"]
    active = await memberships.set_active_spaces(current.id, structure_id, codes)
    labels = ", ".join(spaces.BY_CODE[code].label for code in active) or "aucun"
    flash(request, f"Espaces actifs : {labels}.", "success")
    return Redirect(f"/structures/{structure_id}/spaces")


@post("/structures/{structure_id:int}/members/{membership_id:int}/spaces", opt=space(MANAGER))
async def member_spaces(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                        membership_id: FromPath[int]) -> Redirect:
    await memberships.set_space_rights(current.id, structure_id, membership_id, await form_data(request))
    flash(request, "Habilitations mises à jour.", "success")
    return Redirect(f"/structures/{structure_id}/spaces#membre-{membership_id}")


@post("/structures/{structure_id:int}/members/{membership_id:int}/role", opt=space(MANAGER))
async def member_role(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                      membership_id: FromPath[int]) -> Redirect:
    data = await form_data(request)
    await memberships.set_role(current.id, structure_id, membership_id, data.get("role", ""))
    flash(request, "Rôle mis à jour.", "success")
    return Redirect(f"/structures/{structure_id}/spaces")


@post("/structures/{structure_id:int}/rights/copy", opt=space(MANAGER))
async def copy_rights(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Redirect:
    data = await form_data(request)
    await memberships.copy_rights(current.id, structure_id, _member_id(data.get("from")), _member_id(data.get("to")))
    flash(request, "Habilitations copiées.", "success")
    return Redirect(f"/structures/{structure_id}/spaces")


@get("/structures/{structure_id:int}/approvals", opt=space(MANAGER))
async def approvals_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    found = await memberships.approvals(current.id, structure_id)
    structure = await Structure.objects().get(Structure.id == structure_id)
    return page(request, "accounts/approvals.html", structure=structure, levels=spaces.LEVEL_LABELS, **found)


@post("/structures/{structure_id:int}/space-requests/{request_id:int}/{decision:str}", opt=space(MANAGER))
async def decide_space_request(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                               request_id: FromPath[int], decision: FromPath[str]) -> Redirect:
    if decision not in ("accept", "refuse"):
        raise memberships.NOT_FOUND
    await memberships.decide_space_request(current.id, structure_id, request_id, decision == "accept")
    flash(request, "Demande d'habilitation acceptée." if decision == "accept" else "Demande d'habilitation refusée.", "success")
    return Redirect(f"/structures/{structure_id}/approvals")


@post("/account/space-requests", opt=space(ACCOUNT))
async def ask_for_space(request: Request, current: NamedDependency[CurrentUser]) -> Redirect:
    if current.structure_id is None:
        raise memberships.NOT_FOUND
    data = await form_data(request)
    await memberships.request_space(current.id, current.structure_id, data.get("space", ""), data.get("level", ""))
    flash(request, "Votre demande a été envoyée aux gestionnaires de la structure.", "success")
    return Redirect("/account")


router = Router(path="/", dependencies={"current": Provide(require_user)}, route_handlers=[
    spaces_page, activate_spaces, member_spaces, member_role, copy_rights, approvals_page, decide_space_request,
    ask_for_space,
])
