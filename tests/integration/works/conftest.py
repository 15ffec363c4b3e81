"""The structures of a works market (public MOA, MOE, payer; companies), and a declaration of it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from backend.directory.tables import Service, Structure
from backend.lib.common import fold
from backend.works import markets
from backend.works.markets import Declarer, MarketIn
from tests.integration.processing.conftest import make_user
from tests.support.accounts import valid_siret

_numbers = itertools.count(1)


async def structure(name: str, *, public: bool, requires_service: bool = False, requires_engagement: bool = False,
                    services: tuple[str, ...] = ()) -> Structure:
    siret = valid_siret(next(_numbers) + 7000)
    row = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=public, active=True,
                    requires_service=requires_service, requires_engagement=requires_engagement)
    await row.save()
    for code in services:
        await Service.insert(Service(structure=row.id, code=code, name=code.title(), active=True))
    return row


@dataclass
class Cast:
    moa: Structure
    moe: Structure
    payer: Structure
    titulaire: Structure
    cotraitant: Structure
    sous_traitant: Structure
    stranger: Structure

    def declaration(self, number: str = "2026-TX-001", **changes) -> MarketIn:
        fields = dict(
            number=number, title="Réfection de la toiture de l'école", moa_siret=self.moa.siret, moa_service="TRAVAUX",
            moe_siret=self.moe.siret, payer_siret=self.payer.siret, payer_service="FIN", engagement="EJ-42",
            titulaire_siret=self.titulaire.siret, cotraitants=[self.cotraitant.siret], sous_traitants=[self.sous_traitant.siret],
            start_date="2026-09-01", amount_excl_vat="250000,00",
        )
        return MarketIn(**(fields | changes))

    def as_moa(self, user_id: int | None = None) -> Declarer:
        return Declarer(self.moa.id, user_id, may_act_as_moa=True, may_act_as_titulaire=False)

    def as_titulaire(self, user_id: int | None = None) -> Declarer:
        return Declarer(self.titulaire.id, user_id, may_act_as_moa=False, may_act_as_titulaire=True)


@pytest.fixture
async def cast(clean_db) -> Cast:
    return Cast(
        moa=await structure("Commune de Montrevel", public=True, requires_service=True, services=("TRAVAUX", "FIN")),
        moe=await structure("Agence technique du Rhône", public=True),
        payer=await structure("Communauté de communes", public=True, requires_engagement=True, services=("FIN",)),
        titulaire=await structure("Bâtiments Perrin", public=False),
        cotraitant=await structure("Charpentes Lambert", public=False),
        sous_traitant=await structure("Plomberie Morel", public=False),
        stranger=await structure("Menuiserie Voisine", public=False),
    )


@pytest.fixture
async def market(cast):
    """A market declared by its MOA, and one person per actor who acts on its pieces (and an MOE member without rights)."""
    market_id = await markets.declare(cast.declaration(), cast.as_moa())
    users = {
        "titulaire": await make_user(cast.titulaire.id, can_deposit=True),
        "moe": await make_user(cast.moe.id, can_process=True),
        "moa": await make_user(cast.moa.id, can_process=True),
        "payer": await make_user(cast.payer.id, can_process=True),
        "moe_reader": await make_user(cast.moe.id),
    }
    return market_id, users
