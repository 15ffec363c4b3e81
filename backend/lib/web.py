"""What every page needs: the signed-in user, their active structure, flashes, rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template

from backend.accounts import spaces, twofactor
from backend.accounts.memberships import user_structures
from backend.accounts.tables import User
from backend.lib.db import get_object
from backend.tracking.events import latest_event_id


@dataclass
class CurrentUser:
    id: int
    email: str
    first_name: str
    last_name: str
    memberships: list[dict] = field(default_factory=list)
    active: dict | None = None  # the active membership, with its structure
    # The newest event when the page was made: its live stream resumes from there, so a
    # change committed between the page and the stream opening is not missed.
    live_from: int = 0
    # A gestionnaire who must have a second factor and has none: only the enrolment page is open.
    must_enrol: bool = False

    @property
    def structure_id(self) -> int | None:
        return self.active["structure"]["id"] if self.active else None

    @property
    def is_manager(self) -> bool:
        return bool(self.active and self.active["is_manager"])

    def may(self, space: str, level: str = spaces.CONSULTATION) -> bool:
        """Whether the active structure has this space active and the person holds `level` there
        (`spaces.INVOICES`: the side's invoice space)."""
        if not self.active:
            return False
        code = spaces.resolve(space, bool(self.active["structure"]["is_public"]))
        return spaces.allows(self.active.get("spaces", {}).get(code), level)

    @property
    def space_rights(self) -> dict[str, str]:
        return self.active.get("spaces", {}) if self.active else {}

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


NOT_FOUND_TEXT = "Cette page n'existe pas ou vous n'y avez pas accès."


class EnrolmentRequired(HTTPException):
    """A page asked by a gestionnaire who must first set up two-factor login."""

    status_code = 403
    detail = "Configurez d'abord la double authentification, obligatoire pour les gestionnaires."


ENROLMENT_PAGE = "/account/security"


async def load_current_user(request: Request, *, for_page: bool = True) -> CurrentUser | None:
    """The fully signed-in user of this session, or None (also for a gestionnaire who has
    still to enrol a second factor: see `load_enrolling_user`)."""
    current = await load_enrolling_user(request, for_page=for_page)
    return None if current is None or current.must_enrol else current


async def load_enrolling_user(request: Request, *, for_page: bool = True) -> CurrentUser | None:
    """The user of this session, or None; cached on the request. `live_from` is read only
    for what may be a whole page: htmx fragments and the live stream never render <body>."""
    if "current_user" in request.state:
        return request.state.current_user
    user_id = request.session.get("user_id") if _has_session(request) else None
    current = None
    if user_id:
        user = await get_object(User, "id = {} AND is_active = {}", user_id, True)  # on every signed-in request
        if user is not None and request.session.get("epoch", 0) != user.session_epoch:
            user = None  # opened before a password reset: that session is over
            request.clear_session()
        if user is not None:
            memberships = await user_structures(user.id)
            wanted = request.session.get("structure_id")
            active = next((m for m in memberships if m["structure"]["id"] == wanted), None)
            active = active or (memberships[0] if memberships else None)
            whole_page = for_page and not request.headers.get("hx-request")
            current = CurrentUser(user.id, user.email, user.first_name, user.last_name, memberships, active,
                                  await latest_event_id() if whole_page else 0,
                                  must_enrol=await _must_enrol(request, user.id, memberships))
    request.state.current_user = current
    return current


async def _must_enrol(request: Request, user_id: int, memberships: list[dict]) -> bool:
    """A session that passed a second factor (or set one up) never asks the database again;
    else a gestionnaire under the "managers" policy needs one, even one promoted mid-session."""
    if request.session.get("two_factor") or not twofactor.required_for(request.app.state.settings, memberships):
        return False
    return not await twofactor.has_second_factor(user_id)


async def require_user(request: Request) -> CurrentUser:
    """Dependency for signed-in pages: raises 401, which the error handler turns into /login,
    or EnrolmentRequired, which it turns into the enrolment page."""
    current = await require_enrolling_user(request)
    if current.must_enrol:
        raise EnrolmentRequired()
    return current


async def require_enrolling_user(request: Request) -> CurrentUser:
    """Dependency for the "Sécurité" pages, the only ones open to a gestionnaire still to enrol."""
    current = await load_enrolling_user(request)
    if current is None:
        raise NotAuthorizedException("Connectez-vous pour accéder à cette page.")
    return current


async def form_data(request: Request) -> dict[str, str]:
    """The text fields of a posted form (file parts are read by the handlers that want them)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _has_session(request: Request) -> bool:
    # After clear_session() the scope holds an "Empty" marker, not a dict.
    return isinstance(request.scope.get("session"), dict)


def flash(request: Request, message: str, level: str = "info") -> None:
    if not _has_session(request):
        request.set_session({})
    request.session.setdefault("flash", []).append({"message": message, "level": level})


def pop_flashes(request: Request) -> list[dict]:
    if not _has_session(request):
        return []
    return request.session.pop("flash", []) if "flash" in request.session else []


def page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> Template:
    context.setdefault("current", request.state.get("current_user"))
    # Only a whole page shows the flashes (base.html). An htmx fragment asked for meanwhile (a
    # badge refreshed by the live events of the change that flashed) must leave them to the page.
    fragment = request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
    context["flashes"] = [] if fragment else pop_flashes(request)
    context["path"] = request.url.path
    return Template(template_name=template, context=context, status_code=status_code)


def login_redirect(request: Request) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target)}")


def safe_next(raw: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/"
