"""Who calls the API: a structure's key, from `Authorization: Bearer <key>`.

Keys are 256-bit random secrets, so their SHA-256 is enough to store them (a slow
password hash protects guessable secrets, not these). The API never reads nor sets
cookies: the principal is the key, nothing else.

Contract (CONTRACTS.md): `api_principal` (a dependency) -> ApiPrincipal, and
`require_scope(principal, "read")` raising the problem+json 403.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from litestar import Request

from backend.accounts.spaces import SCOPE_SPACES
from backend.accounts.tables import StructureSpaces
from backend.api.problems import ApiProblem
from backend.api.tables import ApiKey
from backend.lib.common import utcnow
from backend.lib.stores import DatabaseStore
from backend.processing.lifecycle import Actor

SCOPES = ("deposit", "read", "process", "directory")
SCOPE_LABELS = {
    "deposit": "Déposer des factures et répondre aux demandes (compléter, recycler)",
    "read": "Consulter les factures émises et reçues",
    "process": "Traiter les factures reçues (structures publiques)",
    "directory": "Consulter l'annuaire",
}
KEY_PREFIX = "fct_"
LAST_USE_PRECISION = timedelta(minutes=1)  # one UPDATE per key per minute at most
RATE_WINDOW = 60  # seconds


@dataclass(frozen=True)
class ApiPrincipal:
    key_id: int
    structure_id: int
    scopes: frozenset[str]
    key_name: str = ""
    # The spaces the structure's gestionnaire activated, or None when they never chose (no limit).
    spaces: tuple[str, ...] | None = None

    def actor(self, role: str) -> Actor:
        """The key acting on an invoice for its structure, on `role`'s side."""
        return Actor(role, api_structure_id=self.structure_id, api_key_id=self.key_id, api_key_name=self.key_name)


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + 8]


def unauthenticated(detail: str = "Clé d'API absente ou invalide : envoyez l'en-tête Authorization: Bearer <clé>.") -> ApiProblem:
    return ApiProblem(401, "unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="facteur"'})


def _bearer(request: Request) -> str | None:
    raw = request.headers.get("authorization", "")
    scheme, _, token = raw.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


async def api_principal(request: Request) -> ApiPrincipal:
    """The dependency of every /api/v1 handler: 401 without a valid key, 429 past the rate limit."""
    if "api_principal" in request.state:
        return request.state.api_principal
    token = _bearer(request)
    if token is None:
        raise unauthenticated()
    digest = hash_key(token)
    row = await ApiKey.select(ApiKey.id, ApiKey.structure, ApiKey.scopes, ApiKey.name, ApiKey.last_used_at).where(
        (ApiKey.key_hash == digest) & ApiKey.revoked_at.is_null()
    ).first()
    if row is None:
        raise unauthenticated()
    chosen = await StructureSpaces.select(StructureSpaces.spaces).where(StructureSpaces.structure == row["structure"]).first()
    principal = ApiPrincipal(row["id"], row["structure"], frozenset(s for s in row["scopes"].split(",") if s), row["name"],
                             tuple(c for c in chosen["spaces"].split(",") if c) if chosen else None)
    await _rate_limit(request, digest)
    await _touch(row)
    request.state.api_principal = principal
    return principal


def require_scope(principal: ApiPrincipal, scope: str) -> None:
    """The key holds the scope, and the space it stands for is active (a space the gestionnaire
    switched off is off for the structure's keys too; backend/accounts/spaces.py SCOPE_SPACES)."""
    if scope not in principal.scopes:
        raise ApiProblem(403, "missing_scope", f"Cette clé d'API n'a pas la permission « {scope} ».")
    wanted = SCOPE_SPACES.get(scope)
    if wanted and principal.spaces is not None and not set(wanted) & set(principal.spaces):
        raise ApiProblem(403, "space_inactive",
                         f"La permission « {scope} » porte sur un espace que le gestionnaire de la structure a désactivé.")


async def _touch(row: dict) -> None:
    now = utcnow()
    last = row["last_used_at"]
    if last is None or now - last >= LAST_USE_PRECISION:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == row["id"])


async def _rate_limit(request: Request, digest: str) -> None:
    """A fixed-window counter per key in the throttle store (the database)."""
    store = request.app.stores.get("throttle")
    limit = request.app.state.get("api_rate_limit") or request.app.state.settings.api_rate_limit
    now = int(time.time())
    window = now // RATE_WINDOW
    # Named by the key's hash, not its row id: ids restart when a database is recreated.
    if await _count(store, f"api:{digest[:20]}:{window}") > limit:
        retry = RATE_WINDOW - now % RATE_WINDOW
        raise ApiProblem(
            429, "rate_limited", f"Limite de {limit} requêtes par minute atteinte pour cette clé : réessayez dans {retry} s.",
            headers={"Retry-After": str(retry)},
        )


async def _count(store: DatabaseStore, name: str) -> int:
    """This request's number in its window, counted atomically in the database: a burst of
    concurrent requests, on any process or host, cannot all read the same count and pass."""
    return await store.increment(name, RATE_WINDOW + 1)
