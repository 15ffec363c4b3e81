"""Server-side sessions whose id changes at login (no session fixation), written only when
they change: most requests read their session and leave it as it was."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession

from backend.lib.stores import DatabaseStore

_ROTATE = "facteur.rotate_session"
_NEW_ID = "facteur.new_session_id"
_LOADED = "facteur.loaded_session"  # (stored bytes, expiry in Unix seconds) as read


def rotate_session(request: Request) -> None:
    """Ask for a fresh session id when this response is sent; the old id is deleted."""
    request.scope[_ROTATE] = True  # type: ignore[typeddict-unknown-key]


class RotatingSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        store = self.config.get_store_from_app(connection.scope["app"])
        if not session_id or not isinstance(store, DatabaseStore):
            return await super().load_from_connection(connection)
        entry = await store.get_entry(session_id)
        if entry is None:
            return {}
        connection.scope[_LOADED] = entry  # type: ignore[typeddict-unknown-key]
        return self.deserialize_data(entry[0])

    def _unchanged(self, scope_session: ScopeSession, connection: ASGIConnection) -> bool:
        """Same data as read, same id, and far from expiring: writing it again would only
        cost a database write on every page. Past half its life it is written again, so an
        active person's session slides forward."""
        loaded = connection.scope.get(_LOADED)
        if loaded is None or scope_session is Empty or connection.scope.get(_ROTATE):
            return False
        data, expires_at = loaded
        max_age = int(self.config.max_age)
        fresh = expires_at is not None and expires_at - time.time() > max_age / 2
        return fresh and self.serialize_data(scope_session, connection.scope) == data

    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get(_NEW_ID)
        return new_id or super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        if self._unchanged(scope_session, connection):
            return  # the cookie the browser holds is still the right one
        scope = connection.scope
        if scope.get(_ROTATE) and not scope.get(_NEW_ID):
            old_id = connection.cookies.get(self.config.key)
            if old_id:
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[typeddict-unknown-key]
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
