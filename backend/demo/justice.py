"""Demo mémoires de justice: two juridictions of the directory (each with its service
centralisateur), an agent of the tribunal judiciaire, an expert's company and account, and one
mémoire sent to the tribunal (waiting to be taken in charge). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.justice import service
from backend.lib.common import paris_today

# Fictitious but Luhn-valid SIRETs (checked by tests/unit/test_demo_data.py).
JURIDICTIONS = [
    {"siret": "17690015700015", "name": "Tribunal judiciaire de Villebourg", "kind": "tribunal_judiciaire", "code": "TJ69VB",
     "address_line1": "1 place du Palais", "postal_code": "69100", "city": "Villebourg",
     "agent": {"email": "greffe.tj@demo.facteur.fr", "password": "demo-greffe-tj-2026", "first_name": "Nadia", "last_name": "Perret"}},
    {"siret": "17690026400019", "name": "Cour d'appel de Lyon", "kind": "cour_appel", "code": "CA69",
     "address_line1": "1 rue du Palais de Justice", "postal_code": "69005", "city": "Lyon",
     "agent": {"email": "greffe.ca@demo.facteur.fr", "password": "demo-greffe-ca-2026", "first_name": "Olivier", "last_name": "Brun"}},
]
EXPERT = {
    "siret": "81234567600017", "name": "Cabinet Lefèvre Expertises", "address_line1": "8 rue Mercière", "postal_code": "69002",
    "city": "Lyon", "vat_number": "FR19812345676", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
    "user": {"email": "expert@demo.facteur.fr", "password": "demo-expert-lefevre-26", "first_name": "Claire", "last_name": "Lefèvre"},
}
MEMOIRE_NUMBER = "MJ2026-0001"


async def load_juridictions(upsert_structure, ensure_services) -> dict[str, int]:
    """The juridictions as public structures of the directory, by SIRET (inside the demo's transaction)."""
    ids = {}
    for spec in JURIDICTIONS:
        ids[spec["siret"]] = await upsert_structure(spec, True)
        await ensure_services(ids[spec["siret"]], [])
        await juridictions.register(ids[spec["siret"]], spec["kind"], spec["code"])
    return ids


async def load_demo_memoire(settings, expert_user: int) -> None:
    """One mémoire sent by the expert to the tribunal judiciaire, unless it exists already."""
    expert = await Structure.objects().get(Structure.siret == EXPERT["siret"])
    if await Invoice.exists().where((Invoice.supplier == expert.id) & (Invoice.number == MEMOIRE_NUMBER)):
        return
    today = paris_today()
    form = {
        "juridiction_siret": JURIDICTIONS[0]["siret"], "number": MEMOIRE_NUMBER, "decision_kind": "ordonnance",
        "decision_reference": "JI-2026-0412", "decision_date": (today - timedelta(days=60)).isoformat(),
        "decision_author": "Mme Girard, juge d'instruction", "mission_start": (today - timedelta(days=45)).isoformat(),
        "mission_end": (today - timedelta(days=20)).isoformat(), "mission_place": "Villebourg", "note": "",
        "lines": [
            {"kind": "honoraires", "description": "Expertise comptable de la société X", "quantity": "12", "unit_code": "HUR",
             "unit_price": "95", "vat_rate": "20"},
            {"kind": "deplacement", "description": "Lyon - Villebourg aller-retour", "quantity": "64", "unit_code": "KMT",
             "unit_price": "0.6", "vat_rate": "20"},
        ],
    }
    await service.send(settings, expert, expert_user, form, [], caller=f"user:{expert_user}")


def justice_description() -> dict:
    tj = JURIDICTIONS[0]
    return {
        "expert": {"siret": EXPERT["siret"], "name": EXPERT["name"], "email": EXPERT["user"]["email"], "password": EXPERT["user"]["password"]},
        "agent": {"siret": tj["siret"], "name": tj["name"], "code": tj["code"], "email": tj["agent"]["email"],
                  "password": tj["agent"]["password"]},
        "juridictions": [{"siret": j["siret"], "name": j["name"], "kind": j["kind"], "code": j["code"],
                          "agent": {"email": j["agent"]["email"], "password": j["agent"]["password"]}} for j in JURIDICTIONS],
    }
