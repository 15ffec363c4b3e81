"""The gestionnaire's webhook pages: list, create (secret shown once), delete, delivery log, "Renvoyer"."""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import MANAGER, space
from backend.accounts.memberships import managed_structure
from backend.directory.tables import Structure
from backend.webhooks import service
from backend.lib.web import CurrentUser, flash, form_data, page, require_user

PAGE_RECENT = 5
LOG_PAGE = 50


async def _page(request: Request, structure: Structure, *, new=None, error: str | None = None,
                form: dict | None = None, status: int = 200) -> Template:
    hooks = await service.list_webhooks(structure.id)
    for hook in hooks:
        hook["deliveries"] = await service.deliveries(structure.id, hook["id"], limit=PAGE_RECENT, with_attempts=False)
    return page(request, "webhooks/webhooks.html", status_code=status, structure=structure, hooks=hooks, new=new,
                error=error, form=form or {"events": list(service.EVENTS)}, events=service.EVENTS,
                event_labels=service.EVENT_LABELS, status_labels=service.STATUS_LABELS)


@get("/structures/{structure_id:int}/webhooks")
async def webhooks_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    return await _page(request, await managed_structure(current.id, structure_id))


@post("/structures/{structure_id:int}/webhooks")
async def webhook_create(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    structure = await managed_structure(current.id, structure_id)
    form = await request.form()
    url = str(form.get("url", ""))
    chosen = [str(v) for v in form.getall("events")] if "events" in form else []
    settings = request.app.state.settings
    try:
        new = await service.create_webhook(structure.id, url, chosen, app_secret=settings.secret_key,
                                           allow_local=settings.webhook_allow_local, user_id=current.id)
    except service.WebhookError as exc:
        return await _page(request, structure, error=exc.message, form={"url": url, "events": chosen}, status=exc.http_status)
    # Rendered, not redirected: the secret must never sit in a session or a URL.
    return await _page(request, structure, new=new, status=201)


@post("/structures/{structure_id:int}/webhooks/{webhook_id:int}/delete")
async def webhook_delete(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                         webhook_id: FromPath[int]) -> Redirect:
    await managed_structure(current.id, structure_id)
    await _or_404(service.delete_webhook(structure_id, webhook_id))
    flash(request, "Le webhook est supprimé : plus aucun événement ne lui sera envoyé.", "success")
    return Redirect(f"/structures/{structure_id}/webhooks")


@post("/structures/{structure_id:int}/webhooks/{webhook_id:int}/active")
async def webhook_active(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                         webhook_id: FromPath[int]) -> Redirect:
    await managed_structure(current.id, structure_id)
    active = (await form_data(request)).get("active") == "1"
    await _or_404(service.set_active(structure_id, webhook_id, active))
    flash(request, "Le webhook est réactivé : il reçoit de nouveau les événements." if active else
          "Le webhook est suspendu : plus rien ne lui est envoyé jusqu'à sa réactivation.", "success")
    return Redirect(f"/structures/{structure_id}/webhooks")


@get("/structures/{structure_id:int}/webhooks/{webhook_id:int}")
async def webhook_log(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                      webhook_id: FromPath[int]) -> Template:
    structure = await managed_structure(current.id, structure_id)
    hook = await _or_404(service.get_webhook(structure_id, webhook_id))
    rows = await service.deliveries(structure_id, webhook_id, limit=LOG_PAGE)
    return page(request, "webhooks/log.html", structure=structure, hook=hook, deliveries=rows,
                status_labels=service.STATUS_LABELS)


@post("/structures/{structure_id:int}/webhooks/{webhook_id:int}/deliveries/{delivery_id:str}/redeliver")
async def webhook_redeliver(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int],
                            webhook_id: FromPath[int], delivery_id: FromPath[str]) -> Redirect:
    await managed_structure(current.id, structure_id)
    row = await _or_404(service.redeliver(structure_id, webhook_id, delivery_id[:40]))
    if row["delivery_id"] == delivery_id:
        flash(request, "La livraison en attente est relancée maintenant.", "success")
    else:
        flash(request, "L'événement est renvoyé : une nouvelle livraison apparaît dans le journal.", "success")
    return Redirect(f"/structures/{structure_id}/webhooks/{webhook_id}")


async def _or_404(awaitable):
    from backend.accounts.memberships import NOT_FOUND

    try:
        return await awaitable
    except service.WebhookError as exc:
        if exc.http_status == 404:
            raise NOT_FOUND from None
        raise


router = Router(opt=space(MANAGER), path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[webhooks_page, webhook_create, webhook_active, webhook_delete, webhook_log, webhook_redeliver])
