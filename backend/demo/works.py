"""Demo works market: six structures, one account each, a market declared by its MOA (active)
and one declared by its titulaire (waiting for the MOA's confirmation), with a dossier.

Declared through backend.works.markets, the way a person does; idempotent (found by number).
The active market has monthly statements at several steps of the circuit (backend/works/pieces.py,
through the lifecycle as people do): September validated by the MOA and paid, October accepted
with a correction and waiting for the MOA, November waiting for the MOE. A third market, finished,
has its final account at the titulaire's signature: the projet de décompte final (A7) accepted by
the MOE, the projet de décompte général (A17) validated by the MOA, the décompte général (A20) to sign.
"""

from __future__ import annotations

from datetime import date

from backend.invoices.tables import Invoice
from backend.lib.common import paris_today
from backend.processing.lifecycle import Actor, Payment, change_status
from backend.works import dossiers, markets, pieces
from backend.works.tables import BillingFile, Market

# Fictitious but Luhn-valid SIRETs (checked by tests/unit/test_demo_data.py).
WORKS = [
    {"role": "moa", "siret": "21690555400012", "name": "Commune de Montrevel", "public": True, "postal_code": "69620",
     "city": "Montrevel", "services": [("TRAVAUX", "Services techniques"), ("FIN", "Finances")], "requires_service": True,
     "user": {"email": "moa@demo.facteur.fr", "password": "demo-moa-montrevel-26", "first_name": "Hélène", "last_name": "Garnier"}},
    {"role": "moe", "siret": "24690777800012", "name": "Agence technique départementale du Rhône", "public": True,
     "postal_code": "69003", "city": "Lyon", "services": [("MOE", "Maîtrise d'œuvre")], "requires_service": True,
     "user": {"email": "moe@demo.facteur.fr", "password": "demo-moe-agence-2026", "first_name": "Yanis", "last_name": "Faure"}},
    {"role": "payer", "siret": "20006911000019", "name": "Communauté de communes des Pierres Dorées", "public": True,
     "postal_code": "69620", "city": "Val d'Oingt", "services": [("FIN", "Direction des finances")], "requires_service": True,
     "user": {"email": "payeur@demo.facteur.fr", "password": "demo-payeur-ccpd-2026", "first_name": "Agnès", "last_name": "Colin"}},
    {"role": "titulaire", "siret": "51234567900017", "name": "Bâtiments Perrin", "public": False, "postal_code": "69400",
     "city": "Villefranche-sur-Saône",
     "user": {"email": "titulaire@demo.facteur.fr", "password": "demo-titulaire-perrin", "first_name": "Marc", "last_name": "Perrin"}},
    {"role": "cotraitant", "siret": "52345678800018", "name": "Charpentes Lambert", "public": False, "postal_code": "69480",
     "city": "Anse",
     "user": {"email": "cotraitant@demo.facteur.fr", "password": "demo-cotraitant-lambert", "first_name": "Julie", "last_name": "Lambert"}},
    {"role": "sous_traitant", "siret": "53456789600012", "name": "Plomberie Morel", "public": False, "postal_code": "69380",
     "city": "Chazay-d'Azergues",
     "user": {"email": "soustraitant@demo.facteur.fr", "password": "demo-soustraitant-morel", "first_name": "Théo", "last_name": "Morel"}},
]
BY_ROLE = {spec["role"]: spec for spec in WORKS}
ACTIVE_MARKET = {"number": "2026-TX-014", "title": "Rénovation de l'école Jules-Ferry", "engagement": "EJ-2026-0314",
                 "amount_excl_vat": "480000.00", "start_date": "2026-09-01"}
FINISHED_MARKET = {"number": "2025-TX-031", "title": "Réfection de la cour de la mairie", "engagement": "EJ-2025-0731",
                   "amount_excl_vat": "68000.00", "start_date": "2025-06-02"}
FINAL_STATEMENT = ("DF-2025-031", "2025-06-02", "2025-10-31", {"works": "66400.00", "supplies": "1200.00", "expenses": "95.00"})
PENDING_MARKET = {"number": "2026-TX-021", "title": "Extension du gymnase municipal", "engagement": "EJ-2026-0421",
                  "amount_excl_vat": "215000.00", "start_date": "2026-11-02"}


def _market_in(spec: dict, *, partners: bool) -> markets.MarketIn:
    return markets.MarketIn(
        number=spec["number"], title=spec["title"], engagement=spec["engagement"], amount_excl_vat=spec["amount_excl_vat"],
        start_date=spec["start_date"], moa_siret=BY_ROLE["moa"]["siret"], moa_service="TRAVAUX",
        moe_siret=BY_ROLE["moe"]["siret"], moe_service="MOE", payer_siret=BY_ROLE["payer"]["siret"], payer_service="FIN",
        titulaire_siret=BY_ROLE["titulaire"]["siret"],
        cotraitants=[BY_ROLE["cotraitant"]["siret"]] if partners else [],
        sous_traitants=[BY_ROLE["sous_traitant"]["siret"]] if partners else [],
    )


async def load_demo_works(structure_ids: dict[str, int], user_ids: dict[str, int]) -> None:
    """The two markets and the first dossier of the active one, unless they exist already."""
    moa = structure_ids["moa"]
    if not await Market.exists().where((Market.moa == moa) & (Market.number == ACTIVE_MARKET["number"])):
        await markets.declare(_market_in(ACTIVE_MARKET, partners=True),
                              markets.Declarer(moa, user_ids["moa"], may_act_as_moa=True, may_act_as_titulaire=False))
    if not await Market.exists().where((Market.moa == moa) & (Market.number == PENDING_MARKET["number"])):
        titulaire = structure_ids["titulaire"]
        await markets.declare(_market_in(PENDING_MARKET, partners=False),
                              markets.Declarer(titulaire, user_ids["titulaire"], may_act_as_moa=False, may_act_as_titulaire=True))
    if not await Market.exists().where((Market.moa == moa) & (Market.number == FINISHED_MARKET["number"])):
        await markets.declare(_market_in(FINISHED_MARKET, partners=False),
                              markets.Declarer(moa, user_ids["moa"], may_act_as_moa=True, may_act_as_titulaire=False))
    finished = await Market.objects().get((Market.moa == moa) & (Market.number == FINISHED_MARKET["number"]))
    await load_demo_final(finished.id, structure_ids, user_ids)
    market = await Market.objects().get((Market.moa == moa) & (Market.number == ACTIVE_MARKET["number"]))
    if not await BillingFile.exists().where(BillingFile.market == market.id):
        await dossiers.open_dossier(market.id, moa, user_ids["moa"], "SITUATION-01", date(2026, 11, 1), date(2026, 11, 30))
    await load_demo_pieces(market.id, structure_ids, user_ids)


# Cumuls since the start of the market, HT; the MOE corrects October's works.
STATEMENTS = [
    ("DM-2026-09", "2026-09-01", "2026-09-30", {"works": "42000.00", "supplies": "6500.00", "expenses": "180.00"}, "paid"),
    ("DM-2026-10", "2026-10-01", "2026-10-31", {"works": "98000.00", "supplies": "9000.00", "expenses": "180.00"}, "moa"),
    ("DM-2026-11", "2026-11-01", "2026-11-30", {"works": "151000.00", "supplies": "9000.00", "expenses": "420.00"}, "moe"),
]


async def _latest(framework: str, titulaire: int) -> Invoice:
    return await Invoice.objects().where((Invoice.billing_framework == framework) & (Invoice.supplier == titulaire)).order_by(
        Invoice.id, ascending=False).first()


async def load_demo_pieces(market_id: int, structure_ids: dict[str, int], user_ids: dict[str, int]) -> None:
    titulaire = structure_ids["titulaire"]
    for number, start, end, amounts, step in STATEMENTS:
        if await Invoice.exists().where((Invoice.supplier == titulaire) & (Invoice.number == number)):
            continue
        a4 = await pieces.file_statement(market_id, titulaire, Actor("supplier", user_ids["titulaire"]),
                                         pieces.StatementIn(number=number, period_start=start, period_end=end, amounts=amounts))
        if step == "moe":
            continue
        correction = {"works": "95500.00"} if step == "moa" else None
        await change_status(a4.id, Actor("moe", user_ids["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a4.version,
                            comment="Travaux constatés : 95 500 € au cumul (lot carrelage inachevé)." if correction else "",
                            correction=correction)
        if step == "moa":
            continue
        a15 = await _latest("A15", titulaire)
        await change_status(a15.id, Actor("moa", user_ids["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a15.version)
        a19 = await _latest("A19", titulaire)
        payer = Actor("recipient", user_ids["payer"])
        a19 = await change_status(a19.id, payer, "SERVICE_FAIT", expected_version=a19.version)
        await change_status(a19.id, payer, "MISE_EN_PAIEMENT", expected_version=a19.version,
                            payment=Payment(date=paris_today(), amount=a19.amount_due))


async def load_demo_final(market_id: int, structure_ids: dict[str, int], user_ids: dict[str, int]) -> None:
    """The finished market's final account, up to the décompte général the titulaire has to sign."""
    titulaire = structure_ids["titulaire"]
    number, start, end, amounts = FINAL_STATEMENT
    if await Invoice.exists().where((Invoice.supplier == titulaire) & (Invoice.number == number)):
        return
    a7 = await pieces.file_statement(market_id, titulaire, Actor("supplier", user_ids["titulaire"]),
                                     pieces.StatementIn(number=number, period_start=start, period_end=end, amounts=amounts, final=True))
    await change_status(a7.id, Actor("moe", user_ids["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a7.version)
    a17 = await _latest("A17", titulaire)
    await change_status(a17.id, Actor("moa", user_ids["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a17.version)


def works_description() -> list[dict]:
    return [{"role": s["role"], "name": s["name"], "siret": s["siret"], "email": s["user"]["email"],
             "password": s["user"]["password"]} for s in WORKS]
