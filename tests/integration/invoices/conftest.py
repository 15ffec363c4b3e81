"""A supplier whose SIRET matches the test invoices, and the public structure they are sent to."""

from __future__ import annotations

import pytest

from backend.lib.common import fold
from backend.directory.tables import Service, Structure
from tests.unit.validation.invoice_builders import BUYER_SIRET, SELLER_SIRET


@pytest.fixture
async def recipient(clean_db) -> Structure:
    structure = Structure(
        siret=BUYER_SIRET, siren=BUYER_SIRET[:9], name="Commune de Paris", search_key=fold("Commune de Paris"),
        is_public=True, requires_service=True, active=True,
        address_line1="Place de l'Hôtel de Ville", postal_code="75004", city="Paris",
    )
    await structure.save()
    await Service.insert(
        Service(structure=structure.id, code="SERVICE-COMPTA", name="Comptabilité", active=True),
        Service(structure=structure.id, code="ANCIEN", name="Service fermé", active=False),
    )
    return structure


@pytest.fixture
async def supplier(accounts, recipient):
    """The signed-in gestionnaire of the seller structure of the test invoices."""
    return await accounts.registered(siret=SELLER_SIRET, company="Menuiserie Dupont SARL")
