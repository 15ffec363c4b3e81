"""Every portal rule, on a normalized invoice extracted from a real CII, against the directory."""

from __future__ import annotations

import msgspec
import pytest

from backend.directory.tables import Service, Structure
from backend.invoices import portal_rules
from backend.invoices.validation import Amount, validate_bytes
from tests.unit.validation.invoice_builders import BUYER_SIRET, SELLER_SIRET, cii_bytes

BASE = validate_bytes(cii_bytes(), "f.xml").invoice


def variant(**changes):
    return msgspec.structs.replace(BASE, **changes)


@pytest.fixture
async def depositor(clean_db):
    structure = Structure(siret=SELLER_SIRET, siren=SELLER_SIRET[:9], name="Menuiserie Dupont", search_key="menuiserie dupont")
    await structure.save()
    return structure


async def rules_of(invoice, depositor) -> list[str]:
    findings, _ = await portal_rules.check(invoice, depositor)
    assert all(f.stage == "portal" and f.severity == "fatal" and f.message for f in findings)
    return [f.rule for f in findings]


async def test_a_correct_invoice_passes_and_is_routed(recipient, depositor):
    findings, routing = await portal_rules.check(BASE, depositor)
    assert findings == [] and routing.recipient.id == recipient.id and routing.year == 2026


async def test_recipient_missing_unknown_or_inactive(recipient, depositor):
    assert await rules_of(variant(buyer=msgspec.structs.replace(BASE.buyer, siret=None)), depositor) == ["FCT-PORTAL-01"]
    assert await rules_of(variant(buyer=msgspec.structs.replace(BASE.buyer, siret="35600000000048")), depositor) == ["FCT-PORTAL-02"]
    await Structure.update({Structure.active: False}).where(Structure.siret == BUYER_SIRET)
    assert await rules_of(BASE, depositor) == ["FCT-PORTAL-03"]


async def test_service_code_required_and_must_be_active(recipient, depositor):
    assert await rules_of(variant(buyer_reference=None), depositor) == ["FCT-PORTAL-04"]
    assert await rules_of(variant(buyer_reference="ANCIEN"), depositor) == ["FCT-PORTAL-05"]


async def test_engagement_required_by_the_structure_or_the_service(recipient, depositor):
    await Structure.update({Structure.requires_engagement: True}).where(Structure.id == recipient.id)
    assert await rules_of(variant(purchase_order=None), depositor) == ["FCT-PORTAL-06"]
    await Structure.update({Structure.requires_engagement: False}).where(Structure.id == recipient.id)
    await Service.update({Service.requires_engagement: True}).where(Service.code == "SERVICE-COMPTA")
    assert await rules_of(variant(purchase_order=None), depositor) == ["FCT-PORTAL-06"]
    assert await rules_of(variant(purchase_order="EJ-1"), depositor) == []


async def test_engagement_longer_than_50_characters(recipient, depositor):
    assert await rules_of(variant(purchase_order="E" * 51), depositor) == ["FCT-PORTAL-07"]


async def test_service_or_engagement(recipient, depositor):
    await Structure.update({Structure.requires_service: False, Structure.requires_service_or_engagement: True}).where(Structure.id == recipient.id)
    assert await rules_of(variant(buyer_reference=None, purchase_order=None), depositor) == ["FCT-PORTAL-08"]
    assert await rules_of(variant(buyer_reference=None), depositor) == []


async def test_seller_must_be_the_depositor(recipient, depositor):
    other = Structure(siret="35600000000048", siren="356000000", name="Autre", search_key="autre")
    await other.save()
    assert await rules_of(BASE, other) == ["FCT-PORTAL-09"]


async def test_incoherent_amounts(recipient, depositor):
    totals = msgspec.structs.replace(BASE.totals, payable=Amount("500.00", BASE.totals.payable.value + 32))
    assert await rules_of(variant(totals=totals), depositor) == ["FCT-PORTAL-11"]


async def test_missing_number_or_date(recipient, depositor):
    assert await rules_of(variant(number=None), depositor) == ["FCT-PORTAL-12"]
    assert await rules_of(variant(issue_date=None), depositor) == ["FCT-PORTAL-12"]


async def test_currency_must_be_euro(recipient, depositor):
    assert "FCT-PORTAL-13" in await rules_of(variant(currency="USD"), depositor)


def test_command_line_check_without_depositor_uses_the_seller_structure(recipient, depositor):
    """Synchronous, as the command line is: the check runs its own event loop."""
    result = validate_bytes(cii_bytes(), "f.xml")
    assert portal_rules.command_line_check(result) == []


async def test_amounts_beyond_what_can_be_stored(recipient, depositor):
    huge = Amount("99999999999999999999.00", BASE.totals.payable.value * 10**20)
    totals = msgspec.structs.replace(BASE.totals, payable=huge, tax_inclusive=huge)
    assert await rules_of(variant(totals=totals), depositor) == ["FCT-PORTAL-15"]
