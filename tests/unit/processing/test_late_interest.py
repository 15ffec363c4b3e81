"""Intérêts moratoires on worked examples: ECB rate of the half-year + 8 points, actual/365, €40 once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backend.processing.late_interest import compute, half_year_start, rate_on, shipped_rates

RATES = list(shipped_rates())
D = Decimal


def test_the_shipped_table_gives_the_rate_in_force_on_a_day():
    assert rate_on(date(2025, 1, 1), RATES) == D("3.15")  # since 18 December 2024
    assert rate_on(date(2025, 7, 1), RATES) == D("2.15")
    assert rate_on(date(2024, 6, 12), RATES) == D("4.25")  # the day it took effect
    assert rate_on(date(2024, 6, 11), RATES) == D("4.50")
    assert rate_on(date(2000, 1, 1), RATES) is None
    assert half_year_start(date(2024, 6, 30)) == date(2024, 1, 1) and half_year_start(date(2024, 7, 1)) == date(2024, 7, 1)


def test_ten_thousand_euros_thirty_days_late():
    # Due 31 March 2025, paid 30 April: interest from 1 April (H1 2025: 3.15 % + 8 = 11.15 %), 30 days.
    late = compute(date(2025, 3, 31), D("10000.00"), [(date(2025, 4, 30), D("10000.00"))], date(2025, 6, 1), RATES)
    assert (late.days_late, late.rate_date, late.rate_percent) == (30, date(2025, 1, 1), D("11.15"))
    assert late.interest == D("91.64")  # 10 000 × 11.15 % × 30 / 365 = 91.643…
    assert late.indemnity == D("40.00") and late.total == D("131.64") and late.complete


def test_paid_on_the_last_day_is_not_late():
    assert compute(date(2025, 3, 31), D("100.00"), [(date(2025, 3, 31), D("100.00"))], date(2025, 6, 1), RATES) is None


def test_a_leap_february_adds_a_day_and_the_year_still_counts_365():
    # 15 February → 16 March: 30 days in 2024 (29 February), 29 days in 2025.
    leap = compute(date(2024, 2, 15), D("1000.00"), [(date(2024, 3, 16), D("1000.00"))], date(2024, 6, 1), RATES)
    plain = compute(date(2025, 2, 15), D("1000.00"), [(date(2025, 3, 16), D("1000.00"))], date(2025, 6, 1), RATES)
    assert (leap.days_late, leap.rate_percent, leap.interest) == (30, D("12.50"), D("10.27"))  # 1 000 × 12.5 % × 30/365
    assert (plain.days_late, plain.rate_percent, plain.interest) == (29, D("11.15"), D("8.86"))  # 1 000 × 11.15 % × 29/365


def test_the_half_year_in_which_interest_starts_fixes_the_rate_for_the_whole_delay():
    # Due 30 June 2024: interest starts 1 July → H2 2024 rate (4.25 %, in force on 1 July) + 8.
    july = compute(date(2024, 6, 30), D("1000.00"), [(date(2024, 7, 30), D("1000.00"))], date(2024, 9, 1), RATES)
    assert (july.rate_date, july.rate_percent, july.days_late, july.interest) == (date(2024, 7, 1), D("12.25"), 30, D("10.07"))
    # Due 29 June: interest starts 30 June → H1 2024 rate (4.50 %) + 8, kept after 1 July.
    june = compute(date(2024, 6, 29), D("1000.00"), [(date(2024, 7, 30), D("1000.00"))], date(2024, 9, 1), RATES)
    assert (june.rate_date, june.rate_percent, june.days_late, june.interest) == (date(2024, 1, 1), D("12.50"), 31, D("10.62"))


def test_each_partial_payment_carries_its_own_delay():
    # 3 000 € due 31 March 2025: 1 000 on time, 1 000 ten days late, 1 000 forty days late.
    payments = [(date(2025, 3, 20), D("1000.00")), (date(2025, 4, 10), D("1000.00")), (date(2025, 5, 10), D("1000.00"))]
    late = compute(date(2025, 3, 31), D("3000.00"), payments, date(2025, 6, 1), RATES)
    assert late.interest == D("15.27")  # 1 000 × 11.15 % × (10 + 40) / 365 = 15.273…
    assert late.days_late == 40 and late.indemnity == D("40.00") and late.complete


def test_an_unpaid_remainder_keeps_running_to_today():
    payments = [(date(2025, 3, 20), D("1000.00")), (date(2025, 4, 10), D("1000.00"))]
    late = compute(date(2025, 3, 31), D("3000.00"), payments, date(2025, 5, 10), RATES)
    assert late.interest == D("15.27") and late.days_late == 40 and not late.complete
    later = compute(date(2025, 3, 31), D("3000.00"), payments, date(2025, 5, 20), RATES)
    assert later.interest > late.interest


def test_a_rate_added_by_the_operator_is_used_from_its_date():
    added = sorted([*RATES, (date(2026, 6, 10), D("1.90"))])
    late = compute(date(2026, 6, 30), D("1000.00"), [(date(2026, 7, 30), D("1000.00"))], date(2026, 9, 1), added)
    assert (late.ecb_rate, late.rate_percent) == (D("1.90"), D("9.90"))
