"""Errors become French pages for people and problem+json for programs; never a bare 500."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template

from backend.accounts.service import AccountError
from backend.lib.common import MAX_ID
from backend.lib.forms import UnreadableForm
from backend.lib.heavy import Busy
from backend.processing.lifecycle import TransitionError
from backend.lib.blobstore import BlobStoreUnavailable
from backend.lib.db import is_unavailable
from backend.lib.web import ENROLMENT_PAGE, EnrolmentRequired, login_redirect, page

log = logging.getLogger(__name__)

MESSAGES = {
    400: "La requête n'est pas valide.",
    401: "Connectez-vous pour accéder à cette page.",
    403: "Vous n'avez pas le droit d'effectuer cette action.",
    404: "Cette page n'existe pas ou vous n'y avez pas accès.",
    405: "Cette action n'est pas possible sur cette page.",
    409: "Cette action n'est plus possible : la situation a changé entre-temps.",
    413: "Le fichier envoyé est trop volumineux.",
    415: "Ce type de contenu n'est pas accepté.",
    422: "Les données envoyées ne sont pas valides.",
    429: "Trop de demandes : réessayez dans quelques instants.",
    500: "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez dans un instant.",
    503: "Le service est momentanément indisponible : réessayez dans quelques instants.",
}
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         500: "internal_error", 503: "service_unavailable"}
RETRY_AFTER_UNAVAILABLE = "5"  # seconds: PostgreSQL restarts or fails over in about that time


def ids_in_database_range(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard: an int path parameter the database cannot hold names nothing, so 404.

    Guards run before dependencies and handlers, which would otherwise hand the number to
    the database driver and fail with an overflow (a 500) instead of finding no row.
    """
    for value in connection.path_params.values():
        if type(value) is int and not 0 < value <= MAX_ID:
            raise NotFoundException()


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error(request: Request, status: int, message: str, code: str) -> Response | Template:
    if _wants_json(request):
        return Response(
            {"type": "about:blank", "title": MESSAGES.get(status, ""), "status": status, "code": code, "detail": message},
            status_code=status,
            media_type="application/problem+json",
        )
    return page(request, "error.html", status_code=status, status=status, message=message)


def http_exception_handler(request: Request, exc: HTTPException) -> Response | Template:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not _wants_json(request):
        if request.headers.get("hx-request"):
            # htmx would swap the login page into a fragment: ask it for a full navigation.
            return Response("", status_code=401, headers={"HX-Redirect": login_redirect(request).url})
        return login_redirect(request)  # type: ignore[return-value]
    message = MESSAGES.get(status, exc.detail)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in (exc.detail or ""):
        message = "Le formulaire a expiré ou ne provient pas de Facteur. Rechargez la page puis recommencez."
        return _error(request, 403, message, "csrf_failed")
    response = _error(request, status, message, CODES.get(status, "error"))
    if status == 429 and exc.headers and "Retry-After" in exc.headers:
        response.headers["Retry-After"] = exc.headers["Retry-After"]
    return response


def busy_handler(request: Request, exc: Busy) -> Response | Template:
    response = _error(request, exc.status, exc.message, exc.code)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def enrolment_required_handler(request: Request, exc: EnrolmentRequired) -> Response | Template:
    """A gestionnaire still to enrol is sent to the enrolment page, whatever they asked for."""
    if _wants_json(request):
        return _error(request, 403, exc.detail, "two_factor_enrolment_required")
    if request.headers.get("hx-request"):
        return Response("", status_code=403, headers={"HX-Redirect": ENROLMENT_PAGE})
    return Redirect(ENROLMENT_PAGE)


def unreadable_form_handler(request: Request, exc: UnreadableForm) -> Response | Template:
    return _error(request, 400, exc.detail, "unreadable_form")


def account_error_handler(request: Request, exc: AccountError) -> Response | Template:
    if exc.code == "not_found":
        return _error(request, 404, MESSAGES[404], "not_found")
    if exc.code == "space_invalid":  # a form naming a space or a level that does not exist
        return _error(request, 422, exc.message, exc.code)
    return _error(request, 409, exc.message, exc.code)


def transition_error_handler(request: Request, exc: TransitionError) -> Response | Template:
    message = MESSAGES[404] if exc.http_status == 404 else exc.message_fr
    return _error(request, exc.http_status, message, exc.code)


def internal_error_handler(request: Request, exc: Exception) -> Response | Template:
    if is_unavailable(exc):
        # Not a bug: the database is down or restarting. The request's transaction did not
        # commit; the pool reconnects by itself once the server is back.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        response = _error(request, 503, MESSAGES[503], CODES[503])
        response.headers["Retry-After"] = RETRY_AFTER_UNAVAILABLE
        return response
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error(request, 500, MESSAGES[500], "internal_error")


def blob_store_unavailable_handler(request: Request, exc: BlobStoreUnavailable) -> Response | Template:
    # The file store (data folder or object store) failed before the database commit: the
    # change was not recorded, and the files already written are orphans for the clean-up.
    log.warning("file store unavailable on %s %s: %s", request.method, request.url.path, exc)
    response = _error(request, 503, MESSAGES[503], "file_store_unavailable")
    response.headers["Retry-After"] = RETRY_AFTER_UNAVAILABLE
    return response


EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    EnrolmentRequired: enrolment_required_handler,
    UnreadableForm: unreadable_form_handler,
    Busy: busy_handler,
    AccountError: account_error_handler,
    TransitionError: transition_error_handler,
    BlobStoreUnavailable: blob_store_unavailable_handler,
    Exception: internal_error_handler,
}
