"""Declaring a market: the directory rules, who may declare, one number per MOA, visibility, dossiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backend.invoices.tables import Invoice, StoredFile
from backend.works import dossiers, markets
from backend.works.markets import Declarer, WorksError
from backend.works.tables import BillingFile, Market, MarketActor
from tests.integration.works.conftest import structure


async def refused(cast, declarer=None, **changes) -> WorksError:
    with pytest.raises(WorksError) as caught:
        await markets.declare(cast.declaration(**changes), declarer or cast.as_moa())
    assert await Market.count() == 0 and await MarketActor.count() == 0  # nothing half-written
    return caught.value


async def test_moa_declares_an_active_market_with_every_actor(cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    market = await Market.objects().get(Market.id == market_id)
    assert market.status == "active" and market.amount_excl_vat == Decimal("250000.00") and market.start_date == date(2026, 9, 1)
    assert market.mandataire == cast.titulaire.id  # the titulaire by default, with a co-contractor
    roles = {(r["structure"], r["role"], r["direct_payment"]) for r in await MarketActor.select()}
    assert roles == {(cast.moa.id, "moa", False), (cast.moe.id, "moe", False), (cast.payer.id, "payer", False),
                     (cast.titulaire.id, "titulaire", False), (cast.cotraitant.id, "cotraitant", False),
                     (cast.sous_traitant.id, "sous_traitant", True)}


async def test_titulaire_declares_a_pending_market_the_moa_confirms(cast):
    market_id = await markets.declare(cast.declaration(), cast.as_titulaire())
    assert (await Market.objects().get(Market.id == market_id)).status == "pending"
    with pytest.raises(WorksError) as not_moa:
        await markets.confirm(market_id, cast.moe.id, None, may_act_as_moa=True)
    assert not_moa.value.http_status == 403
    with pytest.raises(WorksError) as stranger:
        await markets.confirm(market_id, cast.stranger.id, None, may_act_as_moa=True)
    assert stranger.value.http_status == 404
    await markets.confirm(market_id, cast.moa.id, None, may_act_as_moa=True)
    assert (await Market.objects().get(Market.id == market_id)).status == "active"
    with pytest.raises(WorksError) as again:
        await markets.confirm(market_id, cast.moa.id, None, may_act_as_moa=True)
    assert again.value.http_status == 409


async def test_directory_rules_name_each_field(cast):
    error = await refused(cast, moa_siret=cast.titulaire.siret, moe_siret="12345678901234", payer_service="",
                          titulaire_siret="73282932000074", moa_service="INCONNU")
    assert error.code == "invalid"
    assert "n'est pas une structure publique" in error.errors["moa_siret"]
    assert "clé de contrôle" in error.errors["moe_siret"]
    assert "aucune structure active" in error.errors["titulaire_siret"]
    assert "Bâtiments Perrin" in error.errors["moa_siret"]


async def test_services_required_and_existing(cast):
    missing = await refused(cast, moa_service="")
    assert missing.errors == {"moa_service": "Maître d'ouvrage : Commune de Montrevel exige un code service."}
    unknown = await refused(cast, payer_service="COMPTA")
    assert "n'a pas de service actif « COMPTA »" in unknown.errors["payer_service"]


async def test_engagement_required_by_the_payer(cast):
    error = await refused(cast, engagement="")
    assert error.errors == {"engagement": "Communauté de communes exige un numéro d'engagement sur ses factures."}


async def test_companies_and_mandataire(cast):
    twice = await refused(cast, cotraitants=[cast.titulaire.siret])
    assert "propre cotraitant" in twice.errors["cotraitants"]
    wrong = await refused(cast, mandataire_siret=cast.sous_traitant.siret)
    assert wrong.errors["mandataire_siret"] == "Le mandataire doit être le titulaire ou l'un des cotraitants."
    market_id = await markets.declare(cast.declaration(mandataire_siret=cast.cotraitant.siret), cast.as_moa())
    assert (await Market.objects().get(Market.id == market_id)).mandataire == cast.cotraitant.id


async def test_text_dates_and_amounts(cast):
    error = await refused(cast, number=" ", title="x" * 256, start_date="32/13/2026", amount_excl_vat="-3")
    assert set(error.errors) == {"number", "title", "start_date", "amount_excl_vat"}
    assert error.errors["number"] == "Le numéro du marché est obligatoire."


async def test_only_the_moa_or_the_titulaire_declares(cast):
    other = await refused(cast, Declarer(cast.moe.id, None, may_act_as_moa=True, may_act_as_titulaire=True))
    assert other.code == "not_declarer"
    not_manager = await refused(cast, Declarer(cast.moa.id, None, may_act_as_moa=False, may_act_as_titulaire=True))
    assert not_manager.http_status == 403


async def test_one_market_number_per_moa(cast):
    await markets.declare(cast.declaration("M-1"), cast.as_moa())
    with pytest.raises(WorksError) as duplicate:
        await markets.declare(cast.declaration("M-1"), cast.as_titulaire())
    assert duplicate.value.http_status == 409 and "M-1" in duplicate.value.message
    # The same number at another MOA is another market.
    other_moa = await structure("Commune voisine", public=True, services=("TRAVAUX",))
    await markets.declare(cast.declaration("M-1", moa_siret=other_moa.siret), cast.as_titulaire())
    assert await Market.count() == 2


async def test_visibility_and_keyset_pages(cast):
    ids = [await markets.declare(cast.declaration(f"M-{n}"), cast.as_moa()) for n in range(3)]
    for actor in (cast.moa, cast.moe, cast.payer, cast.titulaire, cast.cotraitant, cast.sous_traitant):
        assert (await markets.visible_market(ids[0], actor.id)).id == ids[0]
    with pytest.raises(WorksError) as hidden:
        await markets.visible_market(ids[0], cast.stranger.id)
    assert hidden.value.http_status == 404
    assert await markets.market_page(cast.stranger.id) == ([], None)
    first, cursor = await markets.market_page(cast.sous_traitant.id, limit=2)
    assert [r["id"] for r in first] == [ids[2], ids[1]] and first[0]["roles"] == ["sous_traitant"]
    second, last = await markets.market_page(cast.sous_traitant.id, cursor=cursor, limit=2)
    assert [r["id"] for r in second] == [ids[0]] and last is None
    with pytest.raises(WorksError):
        await markets.market_page(cast.moa.id, cursor="pas-un-curseur")


async def _piece(supplier, recipient, number: str, framework: str, amount: str) -> int:
    stored = StoredFile(sha256=number.ljust(64, "0"), size=1, media_type="application/pdf")
    await stored.save()
    total = Decimal(amount)
    row = Invoice(supplier=supplier.id, recipient=recipient.id, original_file=stored.id, original_name=f"{number}.pdf",
                  format="facturx-pdf", number=number, number_year=2026, type_code="380", issue_date=date(2026, 11, 30),
                  currency="EUR", billing_framework=framework, seller_siret=supplier.siret, buyer_siret=recipient.siret,
                  total_excl_vat=total, total_vat=total / 5, total_incl_vat=total * Decimal("1.2"), amount_due=total * Decimal("1.2"),
                  data={}, status="DEPOSEE", status_code="200", certificate_number=f"CERT-{number}")
    await row.save()
    return row.id


async def test_dossier_groups_pieces_into_a_timeline(cast):
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    dossier_id = await dossiers.open_dossier(market_id, cast.titulaire.id, None, "SITUATION-01", date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(WorksError) as duplicate:
        await dossiers.open_dossier(market_id, cast.moa.id, None, "SITUATION-01", date(2026, 11, 1), date(2026, 11, 30))
    assert duplicate.value.http_status == 409
    with pytest.raises(WorksError):
        await dossiers.open_dossier(market_id, cast.stranger.id, None, "X", date(2026, 11, 1), date(2026, 11, 30))
    asked = await _piece(cast.titulaire, cast.moe, "PDM-1", "A4", "10000.00")
    corrected = await _piece(cast.moe, cast.moa, "EA-1", "A15", "9500.00")
    await dossiers.attach_piece(asked, dossier_id, cast.titulaire.id)
    await dossiers.attach_piece(corrected, dossier_id, cast.moe.id)
    assert {r["market"] for r in await Invoice.select(Invoice.market)} == {market_id}
    steps = await dossiers.timeline(dossier_id)
    assert [(s.step, s.amount_excl_vat) for s in steps] == [("asked", Decimal("10000.00")), ("corrected", Decimal("9500.00"))]
    assert steps[1].difference_excl_vat == Decimal("-500.00")
    assert await dossiers.dossier_summary(dossier_id) == ("corrected", "Corrigée par le maître d'œuvre")
    # A piece of a structure outside the market, or someone else's piece, is never attached.
    outsider = await _piece(cast.stranger, cast.moa, "F-9", "A1", "10.00")
    with pytest.raises(WorksError) as foreign:
        await dossiers.attach_piece(outsider, dossier_id, cast.moa.id)
    assert foreign.value.code == "not_in_market"
    with pytest.raises(WorksError) as not_mine:
        await dossiers.attach_piece(asked, dossier_id, cast.payer.id)
    assert not_mine.value.http_status == 404
    other = await dossiers.open_dossier(market_id, cast.moa.id, None, "SITUATION-02", date(2026, 12, 1), date(2026, 12, 31))
    with pytest.raises(WorksError) as moved:
        await dossiers.attach_piece(asked, other, cast.titulaire.id)
    assert moved.value.code == "already_attached"
    assert await BillingFile.count() == 2


async def test_control_characters_never_reach_the_database(cast):
    error = await refused(cast, moa_service="TRA\x00VAUX", cotraitants=["1234\n"])
    assert set(error.errors) == {"moa_service", "cotraitants"} and "caractère de contrôle" in error.errors["moa_service"]
