"""Questions to a public structure (threads without an invoice): ask, list, read, answer, download.

    POST /questions                             ask, from a directory page (form: recipient SIRET, subject, body, files)
    GET  /questions                             the active structure's questions, asked or received
    GET  /questions/{id}                        page: the question and its thread (marks it read)
    GET  /questions/{id}/messages               fragment: the thread (the live refresh fetches it)
    POST /questions/{id}/messages               answer (htmx or a plain form)
    GET  /questions/{id}/attachments/{file id}  a file of the thread

Everyone outside the question's two structures gets 404, on every route. Refused input gets
its French message in place with what was typed, and a 4xx; nothing is written.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from backend.accounts.spaces import TICKETS, space
from backend.invoices import storage
from backend.directory.structure_page import structure_context
from backend.lib.uploads import read_uploads
from backend.lib.web import CurrentUser, flash, form_data, page
from backend.messages import questions, service
from backend.messages.service import MessageError

THREAD = "messages/_thread.html"
QUESTION = "messages/question.html"


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _raise_http(exc: MessageError) -> None:
    if exc.http_status == 404:
        raise NotFoundException(exc.message_fr)
    raise PermissionDeniedException(exc.message_fr)


@post("/questions", opt=space(TICKETS))
async def ask(request: Request, current: NamedDependency[CurrentUser]) -> Template | Redirect:
    data = await form_data(request)
    try:
        files = await read_uploads(request, "file")
        question_id = await questions.ask(request.app.state.settings, current, data.get("recipient"), data.get("subject"),
                                          data.get("body"), files)
    except MessageError as exc:
        if exc.code == "structure_not_found":
            _raise_http(exc)
        return await _ask_refused(request, current, data, exc)
    flash(request, "Question envoyée : les agents de la structure sont prévenus.", "success")
    return Redirect(f"/questions/{question_id}", status_code=303)


async def _ask_refused(request: Request, current: CurrentUser, data: dict, exc: MessageError) -> Template:
    """The directory page again, with the French error and what was typed (files must be chosen again)."""

    structure = await questions.public_structure(data.get("recipient"))  # found already: ask() checks it first
    context = await structure_context(current, structure)
    context["question"].update(error=exc.message_fr, subject=(data.get("subject") or "")[: questions.MAX_SUBJECT * 2],
                               draft=(data.get("body") or "")[: service.MAX_BODY * 2])
    return page(request, "directory/structure.html", status_code=exc.http_status, **context)


@get("/questions", opt=space(TICKETS))
async def question_list(request: Request, current: NamedDependency[CurrentUser]) -> Template:
    return page(request, "messages/questions.html", questions=await questions.questions_of(current.structure_id),
                is_public=bool(current.active and current.active["structure"].get("is_public")))


async def _context(question_id: int, current: CurrentUser, **kwargs) -> dict:
    try:
        return await questions.question_context(question_id, current, **kwargs)
    except MessageError as exc:
        _raise_http(exc)
        raise


@get("/questions/{question_id:int}", opt=space(TICKETS))
async def question_page(request: Request, current: NamedDependency[CurrentUser], question_id: FromPath[int]) -> Template:
    return page(request, QUESTION, **await _context(question_id, current))


@get("/questions/{question_id:int}/messages", opt=space(TICKETS))
async def question_thread(request: Request, current: NamedDependency[CurrentUser], question_id: FromPath[int]) -> Template:
    return page(request, THREAD, **await _context(question_id, current))


@post("/questions/{question_id:int}/messages", opt=space(TICKETS))
async def question_answer(request: Request, current: NamedDependency[CurrentUser], question_id: FromPath[int]) -> Template | Redirect:
    try:
        await questions.check_access(question_id, current)  # 404/403 before the form is read
    except MessageError as exc:
        _raise_http(exc)
    data = await form_data(request)
    try:
        files = await read_uploads(request, "file")
        await questions.answer(request.app.state.settings, question_id, current.id, current.structure_id, data.get("body"), files)
    except MessageError as exc:
        if exc.http_status in (403, 404):
            _raise_http(exc)
        draft = (data.get("body") or "")[: service.MAX_BODY * 2]
        context = await _context(question_id, current, error=exc.message_fr, draft=draft)
        return page(request, THREAD if _is_htmx(request) else QUESTION, status_code=exc.http_status, **context)
    if _is_htmx(request):
        return page(request, THREAD, status_code=201, **await _context(question_id, current))
    flash(request, "Message envoyé.", "success")
    return Redirect(f"/questions/{question_id}#messages", status_code=303)


@get("/questions/{question_id:int}/attachments/{attachment_id:int}", opt=space(TICKETS))
async def question_attachment(request: Request, current: NamedDependency[CurrentUser], question_id: FromPath[int],
                              attachment_id: FromPath[int]) -> Response:
    try:
        row = await questions.attachment_for(question_id, attachment_id, current.id, current.structure_id)
    except MessageError as exc:
        _raise_http(exc)
        raise
    from backend.messages.controllers import attachment_response

    return attachment_response(await storage.read_blob(request.app.state.settings, row["file.sha256"]), row)


route_handlers = [ask, question_list, question_page, question_thread, question_answer, question_attachment]
