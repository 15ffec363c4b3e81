"""The "Compte" pages: my structures, switching, joining; members and rights; structure profile."""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template

from backend.accounts.spaces import ACCOUNT, MANAGER, SPACES, space
from backend.accounts import mails, memberships, profile, twofactor
from backend.accounts.mails import deliver
from backend.accounts.memberships import Rights
from backend.accounts.service import AccountError
from backend.directory.tables import Structure
from backend.notifications.service import account_context as push_account_context
from backend.lib.formats import plural
from backend.tracking.events import reset_streams
from backend.lib.web import CurrentUser, flash, form_data, page, require_user, safe_next


@get("/account")
async def account_page(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    requests = await memberships.user_requests(current.id)
    push = await push_account_context(current.id)  # devices and preferences (backend/notifications)
    return page(request, "accounts/account.html", requests=requests, join_error=None, join_siret="",
                two_factor_enabled=await twofactor.has_second_factor(current.id), all_spaces=SPACES, **push)


@post("/account/active-structure")
async def switch_structure(request: Request, current: NamedDependency[CurrentUser]) -> Redirect:
    data = await form_data(request)
    try:
        wanted = int(data.get("structure_id", ""))
    except ValueError:
        wanted = -1
    if not any(m["structure"]["id"] == wanted for m in current.memberships):
        raise memberships.NOT_FOUND
    request.session["structure_id"] = wanted
    return Redirect(safe_next(data.get("next")))


@post("/account/join")
async def join_structure(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    try:
        structure, managers = await memberships.request_join(current.id, data.get("siret", ""))
    except AccountError as exc:
        requests = await memberships.user_requests(current.id)
        return page(request, "accounts/account.html", status_code=422, requests=requests, join_error=exc.message, join_siret=data.get("siret", ""), all_spaces=SPACES,
                    two_factor_enabled=await twofactor.has_second_factor(current.id), **await push_account_context(current.id))
    settings = request.app.state.settings
    requester = f"{current.display_name} <{current.email}>"
    for manager_email in managers:
        await deliver(settings, manager_email, *mails.join_request(settings, requester, structure.name, structure.id))
    flash(request, f"Votre demande de rattachement à {structure.name} a été envoyée à ses gestionnaires.", "success")
    return Redirect("/account")


async def _members_page(request: Request, current: CurrentUser, structure_id: int, status: int = 200,
                        invite: dict | None = None, invite_error: str | None = None) -> Template:
    rows = await memberships.members(current.id, structure_id)
    structure = await Structure.objects().get(Structure.id == structure_id)
    secured = await twofactor.users_with_second_factor([row["user"]["id"] for row in rows])
    return page(request, "accounts/members.html", status_code=status, structure=structure, members=rows,
                secured=secured, invite=invite or {}, invite_error=invite_error)


@get("/structures/{structure_id:int}/members", opt=space(MANAGER))
async def members_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    return await _members_page(request, current, structure_id)


@post("/structures/{structure_id:int}/requests/{membership_id:int}/{decision:str}", opt=space(MANAGER))
async def decide_request(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], membership_id: FromPath[int], decision: FromPath[str]) -> Redirect:
    if decision not in ("accept", "refuse"):
        raise memberships.NOT_FOUND
    accepted = decision == "accept"
    requester_email = await memberships.decide_request(current.id, structure_id, membership_id, accepted)
    structure = await Structure.objects().get(Structure.id == structure_id)
    settings = request.app.state.settings
    await deliver(settings, requester_email, *mails.join_decision(settings, structure.name, accepted))
    flash(request, f"Demande de {requester_email} {'acceptée' if accepted else 'refusée'}.", "success")
    return Redirect(f"/structures/{structure_id}/members")


def _rights_from(data: dict[str, str]) -> Rights:
    return Rights(
        can_deposit=data.get("can_deposit") == "on",
        can_consult=True,
        is_manager=data.get("is_manager") == "on",
        can_process=data.get("can_process") == "on",
    )


@post("/structures/{structure_id:int}/invitations", opt=space(MANAGER))
async def invite_member(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template | Redirect:
    data = await form_data(request)
    try:
        invitation = await memberships.invite(current.id, structure_id, data, _rights_from(data))
    except AccountError as exc:
        if exc.code == "not_found":
            raise
        return await _members_page(request, current, structure_id, 422, data, exc.message)
    settings = request.app.state.settings
    await deliver(settings, invitation.email, *mails.invitation(settings, invitation.structure_name, invitation.token))
    flash(request, f"{invitation.email} a été ajouté à la structure et prévenu par e-mail.", "success")
    return Redirect(f"/structures/{structure_id}/members")


@post("/structures/{structure_id:int}/members/{membership_id:int}/rights", opt=space(MANAGER))
async def change_rights(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], membership_id: FromPath[int]) -> Redirect:
    data = await form_data(request)
    await memberships.set_rights(current.id, structure_id, membership_id, _rights_from(data))
    flash(request, "Habilitations mises à jour.", "success")
    return Redirect(f"/structures/{structure_id}/members")


@post("/structures/{structure_id:int}/members/{membership_id:int}/remove", opt=space(MANAGER))
async def remove_member(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], membership_id: FromPath[int]) -> Redirect:
    await memberships.remove_member(current.id, structure_id, membership_id)
    flash(request, "Le membre a été retiré de la structure.", "success")
    return Redirect(f"/structures/{structure_id}/members")


@post("/structures/{structure_id:int}/members/{membership_id:int}/two-factor-reset", opt=space(MANAGER))
async def reset_second_factor(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], membership_id: FromPath[int]) -> Redirect:
    """A member lost their phone and their recovery codes: another gestionnaire vouches for them."""
    reset = await twofactor.reset_by_manager(current.id, current.display_name, structure_id, membership_id)
    await reset_streams([reset.user_id])  # their sessions ended with the reset, and so do their live streams
    settings = request.app.state.settings
    await deliver(settings, reset.email, *mails.two_factor_reset(settings, reset.first_name, current.display_name, reset.structure_name))
    flash(request, f"La double authentification de {reset.email} est réinitialisée : la personne la configurera de nouveau à sa prochaine connexion.", "success")
    return Redirect(f"/structures/{structure_id}/members")


def _profile_page(request: Request, structure: Structure, form: dict, errors: dict, guide: bool, status: int = 200) -> Template:
    steps = profile.invoicing_steps(structure)
    return page(request, "accounts/profile.html", status_code=status, structure=structure, form=form, errors=errors,
                guide=guide, steps=steps, steps_done=sum(step.done for step in steps))


@get("/structures/{structure_id:int}/profile", opt=space(MANAGER))
async def profile_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], guide: FromQuery[bool] = False) -> Template:
    """?guide=1: the first run's guide (what is needed to invoice, in order, with progress)."""
    structure = await profile.editable_structure(current.id, structure_id)
    return _profile_page(request, structure, profile.form_of(structure), {}, guide)


@post("/structures/{structure_id:int}/profile", opt=space(MANAGER))
async def profile_submit(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template | Redirect:
    structure = await profile.editable_structure(current.id, structure_id)
    data = await form_data(request)
    guide = data.get("guide") == "1"
    errors = await profile.update(structure, data)
    if errors:
        return _profile_page(request, structure, data, errors, guide, status=422)
    if not guide:
        flash(request, "Profil de la structure enregistré.", "success")
        return Redirect(f"/structures/{structure_id}/profile")
    missing = profile.missing_for_invoicing(await Structure.objects().get(Structure.id == structure_id))
    if missing:
        left = ", ".join(step.title.lower() if i else step.title for i, step in enumerate(missing))
        flash(request, f"Enregistré. Il reste {plural(len(missing), 'étape')} : {left}.", "success")
        return Redirect(f"/structures/{structure_id}/profile?guide=1#etape-{missing[0].key}")
    if structure_id != current.structure_id or not (current.active or {}).get("can_deposit"):
        flash(request, "Profil complet : la structure a tout ce qu'il faut pour facturer.", "success")
        return Redirect(f"/structures/{structure_id}/profile")
    flash(request, "Profil complet : vous pouvez saisir votre première facture.", "success")
    return Redirect("/capture")


router = Router(opt=space(ACCOUNT), 
    path="/",
    dependencies={"current": Provide(require_user)},
    route_handlers=[
        account_page, switch_structure, join_structure, members_page, decide_request,
        invite_member, change_rights, remove_member, reset_second_factor, profile_page, profile_submit,
    ],
)
