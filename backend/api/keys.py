"""Creating, listing and revoking a structure's API keys (account pages and CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.api.auth import SCOPES, display_prefix, hash_key, new_secret
from backend.api.tables import ApiKey
from backend.lib.common import utcnow
from backend.directory.tables import Structure

MAX_NAME = 100


class KeyError_(ValueError):
    """A key that cannot be created as asked; the message is French, for the person."""


@dataclass(frozen=True)
class NewKey:
    id: int
    secret: str  # shown once, never stored
    prefix: str
    scopes: tuple[str, ...]


def parse_scopes(raw: list[str] | str) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    scopes = {s.strip().lower() for s in items if s and s.strip()}
    unknown = scopes - set(SCOPES)
    if unknown:
        raise KeyError_(f"Permission inconnue : {', '.join(sorted(unknown))} (possibles : {', '.join(SCOPES)}).")
    if not scopes:
        raise KeyError_("Choisissez au moins une permission pour la clé.")
    return tuple(s for s in SCOPES if s in scopes)


async def create_key(structure: Structure, name: str, scopes: tuple[str, ...], created_by: int | None) -> NewKey:
    name = " ".join((name or "").split())[:MAX_NAME] or "Clé d'API"
    if "process" in scopes and not structure.is_public:
        raise KeyError_("La permission « process » (traiter les factures reçues) est réservée aux entités publiques.")
    secret = new_secret()
    rows = await ApiKey.insert(ApiKey(
        structure=structure.id, name=name, prefix=display_prefix(secret), key_hash=hash_key(secret),
        scopes=",".join(scopes), created_by=created_by,
    )).returning(ApiKey.id)
    return NewKey(rows[0]["id"], secret, display_prefix(secret), scopes)


async def list_keys(structure_id: int) -> list[dict]:
    rows = await ApiKey.select(
        ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.scopes, ApiKey.created_at, ApiKey.last_used_at, ApiKey.revoked_at,
    ).where(ApiKey.structure == structure_id).order_by(ApiKey.id, ascending=False)
    for row in rows:
        row["scope_list"] = [s for s in row["scopes"].split(",") if s]
    return rows


async def revoke_key(structure_id: int, key_id: int) -> bool:
    """False when the key is not this structure's (or already revoked): nothing changes."""
    done = await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(
        (ApiKey.id == key_id) & (ApiKey.structure == structure_id) & ApiKey.revoked_at.is_null()
    ).returning(ApiKey.id)
    return bool(done)
