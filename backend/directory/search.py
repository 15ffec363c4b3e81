"""Directory look-ups: search public structures by name, SIRET or city."""

from __future__ import annotations

from backend.common import fold
from backend.directory.tables import Service, Structure

MAX_RESULTS = 20


async def search_structures(query: str, limit: int = MAX_RESULTS) -> list[dict]:
    text = fold(query)[:100]
    digits = "".join(c for c in query if c.isdigit())
    if digits and len(digits) == len(query.replace(" ", "")):
        where = Structure.siret.like(f"{digits}%")
    else:
        where = Structure.search_key.like(f"%{text}%")
    return (
        await Structure.select(Structure.id, Structure.siret, Structure.name, Structure.postal_code, Structure.city, Structure.active)
        .where(where & (Structure.is_public == True))  # noqa: E712
        .order_by(Structure.name)
        .limit(limit)
    )


async def public_structure(siret: str) -> Structure | None:
    return await Structure.objects().get((Structure.siret == siret) & (Structure.is_public == True))  # noqa: E712


async def active_services(structure_id: int) -> list[dict]:
    return (
        await Service.select(Service.id, Service.code, Service.name, Service.requires_engagement)
        .where((Service.structure == structure_id) & (Service.active == True))  # noqa: E712
        .order_by(Service.code)
    )
