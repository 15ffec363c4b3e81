"""Server-side sessions whose id changes at login (no session fixation)."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Message, ScopeSession

_ROTATE = "facteur.rotate_session"
_NEW_ID = "facteur.new_session_id"


def rotate_session(request: Request) -> None:
    """Ask for a fresh session id when this response is sent; the old id is deleted."""
    request.scope[_ROTATE] = True  # type: ignore[typeddict-unknown-key]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get(_NEW_ID)
        return new_id or super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        scope = connection.scope
        if scope.get(_ROTATE) and not scope.get(_NEW_ID):
            old_id = connection.cookies.get(self.config.key)
            if old_id:
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[typeddict-unknown-key]
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
