"""Deposited invoices, and agents of public structures created directly in the database."""

from __future__ import annotations

import itertools

import pytest

from backend.accounts.tables import Membership, User
from backend.lib.common import fold, utcnow
from backend.directory.tables import Service, Structure
from backend.invoices.tables import Invoice
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401  (re-exported fixtures)
from tests.integration.invoices.test_deposit import post_files
from tests.support.accounts import valid_siret
from tests.unit.validation.invoice_builders import facturx_pdf

_n = itertools.count(1)


@pytest.fixture(autouse=True)
async def empty_database(clean_db):
    """Every processing test starts from empty tables, the outbox included (migrated with the app)."""


async def make_user(structure_id: int, **rights) -> int:
    n = next(_n)
    user = User(email=f"agent{n}@mairie.fr", password_hash="x", first_name="Agent", last_name=str(n), email_confirmed_at=utcnow())
    await user.save()
    await Membership.insert(Membership(user=user.id, structure=structure_id, status="active", **rights))
    return user.id


async def public_structure(name: str = "Hôpital de Lyon") -> Structure:
    siret = valid_siret()
    structure = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=True, active=True)
    await structure.save()
    await Service.insert(Service(structure=structure.id, code="ACHATS", name="Achats", active=True))
    return structure


@pytest.fixture
async def invoice(client, supplier, recipient) -> Invoice:
    response = await post_files(client, [("facture.pdf", facturx_pdf())])
    assert response.status_code == 201, response.text
    return await Invoice.objects().first()


@pytest.fixture
async def supplier_id(supplier) -> int:
    return (await User.objects().get(User.email == supplier.email)).id


@pytest.fixture
async def agent_id(recipient) -> int:
    return await make_user(recipient.id, can_process=True)
