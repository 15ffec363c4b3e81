"""CDAR D22B lifecycle messages: every status the lifecycle can reach gives a message the XSD and the
BR-FR-CDV schematron accept; the validator refuses what they refuse, and hostile XML safely."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from backend.invoices.statuses import STATUSES
from backend.processing import cdar
from backend.processing.lifecycle import TRANSITIONS
from backend.processing.reasons import REASONS_BY_STATUS, reform_reason
from tests.support.france_rfe import require_france_rfe

SELLER = cdar.Party("732829320", "Menuiserie Dupont SARL", "SE")
BUYER = cdar.Party("217500016", "Commune de Paris", "BY")
AT = datetime(2026, 9, 14, 21, 30, tzinfo=timezone.utc)
VAT = [{"rate": {"value": "20.00"}, "basis": {"value": "500.00"}, "tax": {"value": "100.00"}},
       {"rate": {"value": "5.5"}, "basis": {"value": "100.00"}, "tax": {"value": "5.50"}}]
REACHABLE = sorted({t for role in TRANSITIONS.values() for targets in role.values() for t in targets if t in STATUSES}
                   | {"DEPOSEE", "MISE_A_DISPOSITION"})


def event(status: str, reason: str = "", **overrides) -> cdar.LifecycleEvent:
    code = STATUSES[status].code_2026
    by_supplier = status in ("COMPLETEE", "ENCAISSEE")
    platform = code in cdar.TRANSMISSION_CODES
    amounts = cdar.split_by_rate(Decimal("605.50"), VAT) if status in ("ENCAISSEE", "MISE_EN_PAIEMENT") else []
    values = dict(
        message_id=f"T-{code}", code=code, set_at=AT, invoice_number="F2026-0042", invoice_type="380",
        invoice_date=date(2026, 9, 1), received_at=AT, currency="EUR",
        issuer=None if platform else (SELLER if by_supplier else BUYER), recipient=BUYER if by_supplier else SELLER,
        seller_siren=SELLER.siren, reason_code=reform_reason(status, reason), reason_text="Explication" if reason else "",
        amounts=amounts, amount_type={"ENCAISSEE": "MEN", "MISE_EN_PAIEMENT": "MPA"}.get(status, ""),
        amounts_date=date(2026, 9, 14) if amounts else None,
    )
    return cdar.LifecycleEvent(**(values | overrides))


CASES = [(status, reason) for status in REACHABLE if STATUSES[status].code_2026
         for reason in (REASONS_BY_STATUS.get(status) or ("",))]


def test_the_walk_covers_every_coded_status():
    assert {s for s, _ in CASES} == {s for s in STATUSES if STATUSES[s].code_2026}


@pytest.mark.parametrize(("status", "reason"), CASES)
def test_every_reachable_status_gives_a_valid_message(status, reason):
    root, problems = cdar.validate(cdar.build(event(status, reason)))
    assert root is not None and cdar.fatal(problems) == [], problems


def test_vendored_artefacts_are_the_official_ones():
    official = require_france_rfe() / "CDAR"
    assert cdar.XSLT_PATH.read_bytes() == (official / "2xslt" / cdar.XSLT_PATH.name).read_bytes()
    for xsd in (cdar.ARTEFACTS / "xsd").glob("*.xsd"):
        assert xsd.read_bytes() == (official / "1xsd-CDAR_D22B_uncoupled" / xsd.name).read_bytes()


def test_collection_is_split_over_the_vat_rates_to_the_cent():
    parts = cdar.split_by_rate(Decimal("705.50"), VAT)  # the whole amount: each rate's amount including VAT
    assert [(p.amount, p.vat_rate) for p in parts] == [(Decimal("600.00"), Decimal("20.00")), (Decimal("105.50"), Decimal("5.5"))]
    partial = cdar.split_by_rate(Decimal("100.00"), VAT)
    assert sum(p.amount for p in partial) == Decimal("100.00")


def rules(data: bytes) -> set[str]:
    return {p.rule for p in cdar.fatal(cdar.validate(data)[1])}


def test_the_schematron_refuses_what_the_reform_refuses():
    assert "BR-FR-CDV-15_MDT-113" in rules(cdar.build(event("REJETEE")))  # a refusal without its reason
    assert "BR-FR-CDV-CL-09_MDT-113_208" in rules(cdar.build(event("SUSPENDUE", reason_code="DOUBLON")))
    assert "BR-FR-CDV-14_MDT-207" in rules(cdar.build(event("ENCAISSEE", amounts=[])))  # 212 without its MEN amounts


def test_xsd_errors_come_first_and_are_named():
    data = cdar.build(event("PRISE_EN_CHARGE")).replace(b"<ram:TypeCode>23</ram:TypeCode>", b"<ram:Nope>23</ram:Nope>")
    problems = cdar.fatal(cdar.validate(data)[1])
    assert problems and {p.rule for p in problems} == {"CDAR-XSD"} and "Nope" in problems[0].message


@pytest.mark.parametrize("hostile", [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>',
    b"<r>" + b"x" * (cdar.MAX_MESSAGE_SIZE + 1) + b"</r>",
    b"not xml at all",
    b"<Invoice/>",
])
def test_hostile_or_foreign_xml_is_refused_without_being_read(hostile):
    root, problems = cdar.validate(hostile)
    assert root is None and problems and problems[0].rule in ("CDAR-XML", "CDAR-SIZE", "CDAR-ROOT")
    assert "passwd" not in problems[0].message and "root:" not in problems[0].message


def test_a_posted_message_is_read_back():
    data = cdar.build(event("MISE_EN_PAIEMENT"))
    root, problems = cdar.validate(data)
    posted = cdar.read_posted(root)
    assert (posted.invoice_number, posted.seller_siren, posted.code) == ("F2026-0042", SELLER.siren, "211")
    assert posted.amount == Decimal("605.50") and posted.amount_date == date(2026, 9, 14) and posted.set_at == AT


async def test_the_suite_wide_check_refuses_a_message_with_a_fatal_finding():
    """tests/support/cdar_check.py wraps what the product makes; here a refusal without its reason."""
    from tests.support import cdar_check

    class Invoice:
        id = 0

    async def make(invoice, event_id):
        return cdar.build(event("REJETEE"))

    with pytest.raises(cdar_check.InvalidCdar, match="BR-FR-CDV-15_MDT-113"):
        await cdar_check.checking(make)(Invoice(), 1)
    cdar_check.invalid.pop()  # made here on purpose: not a message of the product
