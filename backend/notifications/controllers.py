"""HTTP for push: the public key, subscribing a device (JSON from push.js), removing one, preferences.

Subscribing is JSON with the session and the X-CSRFToken header, like any form; errors are
problem+json in French. Removing works with fetch (DELETE) and without JavaScript (a
form posting to …/delete, 303 back to the account page).
"""

from __future__ import annotations

import json

from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response

from backend.accounts.spaces import ACCOUNT, space
from backend.notifications import service
from backend.notifications.service import PushInputError
from backend.lib.web import CurrentUser, flash, require_user

MAX_BODY = 8 * 1024  # a subscription is a few hundred bytes
NOT_YOURS = "Cet appareil n'existe pas ou n'est pas le vôtre."


def _problem(status: int, code: str, detail: str, field: str = "") -> Response:
    body = {"type": "about:blank", "title": "Les données envoyées ne sont pas valides." if status == 422 else "Erreur",
            "status": status, "code": code, "detail": detail}
    if field:
        body["field"] = field
    return Response(body, status_code=status, media_type="application/problem+json")


def _allow_local(request: Request) -> bool:
    settings = request.app.state.settings
    return settings.debug or settings.push_allow_local


@get("/push/key", skip_session=True)
async def public_key(request: Request) -> Response:
    """The VAPID public key: the page passes it to pushManager.subscribe() as applicationServerKey."""
    return Response({"publicKey": request.app.state.settings.vapid_public_key}, headers={"Cache-Control": "no-cache"})


@post("/push/subscriptions")
async def subscribe(request: Request, current: NamedDependency[CurrentUser]) -> Response:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _problem(413, "too_large", "L'abonnement envoyé est trop volumineux.")
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        return _problem(422, "invalid_json", "Le corps doit être du JSON.")
    try:
        endpoint, p256dh, auth = service.validate_subscription(data, allow_local=_allow_local(request))
        sid, created = await service.subscribe(current.id, endpoint, p256dh, auth, request.headers.get("user-agent", ""))
    except PushInputError as exc:
        return _problem(422 if exc.code != "too_many_devices" else 409, exc.code, exc.message_fr, exc.field)
    return Response({"id": sid, "created": created}, status_code=201 if created else 200)


@delete("/push/subscriptions/{subscription_id:int}", status_code=204)
async def remove(current: NamedDependency[CurrentUser], subscription_id: FromPath[int]) -> None:
    if not await service.unsubscribe(current.id, subscription_id):
        raise NotFoundException(NOT_YOURS)


@post("/push/subscriptions/{subscription_id:int}/delete")
async def remove_form(request: Request, current: NamedDependency[CurrentUser], subscription_id: FromPath[int]) -> Redirect:
    """The same without JavaScript: a button in the account page's device list."""
    if not await service.unsubscribe(current.id, subscription_id):
        raise NotFoundException(NOT_YOURS)
    flash(request, "Cet appareil ne recevra plus de notifications.", "success")
    return Redirect("/account#notifications", status_code=303)


@post("/push/preferences")
async def save_preferences(request: Request, current: NamedDependency[CurrentUser]) -> Redirect:
    form = await request.form()
    # With every box unchecked a browser sends no "events" field at all: that means "nothing".
    await service.set_preferences(current.id, {str(v) for v in form.getall("events", [])})
    flash(request, "Vos préférences de notification sont enregistrées.", "success")
    return Redirect("/account#notifications", status_code=303)


router = Router(opt=space(ACCOUNT), 
    path="/", route_handlers=[public_key, subscribe, remove, remove_form, save_preferences],
    dependencies={"current": Provide(require_user)},
)
