"""Two-factor login pages: the second step after the password, and the "Sécurité" section
of the account (authenticator app, recovery codes, passkeys, remembered devices)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import ACCOUNT, PUBLIC_ROUTE, space
from backend.accounts import passkeys, service, twofactor
from backend.accounts.service import AccountError
from backend.accounts.tables import User
from backend.lib.formats import plural
from backend.lib.sessions import rotate_session
from backend.lib.web import ENROLMENT_PAGE, CurrentUser, flash, form_data, page, require_enrolling_user, safe_next

PENDING = "pending_login"  # session key between the password and the second factor
PENDING_SECONDS = 300  # the second step must follow the password within five minutes
REGISTRATION = "passkey_registration"  # session key holding a passkey registration challenge
SECOND_STEP = "/login/second-factor"

EXPIRED = "Votre connexion a expiré : saisissez à nouveau votre mot de passe."
BLOCKED = "Trop de codes erronés. Réessayez dans quelques minutes."
WRONG = {
    "totp": "Ce code n'est pas valide ou a déjà servi. Saisissez le code affiché maintenant par votre application.",
    "recovery": "Ce code de secours n'est pas valide ou a déjà servi.",
    "passkey": "La clé n'a pas été reconnue. Réessayez, ou utilisez un autre moyen.",
}


def problem(status: int, code: str, detail: str) -> Response:
    """An RFC 9457 problem for the JSON endpoints used by passkeys.js."""
    return Response({"type": "about:blank", "status": status, "code": code, "detail": detail},
                    status_code=status, media_type="application/problem+json")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- After the password ---

async def after_password(request: Request, user: User, next_url: str) -> Redirect:
    """Called by the login form once the password is right: sign in, or ask for the second factor."""
    settings = request.app.state.settings
    rotate_session(request)
    if await twofactor.has_second_factor(user.id):
        if await twofactor.remembered(user.id, request.cookies.get(twofactor.DEVICE_COOKIE), settings.secret_key):
            request.set_session({"user_id": user.id, "epoch": user.session_epoch, "two_factor": True})
            return Redirect(next_url)
        request.set_session({PENDING: {"user_id": user.id, "epoch": user.session_epoch,
                                       "until": time.time() + PENDING_SECONDS, "next": next_url}})
        return Redirect(SECOND_STEP)
    request.set_session({"user_id": user.id, "epoch": user.session_epoch})
    if settings.two_factor == "managers" and await twofactor.is_manager_somewhere(user.id):
        request.session["after_enrolment"] = next_url
        return Redirect(ENROLMENT_PAGE)
    return Redirect(next_url)


def _pending(request: Request) -> dict | None:
    session = request.scope.get("session")
    pending = session.get(PENDING) if isinstance(session, dict) else None
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return pending


def _throttle_keys(request: Request, pending: dict) -> tuple[str, str]:
    return f"2fa:user:{pending['user_id']}", f"2fa:addr:{_client(request)}"


async def _blocked(request: Request, pending: dict) -> bool:
    state = request.app.state
    user_key, address_key = _throttle_keys(request, pending)
    return await state.second_factor_by_user.is_blocked(user_key) or await state.second_factor_by_address.is_blocked(address_key)


async def _failed(request: Request, pending: dict) -> None:
    state = request.app.state
    user_key, address_key = _throttle_keys(request, pending)
    await state.second_factor_by_user.record_failure(user_key)
    await state.second_factor_by_address.record_failure(address_key)


async def _complete(request: Request, pending: dict, remember: bool) -> tuple[str, Cookie | None] | None:
    """Turn the pending login into a signed-in session; None when the account changed meanwhile."""
    settings = request.app.state.settings
    user = await User.objects().get((User.id == pending["user_id"]) & (User.is_active == True))  # noqa: E712
    if user is None or user.session_epoch != pending["epoch"]:
        return None  # the password was reset (or the factor reset) since: start again
    await request.app.state.second_factor_by_user.reset(_throttle_keys(request, pending)[0])
    rotate_session(request)
    request.set_session({"user_id": user.id, "epoch": user.session_epoch, "two_factor": True})
    cookie = None
    if remember:
        label = twofactor.device_label(request.headers.get("user-agent", ""))
        value = await twofactor.remember_device(user.id, label, settings.secret_key)
        cookie = Cookie(key=twofactor.DEVICE_COOKIE, value=value, max_age=int(twofactor.REMEMBER_FOR.total_seconds()),
                        path="/login", httponly=True, secure=settings.secure_cookies, samesite="lax")
    return safe_next(pending.get("next")), cookie


async def _second_step_page(request: Request, pending: dict, status: int = 200, error: str | None = None,
                            method: str = "totp") -> Template:
    user_id = pending["user_id"]
    factors = await twofactor.status(user_id)
    return page(request, "accounts/second_factor.html", status_code=status, error=error, method=method,
                has_totp=factors.totp, has_passkeys=bool(factors.passkeys), has_codes=factors.recovery_codes_left > 0)


@get(SECOND_STEP)
async def second_step(request: Request) -> Template | Redirect:
    pending = _pending(request)
    if pending is None:
        flash(request, EXPIRED, "error")
        return Redirect("/login")
    return await _second_step_page(request, pending)


@post(SECOND_STEP)
async def second_step_submit(request: Request) -> Template | Redirect:
    data = await form_data(request)
    pending = _pending(request)
    if pending is None:
        flash(request, EXPIRED, "error")
        return Redirect("/login")
    method = data.get("method") if data.get("method") in ("totp", "recovery") else "totp"
    if await _blocked(request, pending):
        return await _second_step_page(request, pending, 429, BLOCKED, method)
    user_id, app_secret = pending["user_id"], request.app.state.settings.secret_key
    if method == "totp":
        ok = await twofactor.verify_totp(user_id, data.get("code", ""), app_secret)
    else:
        ok = await twofactor.use_recovery_code(user_id, data.get("recovery_code", ""))
    if not ok:
        await _failed(request, pending)
        return await _second_step_page(request, pending, 401, WRONG[method], method)
    completed = await _complete(request, pending, data.get("remember") == "on")
    if completed is None:
        flash(request, EXPIRED, "error")
        return Redirect("/login")
    next_url, cookie = completed
    if method == "recovery":
        left = await twofactor.recovery_codes_left(user_id)
        renew = " Générez-en de nouveaux dans « Sécurité »." if left <= 3 else ""
        flash(request, f"Code de secours accepté. Il vous reste {plural(left, 'code inutilisé', 'codes inutilisés')}.{renew}", "success")
    return Redirect(next_url, cookies=[cookie] if cookie else None)


@post(f"{SECOND_STEP}/passkey/options")
async def second_step_passkey_options(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return problem(401, "login_expired", EXPIRED)
    try:
        options, challenge = await passkeys.authentication_options(pending["user_id"], request.app.state.settings)
    except AccountError as exc:
        return problem(409, exc.code, exc.message)
    request.session[PENDING] = {**pending, "challenge": challenge}
    return Response(options, media_type="application/json", status_code=200)


class PasskeyAnswer(msgspec.Struct):
    credential: dict[str, Any]
    remember: bool = False
    name: str = ""


async def _passkey_answer(request: Request) -> PasskeyAnswer | None:
    try:
        return msgspec.json.decode(await request.body(), type=PasskeyAnswer)
    except msgspec.DecodeError:
        return None


@post(SECOND_STEP + "/passkey")
async def second_step_passkey(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return problem(401, "login_expired", EXPIRED)
    if await _blocked(request, pending):
        return problem(429, "rate_limited", BLOCKED)
    answer = await _passkey_answer(request)
    if answer is None:
        return problem(400, "bad_request", "La réponse de la clé est illisible.")
    # One challenge, one try: a replayed answer finds no challenge to match.
    request.session[PENDING] = {k: v for k, v in pending.items() if k != "challenge"}
    if not await passkeys.authenticate(pending["user_id"], answer.credential, pending.get("challenge"), request.app.state.settings):
        await _failed(request, pending)
        return problem(401, "passkey_refused", WRONG["passkey"])
    completed = await _complete(request, pending, answer.remember)
    if completed is None:
        return problem(401, "login_expired", EXPIRED)
    next_url, cookie = completed
    return Response({"redirect": next_url}, cookies=[cookie] if cookie else None, status_code=200)


# --- The "Sécurité" section ---

def _required(request: Request, current: CurrentUser) -> bool:
    return twofactor.required_for(request.app.state.settings, current.memberships)


async def _security_page(request: Request, current: CurrentUser, status: int = 200, error: str | None = None) -> Template:
    return page(request, "accounts/security.html", status_code=status, error=error,
                security=await twofactor.status(current.id), required=_required(request, current),
                must_enrol=current.must_enrol, passkeys_available=passkeys.available(request.app.state.settings))


@get(ENROLMENT_PAGE)
async def security_page(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    return await _security_page(request, current)


async def _totp_page(request: Request, enrolment: twofactor.TotpEnrolment, status: int = 200, error: str | None = None) -> Template:
    template = page(request, "accounts/security_totp.html", status_code=status, enrolment=enrolment, error=error)
    template.headers["Cache-Control"] = "no-store"  # the page shows the secret: no copy in any cache
    return template


@post(f"{ENROLMENT_PAGE}/totp")
async def totp_start(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    user = await User.objects().get(User.id == current.id)
    try:
        enrolment = await twofactor.start_totp(user, request.app.state.settings.secret_key)
    except AccountError as exc:
        return await _security_page(request, current, 409, exc.message)
    return await _totp_page(request, enrolment)


def _codes_page(request: Request, current: CurrentUser, codes: list[str], next_url: str) -> Template:
    template = page(request, "accounts/recovery_codes.html", codes=codes, next_url=next_url,
                    codes_text=twofactor.recovery_codes_text(current.email, codes))
    template.headers["Cache-Control"] = "no-store"  # shown once: no copy in any cache
    return template


async def _enrolled(request: Request, what: str) -> str:
    """After a first factor is set up: this session has passed it; returns where to go next."""
    request.session["two_factor"] = True
    flash(request, f"{what} : la double authentification est active.", "success")
    return safe_next(request.session.pop("after_enrolment", None) or ENROLMENT_PAGE)


@post(f"{ENROLMENT_PAGE}/totp/confirm")
async def totp_confirm(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    settings = request.app.state.settings
    try:
        await twofactor.confirm_totp(current.id, data.get("code", ""), settings.secret_key)
    except AccountError as exc:
        user = await User.objects().get(User.id == current.id)
        enrolment = await twofactor.pending_enrolment(user, settings.secret_key)
        if enrolment is None:
            return await _security_page(request, current, 409, exc.message)
        return await _totp_page(request, enrolment, 422, exc.message)
    next_url = await _enrolled(request, "Application d'authentification ajoutée")
    if await twofactor.recovery_codes_left(current.id):
        return Redirect(next_url)
    return _codes_page(request, current, await twofactor.new_recovery_codes(current.id), next_url)


@post(f"{ENROLMENT_PAGE}/totp/remove")
async def totp_remove(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    try:
        await twofactor.remove_totp(current.id, _required(request, current))
    except AccountError as exc:
        return await _security_page(request, current, 409, exc.message)
    flash(request, "Application d'authentification retirée.", "success")
    return Redirect(ENROLMENT_PAGE)


@post(f"{ENROLMENT_PAGE}/recovery-codes")
async def recovery_codes_new(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    if not await twofactor.has_second_factor(current.id):
        return await _security_page(request, current, 409, "Ajoutez d'abord une application d'authentification ou une clé d'accès.")
    codes = await twofactor.new_recovery_codes(current.id)
    return _codes_page(request, current, codes, safe_next(request.session.pop("after_enrolment", None) or ENROLMENT_PAGE))


@post(f"{ENROLMENT_PAGE}/passkeys/options")
async def passkey_options(request: Request, current: NamedDependency[CurrentUser]) -> Response:
    user = await User.objects().get(User.id == current.id)
    options, challenge = await passkeys.registration_options(user, request.app.state.settings)
    request.session[REGISTRATION] = {"challenge": challenge, "until": time.time() + PENDING_SECONDS}
    return Response(options, media_type="application/json", status_code=200)


@post(f"{ENROLMENT_PAGE}/passkeys")
async def passkey_register(request: Request, current: NamedDependency[CurrentUser]) -> Response:
    answer = await _passkey_answer(request)
    if answer is None:
        return problem(400, "bad_request", "La réponse de la clé est illisible.")
    registration = request.session.pop(REGISTRATION, None) or {}
    challenge = registration.get("challenge") if registration.get("until", 0) >= time.time() else None
    first = not await twofactor.has_second_factor(current.id)
    try:
        await passkeys.register(current.id, answer.name, answer.credential, challenge, request.app.state.settings)
    except AccountError as exc:
        return problem(422, exc.code, exc.message)
    name = answer.name.strip()
    if not first:
        flash(request, f"Clé « {name} » ajoutée.", "success")
        return Response({"redirect": ENROLMENT_PAGE, "show_codes": False}, status_code=201)
    show_codes = not await twofactor.recovery_codes_left(current.id)
    request.session["two_factor"] = True
    flash(request, f"Clé « {name} » ajoutée : la double authentification est active.", "success")
    # The first factor comes with recovery codes, as for the app: passkeys.js posts the form
    # that shows them, and that page leads on to where the login was going.
    next_url = ENROLMENT_PAGE if show_codes else safe_next(request.session.pop("after_enrolment", None) or ENROLMENT_PAGE)
    return Response({"redirect": next_url, "show_codes": show_codes}, status_code=201)


@post(f"{ENROLMENT_PAGE}/passkeys/{{passkey_id:int}}/remove")
async def passkey_remove(request: Request, current: NamedDependency[CurrentUser], passkey_id: FromPath[int]) -> Template | Redirect:
    try:
        await passkeys.remove(current.id, passkey_id, _required(request, current))
    except AccountError as exc:
        if exc.code == "not_found":
            raise
        return await _security_page(request, current, 409, exc.message)
    flash(request, "Clé retirée.", "success")
    return Redirect(ENROLMENT_PAGE)


@post(f"{ENROLMENT_PAGE}/devices/{{device_id:int}}/forget")
async def device_forget(request: Request, current: NamedDependency[CurrentUser], device_id: FromPath[int]) -> Redirect:
    await twofactor.forget_device(current.id, device_id)
    flash(request, "Cet appareil demandera de nouveau le second facteur.", "success")
    return Redirect(ENROLMENT_PAGE)


@post(f"{ENROLMENT_PAGE}/disable")
async def disable(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    counter, key = request.app.state.login_by_account, f"login:acct:{current.email}"  # the login form's own count
    if await counter.is_blocked(key):
        return await _security_page(request, current, 429, "Trop de tentatives. Réessayez dans quelques minutes.")
    if await service.authenticate(current.email, data.get("password", "")) is None:
        await counter.record_failure(key)
        return await _security_page(request, current, 403, "Mot de passe incorrect : la double authentification reste active.")
    try:
        await twofactor.disable(current.id, _required(request, current))
    except AccountError as exc:
        return await _security_page(request, current, 409, exc.message)
    flash(request, "Double authentification désactivée.", "success")
    return Redirect(ENROLMENT_PAGE)


login_router = Router(opt=space(PUBLIC_ROUTE), path="/", route_handlers=[second_step, second_step_submit, second_step_passkey_options, second_step_passkey])
security_router = Router(opt=space(ACCOUNT), 
    path="/",
    dependencies={"current": Provide(require_enrolling_user)},
    route_handlers=[security_page, totp_start, totp_confirm, totp_remove, recovery_codes_new, passkey_options,
                    passkey_register, passkey_remove, device_forget, disable],
)
