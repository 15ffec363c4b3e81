"""A capture draft's photos and files: added as soon as chosen, shown, opened, removed."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.invoices import access, draft_files
from backend.invoices.controllers import _file_response
from backend.lib.uploads import read_uploads
from backend.invoices.tables import InvoiceDraft
from backend.lib.web import CurrentUser, flash, page


async def _draft(current: CurrentUser, draft_id: int) -> InvoiceDraft:
    """The draft of the active structure (as capture_controllers._draft; imported from there
    it would be a cycle: that router lists these handlers)."""
    structure_id = access.require_active_right(current, "can_deposit")
    draft = await InvoiceDraft.objects().get((InvoiceDraft.id == draft_id) & (InvoiceDraft.structure == structure_id))
    if draft is None:
        raise NotFoundException(access.NOT_FOUND)
    return draft


async def attachments_block(request: Request, draft_id: int, refusals: list[str] | None = None, status: int = 200) -> Template:
    return page(request, "invoices/_capture_attachments.html", status_code=status, draft_id=draft_id,
                attachments=await draft_files.listed(draft_id), attachment_refusals=refusals or [])


def _answer(request: Request, draft_id: int, refusals: list[str]) -> Redirect | None:
    """Without htmx (no JavaScript): back to the draft, the refusals said there."""
    if request.headers.get("hx-request"):
        return None
    for refusal in refusals:
        flash(request, refusal, "error")
    return Redirect(f"/capture/{draft_id}")


@post("/capture/{draft_id:int}/attachments")
async def attachments_add(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int]) -> Template | Redirect:
    draft = await _draft(current, draft_id)
    refusals = await draft_files.add(request.app.state.settings, draft.id, await read_uploads(request, "attachment"))
    return _answer(request, draft.id, refusals) or await attachments_block(request, draft.id, refusals, 422 if refusals else 200)


@post("/capture/{draft_id:int}/attachments/{attachment_id:int}/delete")
async def attachment_remove(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int],
                            attachment_id: FromPath[int]) -> Template | Redirect:
    draft = await _draft(current, draft_id)
    await draft_files.remove(draft.id, attachment_id)  # already gone (another device): same page
    return _answer(request, draft.id, []) or await attachments_block(request, draft.id)


@get("/capture/{draft_id:int}/attachments/{attachment_id:int}")
async def attachment_file(request: Request, current: NamedDependency[CurrentUser], draft_id: FromPath[int],
                          attachment_id: FromPath[int], inline: FromQuery[bool] = False) -> Response:
    draft = await _draft(current, draft_id)
    found = await draft_files.stored_file(draft.id, attachment_id)
    if found is None:
        raise NotFoundException(access.NOT_FOUND)
    return await _file_response(request, found["file"], found["filename"], inline)


route_handlers = [attachments_add, attachment_remove, attachment_file]
