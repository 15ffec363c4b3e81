"""État d'acompte arithmetic (CCAG Travaux 2021 art. 12) on worked examples, to the cent."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from backend.works.acompte import AcompteError, Statement, Terms, compute


def amounts(etat) -> dict[str, D]:
    return {line.code: line.amount for line in etat.lines}


def test_first_month_vat_and_retenue():
    # 10 000 € of works and 2 000 € of supplies; 20 % VAT; 5 % retenue on the TTC amount.
    etat = compute(Statement(works=D("10000.00"), supplies=D("2000.00")), None, Terms())
    got = amounts(etat)
    assert got["works"] == D("12000.00")
    assert got["excl_vat"] == D("12000.00")
    assert got["vat"] == D("2400.00")
    assert got["retenue"] == D("720.00")  # 5 % of 14 400
    assert etat.total == D("13680.00") == got["total"]
    assert etat.line("works").label.startswith("Travaux") and etat.line("works").letter == "a"
    assert etat.warnings == []


def test_later_month_is_the_difference_of_cumulative_statements():
    previous = Statement(works=D("12000.00"), price_revision=D("100.00"), penalties=D("0.00"))
    current = Statement(works=D("30000.00"), price_revision=D("250.00"), bonuses=D("500.00"), penalties=D("200.00"),
                        expenses=D("80.00"))
    etat = compute(current, previous, Terms(vat_rate=D("0.10"), retenue_rate=D("0")))
    got = amounts(etat)
    assert got["works"] == D("18000.00")
    assert got["price_revision"] == D("150.00")
    assert got["bonuses"] == D("500.00") and got["penalties"] == D("200.00")
    assert got["excl_vat"] == D("18450.00")  # a + b + d − c
    assert got["vat"] == D("1845.00")
    assert got["expenses"] == D("80.00")  # outside VAT
    assert etat.total == D("20375.00")
    # Every line shown adds up to the total shown.
    assert sum(line.amount * line.sign for line in etat.lines if line.sign) == etat.total


def test_advance_granted_then_repaid():
    first = compute(Statement(works=D("10000.00")), None,
                    Terms(retenue_rate=D("0"), advance_total=D("5000.00"), advance_granted_now=D("5000.00")))
    assert first.total == D("17000.00")  # 12 000 TTC + the 5 000 advance
    later = compute(Statement(works=D("40000.00"), advance_repaid=D("1500.00")), Statement(works=D("10000.00")),
                    Terms(retenue_rate=D("0"), advance_total=D("5000.00")))
    assert amounts(later)["advance_repaid"] == D("1500.00")
    assert later.total == D("34500.00")  # 36 000 TTC − 1 500
    with pytest.raises(AcompteError) as refused:
        compute(Statement(works=D("40000.00"), advance_repaid=D("6000.00")), None, Terms(advance_total=D("5000.00")))
    assert refused.value.code == "advance_over_repaid"


def test_retenue_rounding_half_up_to_the_cent():
    # 333.33 HT → 66.666 VAT → 66.67; a 3 % retenue of 400.00 TTC = 12.00
    etat = compute(Statement(works=D("333.33")), None, Terms(retenue_rate=D("0.03")))
    got = amounts(etat)
    assert got["vat"] == D("66.67")
    assert got["retenue"] == D("12.00")
    assert etat.total == D("388.00")
    # Exactly half a cent goes up (half-even would give 0.02): 0.25 × 10 % = 0.025 → 0.03
    assert amounts(compute(Statement(works=D("0.25")), None, Terms(vat_rate=D("0.10"), retenue_rate=D("0"))))["vat"] == D("0.03")


def test_retenue_limits_and_caution():
    with pytest.raises(AcompteError) as too_high:
        compute(Statement(works=D("100.00")), None, Terms(retenue_rate=D("0.06")))
    assert too_high.value.code == "retenue_rate_invalid" and "5 %" in too_high.value.message
    with pytest.raises(AcompteError) as both:
        compute(Statement(works=D("100.00")), None, Terms(caution=True))
    assert both.value.code == "retenue_with_caution"
    with_caution = compute(Statement(works=D("100.00")), None, Terms(caution=True, retenue_rate=D("0")))
    assert amounts(with_caution)["retenue"] == D("0.00") and with_caution.total == D("120.00")


def test_negative_month_is_flagged_or_refused():
    # The works cumul goes down but bonuses keep the month positive: computed, with a warning.
    etat = compute(Statement(works=D("9000.00"), bonuses=D("2000.00")), Statement(works=D("10000.00")), Terms(retenue_rate=D("0")))
    assert amounts(etat)["works"] == D("-1000.00") and etat.total == D("1200.00")
    assert etat.warnings and "baissent de 1\u202f000,00 €" in etat.warnings[0]
    # A month with nothing to pay but a decrease is refused, with the amount in French.
    with pytest.raises(AcompteError) as refused:
        compute(Statement(works=D("9000.00")), Statement(works=D("10000.00")), Terms())
    assert refused.value.code == "negative_total" and "-1\u202f200,00 €" in refused.value.message


def test_bad_amounts_are_refused_with_the_field_named():
    with pytest.raises(AcompteError) as fraction:
        compute(Statement(works=D("10.001")), None, Terms())
    assert fraction.value.code == "amount_invalid" and "Travaux (ce mois)" in fraction.value.message
    with pytest.raises(AcompteError) as negative:
        compute(Statement(works=D("-5.00")), None, Terms())
    assert negative.value.code == "amount_negative"
