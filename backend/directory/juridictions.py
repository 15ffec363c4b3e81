"""Juridictions (courts) of the directory: public structures of a kind, with their code and their
service centralisateur, to which experts, interpreters and investigators send their mémoires de
frais de justice (framework A3, backend/justice)."""

from __future__ import annotations

from backend.directory.tables import Juridiction, Service, Structure

KINDS: dict[str, str] = {
    "tribunal_judiciaire": "Tribunal judiciaire",
    "cour_appel": "Cour d'appel",
    "conseil_prudhommes": "Conseil de prud'hommes",
    "tribunal_commerce": "Tribunal de commerce",
    "tribunal_proximite": "Tribunal de proximité",
    "cour_assises": "Cour d'assises",
}
CENTRAL_SERVICE_NAME = "Service centralisateur des frais de justice"


async def register(structure_id: int, kind: str, code: str, service_code: str = "SCFJ") -> int:
    """Make a public structure a juridiction with its service centralisateur (created if absent);
    idempotent. Returns the Juridiction id."""
    if kind not in KINDS:
        raise ValueError(f"unknown juridiction kind {kind!r}")
    service = await Service.objects().get((Service.structure == structure_id) & (Service.code == service_code))
    if service is None:
        service = Service(structure=structure_id, code=service_code, name=CENTRAL_SERVICE_NAME)
        await service.save()
    existing = await Juridiction.objects().get(Juridiction.structure == structure_id)
    if existing is not None:
        return existing.id
    row = Juridiction(structure=structure_id, kind=kind, code=code, central_service=service.id)
    await row.save()
    return row.id


async def of_structure(structure_id: int) -> dict | None:
    """The juridiction a structure is (kind, label, code, its service centralisateur's code), or None."""
    row = await Juridiction.select(
        Juridiction.id, Juridiction.kind, Juridiction.code, Juridiction.central_service.code,
        Juridiction.structure.name, Juridiction.structure.siret,
    ).where(Juridiction.structure == structure_id).first()
    return _shaped(row) if row else None


async def by_siret(siret: str) -> dict | None:
    structure = await Structure.select(Structure.id).where(
        (Structure.siret == siret) & (Structure.is_public == True) & (Structure.active == True)).first()  # noqa: E712
    return await of_structure(structure["id"]) if structure else None


async def all_juridictions() -> list[dict]:
    rows = await Juridiction.select(
        Juridiction.id, Juridiction.kind, Juridiction.code, Juridiction.central_service.code,
        Juridiction.structure.name, Juridiction.structure.siret, Juridiction.structure.id,
    ).where(Juridiction.structure.active == True).order_by(Juridiction.code)  # noqa: E712
    return [_shaped(r) for r in rows]


def _shaped(row: dict) -> dict:
    return {"kind": row["kind"], "kind_label": KINDS.get(row["kind"], row["kind"]), "code": row["code"],
            "service_code": row.get("central_service.code") or "", "name": row["structure.name"],
            "siret": row["structure.siret"]}
