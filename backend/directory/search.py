"""Directory look-ups: search public structures by name, SIRET or city.

Accents, case, hyphens and apostrophes never matter: the query and the stored search key
(name, postal code, city) both go through `fold`. A query of digits only (spaces and dots
allowed) is a SIRET prefix, and with up to 5 digits also a postal code. Otherwise every
word of the query must match, and results come in this order:

1. names starting with the query, the exact name first ("commune de paris");
2. every word starts a word of the key ("st eti", "jean moulin lyon"; 2 letters suffice);
3. every word appears anywhere ("bourg" finds "Villebourg"; 3 letters needed).

Within a group: active before inactive (inactive structures are kept and flagged: an
invoice to them would be refused), then alphabetical. At most 20 results. A query of
1-letter words only lists the names starting with it.

Speed on 150,000 structures (bench/directory/RESULTS.md): B-tree ranges for the SIRET and
the name prefix; for words, a trigram index over ' ' || search_key (the leading space
makes " sai" mean "a word starting with sai"): FTS5 `trigram` table kept in sync by
triggers on SQLite, pg_trgm GIN index on PostgreSQL (migration directory_search_indexes).
"""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine

from backend.lib.common import fold
from backend.lib.db import engine
from backend.directory.tables import Service, Structure

MAX_RESULTS = 20
MAX_QUERY = 100
MAX_WORDS = 8
PREFIX_WINDOW = 100  # name-prefix candidates ranked in Python (exact names first)
CANDIDATES = 5000  # most rows ranked by a word search (see _by_words)

_COLUMNS = "s.id, s.siret, s.name, s.postal_code, s.city, s.active, s.search_key"


def search_key_for(name: str, postal_code: str = "", city: str = "") -> str:
    """What the search compares: folded name, postal code and city."""
    return fold(f"{name} {postal_code} {city}")


def _postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _next_string(text: str) -> str:
    """The smallest string greater than every string starting with `text` (byte order)."""
    return text[:-1] + chr(ord(text[-1]) + 1)


def _result(row: dict) -> dict:
    return {k: row[k] for k in ("id", "siret", "name", "postal_code", "city")} | {"active": bool(row["active"])}


async def search_structures(query: str, limit: int = MAX_RESULTS) -> list[dict]:
    """Public structures matching the query, best first (see the module docstring)."""
    text = fold(query or "")[:MAX_QUERY].strip()
    if not text or limit <= 0:
        return []
    found: list[dict] = []
    compact = "".join(c for c in query if c not in " .\u00a0\u202f")
    if compact.isdigit():
        found += await _by_siret_prefix(compact[:14], limit)
        if len(compact) > 5:
            return [_result(row) for row in found[:limit]]
    words = list(dict.fromkeys(text.split()))[:MAX_WORDS]
    steps = (
        lambda: _by_name_prefix(text),
        lambda: _by_words(words, limit + len(found), word_start=True),
        lambda: _by_words(words, limit + len(found), word_start=False),
    )
    for step in steps:
        if len(found) >= limit:
            break
        found += _without(await step(), found)
    return [_result(row) for row in found[:limit]]


def _without(rows: list[dict], already: list[dict]) -> list[dict]:
    seen = {row["id"] for row in already}
    return [row for row in rows if row["id"] not in seen]


def _public() -> str:
    # On SQLite the unary + keeps the planner off the (useless) is_public index.
    return "s.is_public" if _postgres() else "+s.is_public = 1"


async def _by_siret_prefix(digits: str, limit: int) -> list[dict]:
    low, high = digits.ljust(14, "0"), digits.ljust(14, "9")
    return await Structure.raw(
        f"SELECT {_COLUMNS} FROM structure s WHERE s.siret >= {{}} AND s.siret <= {{}} AND {_public()} "
        "ORDER BY s.siret LIMIT {}",
        low, high, limit,
    )


async def _by_name_prefix(text: str) -> list[dict]:
    """Names starting with the text: exact names first, then active ones, then alphabetical."""
    # Byte-order comparison so the B-tree range is exact whatever the database collation.
    key = 's.search_key COLLATE "C"' if _postgres() else "s.search_key"
    rows = await Structure.raw(
        f"SELECT {_COLUMNS} FROM structure s WHERE {key} >= {{}} AND {key} < {{}} AND {_public()} "
        f"ORDER BY {key} LIMIT {{}}",
        text, _next_string(text), PREFIX_WINDOW,
    )
    return sorted(rows, key=lambda r: (fold(r["name"]) != text, not r["active"], r["search_key"]))


async def _by_words(words: list[str], limit: int, word_start: bool) -> list[dict]:
    """Every word at the start of a word of the key (word_start) or anywhere in it.

    The trigram index finds candidates from the words long enough for it (" ab" is three
    characters, so 2 letters suffice at a word start, 3 elsewhere); LIKE checks every word
    on them. At most CANDIDATES candidates are ranked: beyond that (a query as vague as
    "saint" on 150,000 structures) the results are right but not the alphabetical first.
    """
    prefix = " " if word_start else ""
    indexed = [w for w in words if len(prefix + w) >= 3]
    if not indexed:
        return []
    likes = [f"%{prefix}{_like_escape(w)}%" for w in words]
    checks = " AND ".join("(' ' || s.search_key) LIKE {} ESCAPE '\\'" for _ in words)
    order = "ORDER BY CASE WHEN active THEN 0 ELSE 1 END, search_key LIMIT {}"
    if _postgres():
        # pg_trgm GIN index on (' ' || search_key) serves the LIKE patterns.
        return await Structure.raw(
            f"SELECT * FROM (SELECT {_COLUMNS} FROM structure s WHERE s.is_public AND {checks} LIMIT {CANDIDATES}) c {order}",
            *likes, limit,
        )
    match = " AND ".join('"' + (prefix + w).replace('"', '""') + '"' for w in indexed)
    return await Structure.raw(
        f"SELECT * FROM (SELECT {_COLUMNS} FROM (SELECT rowid AS id FROM structure_fts WHERE structure_fts MATCH {{}} "
        f"LIMIT {CANDIDATES}) f JOIN structure s ON s.id = f.id WHERE {_public()} AND {checks}) c {order}",
        match, *likes, limit,
    )


async def public_structure(siret: str) -> Structure | None:
    return await Structure.objects().get((Structure.siret == siret) & (Structure.is_public == True))  # noqa: E712


async def active_services(structure_id: int) -> list[dict]:
    return (
        await Service.select(Service.id, Service.code, Service.name, Service.requires_engagement)
        .where((Service.structure == structure_id) & (Service.active == True))  # noqa: E712
        .order_by(Service.code)
    )
