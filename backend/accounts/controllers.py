"""Account pages: sign-up, confirmation, login/logout, password reset."""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import PUBLIC_ROUTE, space
from backend.accounts import mails, service
from backend.accounts.mails import deliver
from backend.accounts.service import AccountError, SignupForm
from backend.accounts.tables import User
from backend.accounts.twofactor_controllers import after_password
from backend.lib.web import form_data, flash, load_current_user, page, safe_next
from backend.tracking.events import reset_streams

SIGNUP_FIELDS = ("company_name", "siret", "first_name", "last_name", "email", "password")


def _token_error(request: Request, exc: AccountError) -> Template:
    """404 for a link that never existed, 410 for one used or expired."""
    return page(request, "accounts/token_error.html", status_code=404 if exc.code == "token_invalid" else 410, error=exc)


@get("/signup")
async def signup_page(request: Request) -> Template:
    return page(request, "accounts/signup.html", form={}, errors={})


@post("/signup")
async def signup_submit(request: Request) -> Template:
    data = await form_data(request)
    form = SignupForm(**{k: data.get(k, "") for k in SIGNUP_FIELDS})
    errors = service.validate_signup(form)
    if not errors:
        try:
            outcome = await service.signup(form)
        except AccountError as exc:
            errors = {exc.field_name or "form": exc.message}
    if errors:
        shown = {k: v for k, v in data.items() if k != "password"}
        return page(request, "accounts/signup.html", status_code=422, form=shown, errors=errors)
    settings = request.app.state.settings
    mail_sent = await deliver(settings, service.normalize_email(form.email), *mails.confirmation(settings, form.first_name.strip(), outcome.confirm_token))
    return page(
        request,
        "accounts/signup_done.html",
        status_code=201,
        email=service.normalize_email(form.email),
        structure={"name": outcome.structure_name, "siret": outcome.siret},
        will_manage=outcome.will_manage,
        mail_sent=mail_sent,
    )


@get("/confirm/{token:str}")
async def confirm_page(request: Request, token: FromPath[str]) -> Template:
    return page(request, "accounts/confirm.html", token=token)


@post("/confirm/{token:str}")
async def confirm_submit(request: Request, token: FromPath[str]) -> Template | Redirect:
    try:
        confirmed = await service.confirm_email(token)
    except AccountError as exc:
        return _token_error(request, exc)
    if confirmed.managers_to_notify:
        await _ask_managers(request, confirmed)
    flash(request, _confirmed_message(confirmed), "success")
    return Redirect("/login")


def _confirmed_message(confirmed: service.Confirmation) -> str:
    done = "Votre adresse e-mail est confirmée : vous pouvez vous connecter."
    if confirmed.structure_id is None or confirmed.joined_as_manager:
        return done
    return f"{done} Votre demande de rattachement à {confirmed.structure_name} attend la réponse de ses gestionnaires."


async def _ask_managers(request: Request, confirmed: service.Confirmation) -> None:
    settings = request.app.state.settings
    user = await User.objects().get(User.id == confirmed.user_id)
    requester = f"{user.first_name} {user.last_name} <{user.email}>"
    for manager_email in confirmed.managers_to_notify:
        await deliver(settings, manager_email, *mails.join_request(settings, requester, confirmed.structure_name, confirmed.structure_id))


@get("/confirm-resend")
async def resend_page(request: Request) -> Template:
    return page(request, "accounts/resend.html", sent=False)


@post("/confirm-resend")
async def resend_submit(request: Request) -> Template:
    data = await form_data(request)
    settings = request.app.state.settings
    found = await service.new_confirmation_token(data.get("email", ""))
    if found:
        user, token = found
        await deliver(settings, user.email, *mails.confirmation(settings, user.first_name, token))
    # Same answer whether or not the account exists: no way to probe for addresses.
    return page(request, "accounts/resend.html", sent=True)


@get("/login")
async def login_page(request: Request) -> Template | Redirect:
    if await load_current_user(request):
        return Redirect(safe_next(request.query_params.get("next")))
    return page(request, "accounts/login.html", next=safe_next(request.query_params.get("next")), email="", error=None)


LOGIN_FAILED = "Adresse e-mail ou mot de passe incorrect."
LOGIN_BLOCKED = "Trop de tentatives de connexion. Réessayez dans quelques minutes."


@post("/login")
async def login_submit(request: Request) -> Template | Redirect:
    data = await form_data(request)
    email = service.normalize_email(data.get("email", ""))
    next_url = safe_next(data.get("next"))
    state = request.app.state
    client = request.client.host if request.client else "unknown"
    account_key, address_key = f"login:acct:{email}", f"login:addr:{client}"

    def refuse(message: str, status: int) -> Template:
        return page(request, "accounts/login.html", status_code=status, next=next_url, email=email, error=message)

    if await state.login_by_account.is_blocked(account_key) or await state.login_by_address.is_blocked(address_key):
        return refuse(LOGIN_BLOCKED, 429)
    user = await service.authenticate(email, data.get("password", ""))
    if user is None:
        await state.login_by_account.record_failure(account_key)
        await state.login_by_address.record_failure(address_key)
        return refuse(LOGIN_FAILED, 401)
    if user.email_confirmed_at is None:
        return refuse("Confirmez d'abord votre adresse e-mail avec le lien reçu (vous pouvez en demander un nouveau).", 403)
    await state.login_by_account.reset(account_key)
    return await after_password(request, user, next_url)  # signed in, or asked for the second factor


@post("/logout")
async def logout(request: Request) -> Redirect:
    user_id = request.session.get("user_id") if isinstance(request.scope.get("session"), dict) else None
    request.clear_session()  # the middleware deletes the stored session and expires the cookie
    if user_id:
        await reset_streams([user_id])  # the open pages' live streams stop with the session
    # The browser drops its HTTP cache of this site; the service worker forgets its cached pages.
    return Redirect("/login", headers={"Clear-Site-Data": '"cache"'})


@get("/password/forgot")
async def forgot_page(request: Request) -> Template:
    return page(request, "accounts/forgot.html", sent=False)


@post("/password/forgot")
async def forgot_submit(request: Request) -> Template:
    data = await form_data(request)
    settings = request.app.state.settings
    found = await service.start_password_reset(data.get("email", ""))
    if found:
        user, token = found
        await deliver(settings, user.email, *mails.password_reset(settings, user.first_name, token))
    return page(request, "accounts/forgot.html", sent=True)


@get("/password/reset/{token:str}")
async def reset_page(request: Request, token: FromPath[str]) -> Template:
    try:
        await service.check_reset_token(token)
    except AccountError as exc:
        return _token_error(request, exc)
    return page(request, "accounts/reset.html", token=token, error=None)


@post("/password/reset/{token:str}")
async def reset_submit(request: Request, token: FromPath[str]) -> Template | Redirect:
    data = await form_data(request)
    try:
        user_id = await service.reset_password(token, data.get("password", ""))
    except AccountError as exc:
        if exc.code == "invalid":
            return page(request, "accounts/reset.html", status_code=422, token=token, error=exc.message)
        return _token_error(request, exc)
    # Every session of the account ended with the reset (new epoch), this browser's too, and
    # so do the live streams the old sessions hold open.
    request.clear_session()
    await reset_streams([user_id])
    flash(request, "Votre mot de passe a été changé : connectez-vous avec le nouveau.", "success")
    return Redirect("/login")


router = Router(opt=space(PUBLIC_ROUTE), 
    path="/",
    route_handlers=[
        signup_page, signup_submit, confirm_page, confirm_submit, resend_page, resend_submit,
        login_page, login_submit, logout, forgot_page, forgot_submit, reset_page, reset_submit,
    ],
)
