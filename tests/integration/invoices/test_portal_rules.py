"""Every portal rule, on a normalized invoice extracted from a real CII, against the directory."""

from __future__ import annotations

import msgspec
import pytest

from backend.directory.tables import Service, Structure
from backend.invoices import portal_rules
from backend.invoices.validation import Amount, validate_bytes
from backend.invoices.validation.model import DocumentReference
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


# --- Chorus Pro limits stricter than EN 16931 (POLICY.md, section 9) ---------------


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("FA 2026 01", "contient des espaces :"),
        ("FA.2026.01", "contient le caractère « . » :"),
        ("FÉ-2026#1", "contient les caractères « # », « É » :"),
    ],
)
async def test_invoice_number_characters_chorus_pro_refuses(recipient, depositor, number, said):
    findings, _ = await portal_rules.check(variant(number=number), depositor)
    assert [f.rule for f in findings] == ["FCT-PORTAL-18"]
    assert said in findings[0].message and findings[0].term == "BT-1"


async def test_invoice_number_of_allowed_characters_passes(recipient, depositor):
    assert await rules_of(variant(number="FA-2026/01_A+B"), depositor) == []


async def test_a_too_long_number_is_said_once_not_also_for_its_characters(recipient, depositor):
    assert await rules_of(variant(number="FA " * 10), depositor) == ["FCT-PORTAL-16"]


@pytest.mark.parametrize("siret", ["2175000160001", "217 500 016 00019", "2175000160001A"])
async def test_malformed_buyer_siret_is_said_as_such(recipient, depositor, siret):
    findings, _ = await portal_rules.check(variant(buyer=msgspec.structs.replace(BASE.buyer, siret=siret)), depositor)
    assert [f.rule for f in findings] == ["FCT-PORTAL-19"]
    assert f"« {siret} »" in findings[0].message and "14 chiffres" in findings[0].message


async def test_embedded_attachment_name_longer_than_50_characters(recipient, depositor):
    long_name = "bon-de-livraison-" + "x" * 30 + ".pdf"  # 51 characters
    ok_name = "b" * 46 + ".pdf"  # 50 characters
    documents = [DocumentReference(id="BL-1", filename=long_name), DocumentReference(id="BL-2", filename=ok_name)]
    findings, _ = await portal_rules.check(variant(documents=documents), depositor)
    assert [f.rule for f in findings] == ["FCT-PORTAL-20"]
    assert "51 caractères" in findings[0].message and "50 au plus" in findings[0].message
    assert findings[0].location == "BT-125"
