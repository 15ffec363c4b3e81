"""The thread of an invoice page: read (fragment), post (htmx or a plain form), download a file.

Everyone outside the invoice's two structures gets 404, on every route. Posting works
without JavaScript (303 back to the invoice page); with htmx the response is the thread
section itself, errors included (4xx, swapped in place by app.js for [data-swap-errors]).
"""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from backend.accounts.spaces import ACCOUNT, CONSULTATION, INVOICES, space
from backend.invoices import access, storage
from backend.invoices.invoice_page import invoice_page_context
from backend.lib.uploads import read_uploads
from backend.messages import question_controllers, service
from backend.messages.service import MessageError
from backend.lib.web import CurrentUser, flash, form_data, page, require_user
from backend.works.pieces import CONTEST_CLOSED, contest_closed

THREAD = "messages/_thread.html"


def _raise_http(exc: MessageError) -> None:
    if exc.http_status == 404:
        raise NotFoundException(access.NOT_FOUND)
    raise PermissionDeniedException(exc.message_fr)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@get("/invoices/{invoice_id:int}/messages", opt=space(INVOICES))
async def thread_fragment(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template:
    invoice = await access.visible_invoice(current, invoice_id)
    context = await service.thread_context(invoice, current)
    if not context["thread"]["visible"]:
        raise PermissionDeniedException(context["thread"]["reason"])
    return page(request, THREAD, invoice=invoice, **context)


@post("/invoices/{invoice_id:int}/messages", opt=space(INVOICES, level=CONSULTATION))
async def thread_post(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template | Redirect:
    invoice = await access.visible_invoice(current, invoice_id)
    data = await form_data(request)
    try:
        closed = await contest_closed(invoice.id, current.structure_id)  # a works statement's 30 days to contest
        if closed:
            raise MessageError(CONTEST_CLOSED, closed, 422)
        files = await read_uploads(request, "file")
        await service.post_message(request.app.state.settings, invoice.id, current.id, current.structure_id, data.get("body"), files)
    except MessageError as exc:
        if exc.http_status in (403, 404):
            _raise_http(exc)
        return await _refused(request, current, invoice, exc, data.get("body") or "")
    if _is_htmx(request):
        return page(request, THREAD, status_code=201, invoice=invoice, **await service.thread_context(invoice, current))
    flash(request, "Message envoyé.", "success")
    return Redirect(f"/invoices/{invoice.id}#messages", status_code=303)


async def _refused(request: Request, current: CurrentUser, invoice, exc: MessageError, draft: str) -> Template:
    """The form again with the French error and what was typed (files must be chosen again)."""
    draft = draft[: service.MAX_BODY * 2]  # re-displayed, not stored: bounded anyway
    if _is_htmx(request):
        context = await service.thread_context(invoice, current, error=exc.message_fr, draft=draft, error_code=exc.code)
        return page(request, THREAD, status_code=exc.http_status, invoice=invoice, **context)
    context = await invoice_page_context(current, invoice.id)
    context["thread"] = (await service.thread_context(invoice, current, error=exc.message_fr, draft=draft, error_code=exc.code))["thread"]
    return page(request, "invoices/invoice.html", status_code=exc.http_status, **context)


@get("/invoices/{invoice_id:int}/messages/attachments/{attachment_id:int}", opt=space(INVOICES))
async def thread_attachment(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int], attachment_id: FromPath[int]) -> Response:
    try:
        row = await service.attachment_for(invoice_id, attachment_id, current.id, current.structure_id)
    except MessageError as exc:
        _raise_http(exc)
        raise
    return attachment_response(await storage.read_blob(request.app.state.settings, row["file.sha256"]), row)


def attachment_response(data: bytes, row: dict) -> Response:
    """A message's file as a download, never rendered in the site's origin."""
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in row["filename"]) or "piece-jointe"
    return Response(data, media_type=row["media_type"], headers={
        "Content-Disposition": f'attachment; filename="{safe_name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    })


@get("/notifications/badge", opt=space(ACCOUNT))
async def unread_badge(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    """The bottom navigation's unread count, refreshed on every `sse:changed`."""
    count = await service.unread_count_for_structure(current.structure_id)
    return Template(template_name="messages/_badge.html", context={"unread": count})


router = Router(path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[thread_fragment, thread_post, thread_attachment, unread_badge, *question_controllers.route_handlers])
