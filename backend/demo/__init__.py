"""Demo data for `facteur demo`: idempotent, so running it twice changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

from backend.accounts.passwords import hash_password
from backend.accounts.tables import Membership, User
from backend.lib.common import fold
from backend.lib.db import transaction
from backend.directory.identifiers import siren_of
from backend.directory.tables import Service, Structure
from backend.demo.works import WORKS, load_demo_works, works_description
from backend.demo.justice import EXPERT, JURIDICTIONS, justice_description, load_demo_memoire, load_juridictions

# Fictitious but Luhn-valid SIRETs (checked by tests/unit/test_demo_data.py).
SUPPLIER = {
    "siret": "12345678200010", "name": "Atelier Durand Menuiserie",
    "address_line1": "12 rue des Artisans", "postal_code": "69003", "city": "Lyon",
    "vat_number": "FR11123456782", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
    "user": {"email": "fournisseur@demo.facteur.fr", "password": "demo-fournisseur-2026", "first_name": "Camille", "last_name": "Durand"},
}
PUBLIC = [
    {
        "siret": "21690123100011", "name": "Commune de Villebourg", "postal_code": "69100", "city": "Villebourg",
        "address_line1": "Place de la Mairie", "requires_service": True, "requires_engagement": False, "reports_payment": True,
        "services": [("FIN", "Direction des finances"), ("TECH", "Services techniques"), ("ECOLES", "Affaires scolaires")],
        "agent": {"email": "agent.villebourg@demo.facteur.fr", "password": "demo-agent-villebourg", "first_name": "Lucie", "last_name": "Martin"},
    },
    {
        "siret": "26690456400017", "name": "Centre hospitalier de Belleville", "postal_code": "69220", "city": "Belleville",
        "address_line1": "1 avenue de l'Hôpital", "requires_service": False, "requires_engagement": True, "reports_payment": True,
        "services": [("ACHATS", "Service des achats"), ("PHARMA", "Pharmacie")],
        "agent": {"email": "agent.hopital@demo.facteur.fr", "password": "demo-agent-hopital-26", "first_name": "Karim", "last_name": "Benali"},
    },
    {
        "siret": "25690789000014", "name": "Syndicat intercommunal des eaux du Val", "postal_code": "69400", "city": "Villefranche-sur-Saône",
        "address_line1": "3 quai de la Saône", "requires_service": False, "requires_engagement": False, "reports_payment": False,
        "services": [("COMPTA", "Comptabilité")],
        "agent": {"email": "agent.eaux@demo.facteur.fr", "password": "demo-agent-eaux-2026", "first_name": "Inès", "last_name": "Roux"},
    },
]
# The platform's support team: an operator with no structure of their own (tickets go to the team).
SUPPORT = {"email": "support@demo.facteur.fr", "password": "demo-support-2026", "first_name": "Sacha", "last_name": "Lemoine"}
STRUCTURE_FIELDS = ("name", "address_line1", "postal_code", "city", "vat_number", "iban", "bic")


async def _upsert_structure(spec: dict, is_public: bool) -> int:
    values = {k: spec[k] for k in STRUCTURE_FIELDS if k in spec}
    values |= {
        "siren": siren_of(spec["siret"]),
        "search_key": fold(f"{spec['name']} {spec.get('postal_code', '')} {spec.get('city', '')}"),
        "is_public": is_public,
        "requires_service": spec.get("requires_service", False),
        "requires_engagement": spec.get("requires_engagement", False),
        "reports_payment": spec.get("reports_payment", True),
        "active": True,
    }
    existing = await Structure.objects().get(Structure.siret == spec["siret"])
    if existing:
        await Structure.update({getattr(Structure, k): v for k, v in values.items()}).where(Structure.id == existing.id)
        return existing.id
    structure = Structure(siret=spec["siret"], **values)
    await structure.save()
    return structure.id


async def _upsert_user(spec: dict) -> int:
    existing = await User.objects().get(User.email == spec["email"])
    if existing:
        return existing.id
    user = User(
        email=spec["email"], password_hash=await hash_password(spec["password"]),
        first_name=spec["first_name"], last_name=spec["last_name"],
        email_confirmed_at=datetime.now(timezone.utc),
    )
    await user.save()
    return user.id


async def _ensure_manager(user_id: int, structure_id: int) -> None:
    if await Membership.exists().where((Membership.user == user_id) & (Membership.structure == structure_id)):
        return
    await Membership.insert(Membership(
        user=user_id, structure=structure_id, status="active", is_manager=True,
        can_deposit=True, can_consult=True, can_process=True,
    ))


async def _ensure_services(structure_id: int, services: list[tuple[str, str]]) -> None:
    for code, name in services:
        if not await Service.exists().where((Service.structure == structure_id) & (Service.code == code)):
            await Service.insert(Service(structure=structure_id, code=code, name=name, active=True))


async def _ensure_operator(user_id: int) -> None:
    from backend.tickets.tables import SupportOperator

    if not await SupportOperator.exists().where(SupportOperator.user == user_id):
        await SupportOperator.insert(SupportOperator(user=user_id))


async def load_demo(*, invoices: bool = True) -> dict:
    agents: dict[str, int] = {}
    async with transaction():
        supplier_id = await _upsert_structure(SUPPLIER, is_public=False)
        supplier_user = await _upsert_user(SUPPLIER["user"])
        await _ensure_manager(supplier_user, supplier_id)
        for spec in PUBLIC:
            structure_id = await _upsert_structure(spec, is_public=True)
            await _ensure_services(structure_id, spec["services"])
            agents[spec["siret"]] = await _upsert_user(spec["agent"])
            await _ensure_manager(agents[spec["siret"]], structure_id)
        await _ensure_operator(await _upsert_user(SUPPORT))
        works_structures, works_users = await _works_accounts()
        expert_user = await _justice_accounts()
    await load_demo_works(works_structures, works_users)
    if invoices:
        # Outside the transaction above: each invoice is a deposit and status changes of its own.
        from backend.demo.invoices import load_demo_invoices
        from backend.settings import get_settings

        await load_demo_invoices(get_settings(), supplier_user, agents)
        await load_demo_memoire(get_settings(), expert_user)
    return demo_description()


async def _justice_accounts() -> int:
    """The juridictions and their agents, the expert's company and account; returns the expert's user id."""
    for siret, structure_id in (await load_juridictions(_upsert_structure, _ensure_services)).items():
        spec = next(j for j in JURIDICTIONS if j["siret"] == siret)
        await _ensure_manager(await _upsert_user(spec["agent"]), structure_id)
    expert_id = await _upsert_structure(EXPERT, is_public=False)
    expert_user = await _upsert_user(EXPERT["user"])
    await _ensure_manager(expert_user, expert_id)
    return expert_user


async def _works_accounts() -> tuple[dict[str, int], dict[str, int]]:
    """The six structures and accounts of the demo works market, by role."""
    structures, users = {}, {}
    for spec in WORKS:
        structures[spec["role"]] = await _upsert_structure(spec, is_public=spec["public"])
        await _ensure_services(structures[spec["role"]], spec.get("services", []))
        users[spec["role"]] = await _upsert_user(spec["user"])
        await _ensure_manager(users[spec["role"]], structures[spec["role"]])
    return structures, users


def demo_description() -> dict:
    user = SUPPLIER["user"]
    return {
        "supplier": {"siret": SUPPLIER["siret"], "name": SUPPLIER["name"], "email": user["email"], "password": user["password"]},
        "public_structures": [
            {
                "siret": s["siret"], "name": s["name"],
                "services": [{"code": c, "name": n} for c, n in s["services"]],
                "requires_service": s["requires_service"], "requires_engagement": s["requires_engagement"],
                "reports_payment": s["reports_payment"],
                "agent": {"email": s["agent"]["email"], "password": s["agent"]["password"]},
            }
            for s in PUBLIC
        ],
        "support": {"email": SUPPORT["email"], "password": SUPPORT["password"]},
        "works": works_description(),
        "justice": justice_description(),
    }


def print_demo(data: dict) -> None:
    s = data["supplier"]
    print("Données de démonstration prêtes.\n")
    print(f"Fournisseur : {s['name']} (SIRET {s['siret']})")
    print(f"  connexion : {s['email']} / {s['password']}\n")
    for p in data["public_structures"]:
        flags = [f for f, on in (("code service obligatoire", p["requires_service"]), ("engagement obligatoire", p["requires_engagement"]), ("paiement non communiqué", not p["reports_payment"])) if on]
        print(f"Entité publique : {p['name']} (SIRET {p['siret']}){' — ' + ', '.join(flags) if flags else ''}")
        print(f"  services : {', '.join(sv['code'] for sv in p['services'])}")
        print(f"  agent : {p['agent']['email']} / {p['agent']['password']}")
    print(f"\nSupport de la plateforme (file des tickets : /support/tickets)\n  opérateur : {data['support']['email']} / {data['support']['password']}")
    print("\nMarché de travaux n° 2026-TX-014 (et n° 2026-TX-021, à confirmer par le maître d'ouvrage) :")
    for w in data["works"]:
        print(f"  {ROLE_NAMES[w['role']]} : {w['name']} (SIRET {w['siret']}) — {w['email']} / {w['password']}")
    j = data["justice"]
    print("\nMémoires de justice (/justice) :")
    print(f"  Expert : {j['expert']['name']} (SIRET {j['expert']['siret']}) — {j['expert']['email']} / {j['expert']['password']}")
    for court in j["juridictions"]:
        print(f"  Juridiction : {court['name']} (code {court['code']}, SIRET {court['siret']}) — "
              f"agent {court['agent']['email']} / {court['agent']['password']}")


ROLE_NAMES = {"moa": "Maître d'ouvrage", "moe": "Maître d'œuvre", "payer": "Payeur", "titulaire": "Titulaire",
              "cotraitant": "Cotraitant", "sous_traitant": "Sous-traitant"}
