"""API keys for a supplier company and a public structure, and a client that sends them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from backend.api.keys import create_key
from backend.lib.common import fold
from backend.directory.tables import Service, Structure
from backend.invoices.tables import Invoice
from tests.support.accounts import valid_siret
from tests.unit.validation.invoice_builders import BUYER_SIRET, SELLER_SIRET, cii_bytes, facturx_pdf, invoice_data

ALL = ("deposit", "read", "process", "directory")
_numbers = itertools.count(1)


@dataclass
class Api:
    """The test client, authenticated as one key."""

    client: object
    secret: str
    structure: Structure

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    async def get(self, path: str, **kw):
        return await self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    async def post(self, path: str, **kw):
        return await self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    async def deposit(self, *files: tuple[str, bytes], headers: dict | None = None, attachments=()):
        parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
        parts += [("attachment", (name, data, "application/octet-stream")) for name, data in attachments]
        return await self.post("/api/v1/deposits", files=parts, headers=headers)


async def company(siret: str = SELLER_SIRET, name: str = "Menuiserie Dupont SARL") -> Structure:
    structure = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=False,
                          address_line1="3 rue des Artisans", postal_code="69003", city="Lyon", vat_number="FR44732829320",
                          iban="FR7630006000011234567890189", bic="AGRIFRPP")
    await structure.save()
    return structure


async def key_for(client, structure: Structure, scopes=ALL) -> Api:
    scopes = tuple(s for s in scopes if s != "process" or structure.is_public)
    key = await create_key(structure, "test", scopes, None)
    return Api(client, key.secret, structure)


@pytest.fixture
async def recipient(clean_db) -> Structure:
    structure = Structure(
        siret=BUYER_SIRET, siren=BUYER_SIRET[:9], name="Commune de Paris", search_key=fold("Commune de Paris 75004 Paris"),
        is_public=True, requires_service=True, active=True,
        address_line1="Place de l'Hôtel de Ville", postal_code="75004", city="Paris",
    )
    await structure.save()
    await Service.insert(Service(structure=structure.id, code="SERVICE-COMPTA", name="Comptabilité", active=True))
    return structure


@pytest.fixture
async def supplier_api(client, recipient) -> Api:
    return await key_for(client, await company())


@pytest.fixture
async def recipient_api(client, recipient) -> Api:
    return await key_for(client, recipient)


@pytest.fixture
async def stranger_api(client, recipient) -> Api:
    """A key of an unrelated company, with every scope: must never see the others' invoices."""
    return await key_for(client, await company(valid_siret(), "Autre Société"))


def invoice_file(number: str | None = None) -> tuple[str, bytes]:
    number = number or f"F2026-{next(_numbers):04d}"
    return f"{number}.pdf", facturx_pdf(cii_bytes(invoice_data(**{"BT-1": number})))


@pytest.fixture
async def invoice(supplier_api) -> Invoice:
    response = await supplier_api.deposit(invoice_file())
    assert response.status_code == 201, response.text
    return await Invoice.objects().get(Invoice.id == response.json()["invoices"][0]["id"])
