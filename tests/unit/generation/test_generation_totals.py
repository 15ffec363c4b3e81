"""Totals with EN 16931 rounding (BR-CO-10..16, BR-CO-17, BR-S-08/09) and the
tolerant draft computation of the capture page."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from backend.invoices.generation import examples as ex
from backend.invoices.generation.totals import (
    compute_totals,
    draft_totals,
    line_net,
    parse_number,
    round_amount,
    vat_amount,
)


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        ("3", "0.335", "1.01"),  # 1.005: half up (a float product gives 1.00499…)
        ("1", "1.005", "1.01"),
        ("1.005", "10", "10.05"),
        ("2.1234", "7.77", "16.50"),  # 16.498818
        ("0.0001", "0.0001", "0.00"),
        ("7.5", "48", "360.00"),
        ("1.0001", "9999.9999", "10001.00"),  # 10000.99989999 (4-decimal quantity and price)
        ("1", "0.125", "0.13"),  # half even would give 0.12
        ("1", "0.045", "0.05"),  # half even would give 0.04
    ],
)
def test_line_net_is_rounded_half_up(quantity: str, price: str, expected: str) -> None:
    result = line_net(D(quantity), D(price))
    assert result == D(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("basis", "rate", "expected"),
    [
        ("0.05", "10", "0.01"),  # 0.005 -> 0.01 (half even would give 0.00)
        ("113.34", "10", "11.33"),
        ("1.01", "5.5", "0.06"),  # 0.05555
        ("0.10", "5.5", "0.01"),  # 0.0055
        ("47.62", "2.1", "1.00"),  # 1.00002
        ("12.50", "2.1", "0.26"),  # 0.2625
        ("4110.00", "20", "822.00"),
        ("500.00", "0", "0.00"),
        ("-0.05", "10", "-0.01"),  # half away from zero, like the schematron's round(abs())
    ],
)
def test_vat_amount_is_rounded_half_up(basis: str, rate: str, expected: str) -> None:
    assert vat_amount(D(basis), D(rate)) == D(expected)


def test_round_amount_half_away_from_zero() -> None:
    assert round_amount(D("2.675")) == D("2.68")
    assert round_amount(D("-2.675")) == D("-2.68")


def test_tax_is_computed_on_the_rate_basis_not_per_line() -> None:
    # Three lines of 0.335 at 20 %: nets 0.34 each (0.335 rounded half up), basis 1.02,
    # tax 0.204 -> 0.20. Summing per-line taxes (0.07 x 3) would give 0.21: wrong (BR-CO-17).
    invoice = ex.invoice(lines=[ex.line(f"Article {i}", "1", "0.335") for i in range(3)])
    totals = compute_totals(invoice)
    assert totals.line_nets == [D("0.34")] * 3
    assert [(g.category, g.rate, g.basis, g.tax) for g in totals.vat_groups] == [
        ("S", D("20.00"), D("1.02"), D("0.20"))
    ]
    assert totals.tax_total == D("0.20")
    assert totals.tax_inclusive == D("1.22")


def test_several_rates_and_an_exemption() -> None:
    invoice = ex.invoice(
        lines=[
            ex.line("A", "3", "0.335", "20"),
            ex.line("B", "2.5", "45.335", "10"),  # 113.3375 -> 113.34
            ex.line("C", "3", "0.335", "5.5"),
            ex.line(
                "D",
                "1",
                "500",
                "0",
                vat_category="E",
                exemption_reason="Exonération, art. 261 du CGI",
                exemption_reason_code="VATEX-FR-CGI261-4",
            ),
            ex.line("E", "1", "10", "20"),
        ]
    )
    totals = compute_totals(invoice)
    assert totals.line_nets == [D("1.01"), D("113.34"), D("1.01"), D("500.00"), D("10.00")]
    groups = [(g.category, g.rate, g.basis, g.tax, g.exemption_reason_code) for g in totals.vat_groups]
    assert groups == [
        ("S", D("20.00"), D("11.01"), D("2.20"), None),  # 2.202
        ("S", D("10.00"), D("113.34"), D("11.33"), None),  # 11.334
        ("S", D("5.50"), D("1.01"), D("0.06"), None),  # 0.05555
        ("E", D("0.00"), D("500.00"), D("0.00"), "VATEX-FR-CGI261-4"),
    ]
    assert totals.line_total == totals.tax_exclusive == D("625.36")
    assert totals.tax_total == D("13.59")
    assert totals.tax_inclusive == D("638.95")
    assert totals.prepaid == D("0.00")
    assert totals.payable == D("638.95")


def test_already_paid_invoice_is_fully_prepaid() -> None:
    totals = compute_totals(ex.invoice(billing_framework="A2"))
    assert totals.tax_inclusive == D("4932.00")
    assert totals.prepaid == D("4932.00")
    assert totals.payable == D("0.00")


def test_partial_prepayment() -> None:
    totals = compute_totals(ex.invoice(prepaid_amount=D("1000")))
    assert totals.prepaid == D("1000.00")
    assert totals.payable == D("3932.00")


def assert_en16931_equations(totals) -> None:
    """BR-CO-10, 13, 14, 15, 16, 17 and BR-S-08 on a Totals object."""
    assert totals.line_total == sum(totals.line_nets, D(0))  # BR-CO-10
    assert totals.tax_exclusive == totals.line_total  # BR-CO-13 (no allowances / charges)
    assert totals.tax_total == sum((g.tax for g in totals.vat_groups), D(0))  # BR-CO-14
    assert totals.tax_inclusive == totals.tax_exclusive + totals.tax_total  # BR-CO-15
    assert totals.payable == totals.tax_inclusive - totals.prepaid  # BR-CO-16
    for group in totals.vat_groups:
        assert group.tax == (group.basis * group.rate / 100).quantize(
            D("0.01"), rounding="ROUND_HALF_UP"
        )  # BR-CO-17
    assert sum((g.basis for g in totals.vat_groups), D(0)) == totals.line_total  # BR-S-08 summed
    for value in (
        totals.line_total,
        totals.tax_total,
        totals.tax_inclusive,
        totals.payable,
        *totals.line_nets,
    ):
        assert value.as_tuple().exponent == -2


def test_random_invoices_satisfy_the_en16931_equations() -> None:
    rng = random.Random(20260302)
    for _ in range(200):
        lines = []
        for i in range(rng.randint(1, 12)):
            quantity = D(rng.randint(1, 999_999)) / D(10) ** rng.randint(0, 4)
            price = D(rng.randint(0, 9_999_999)) / D(10) ** rng.randint(0, 4)
            rate = rng.choice(["20", "10", "5.5", "2.1"])
            lines.append(ex.line(f"L{i}", str(quantity), str(price), rate))
        totals = compute_totals(ex.invoice(lines=lines))
        assert_en16931_equations(totals)
        # each line: its own rounding of quantity x price
        for line, net in zip(lines, totals.line_nets):
            assert abs(net - line.quantity * line.unit_price) <= D("0.005")


# --- parse_number / draft_totals --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 234,56", D("1234.56")),
        ("1\u202f234,5", D("1234.5")),
        ("1.234,56", D("1234.56")),
        ("1234.56", D("1234.56")),
        ("5,5 %", D("5.5")),
        ("12 €", D("12")),
        (12, D("12")),
        (0.1, D("0.1")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_number_reads_french_and_english_notations(raw, expected) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "1,2,3", "NaN", "Infinity", "1e", True, object()])
def test_parse_number_refuses_what_is_not_a_number(raw) -> None:
    with pytest.raises(ValueError):
        parse_number(raw)


def test_draft_counts_readable_rows_and_reports_the_others() -> None:
    rows = [
        {"description": "Porte", "quantity": "3", "unit_price": "1 250,00", "vat_rate": "20"},
        {"description": "Pose", "quantity": "7,5", "unit_price": "48", "vat_rate": "20 %"},
        {"description": "Vis", "quantity": "deux", "unit_price": "3", "vat_rate": "20"},  # unreadable
        {"description": "Livres", "quantity": "2", "unit_price": "", "vat_rate": "5,5"},  # empty cell
        {"description": "", "quantity": "", "unit_price": "", "vat_rate": ""},  # blank row: silent
        {"description": "Taux faux", "quantity": "1", "unit_price": "10", "vat_rate": "7"},
        {
            "description": "Formation",
            "quantity": "1",
            "unit_price": "500",
            "vat_rate": "0",
        },  # 0 % without category
        {
            "description": "Formation",
            "quantity": "1",
            "unit_price": "500",
            "vat_rate": "0",
            "vat_category": "E",
        },
        {"description": "Trop précis", "quantity": "1,00001", "unit_price": "1", "vat_rate": "20"},
    ]
    draft = draft_totals(rows)
    assert draft.line_nets == [D("3750.00"), D("360.00"), None, None, None, None, None, D("500.00"), None]
    assert draft.counted_lines == 3
    reported = {(i.line, i.field) for i in draft.issues}
    assert reported == {
        (2, "quantity"),
        (3, "unit_price"),
        (5, "vat_rate"),
        (6, "vat_category"),
        (8, "quantity"),
    }
    assert all(i.message for i in draft.issues)
    assert draft.line_total == D("4610.00")
    assert draft.tax_total == D("822.00")
    assert draft.tax_inclusive == D("5432.00")
    assert draft.payable == D("5432.00")


def test_draft_equals_final_totals_for_a_complete_form() -> None:
    invoice = ex.many_lines_invoice(30)
    rows = [
        {
            "quantity": str(line.quantity).replace(".", ","),
            "unit_price": str(line.unit_price),
            "vat_rate": str(line.vat_rate),
        }
        for line in invoice.lines
    ]
    draft, final = draft_totals(rows), compute_totals(invoice)
    assert draft.issues == []
    assert draft.line_nets == final.line_nets
    assert draft.vat_groups == final.vat_groups
    assert (draft.line_total, draft.tax_total, draft.tax_inclusive, draft.payable) == (
        final.line_total,
        final.tax_total,
        final.tax_inclusive,
        final.payable,
    )


def test_draft_prepaid_amount_and_already_paid() -> None:
    rows = [{"quantity": "1", "unit_price": "100", "vat_rate": "20"}]
    assert draft_totals(rows, "20,5").payable == D("99.50")
    assert draft_totals(rows, already_paid=True).payable == D("0.00")
    bad = draft_totals(rows, "beaucoup")
    assert bad.payable == D("120.00")
    assert [(i.line, i.field) for i in bad.issues] == [(None, "prepaid_amount")]
    negative = draft_totals(rows, "-5")
    assert negative.prepaid == D("0.00") and negative.issues[0].field == "prepaid_amount"


def test_draft_never_raises_on_garbage() -> None:
    def broken_rows():
        yield {"quantity": "1", "unit_price": "1", "vat_rate": "20"}
        raise RuntimeError("form decoding failed")

    for rows in (
        [None, 5, "texte", {"quantity": object(), "unit_price": [], "vat_rate": {}}],
        [{"quantity": "1e999999", "unit_price": "1e999999", "vat_rate": "20"}],
        [{"quantity": "-1", "unit_price": "-3", "vat_rate": "-20"}],
        [{"quantity": "1", "unit_price": "1", "vat_rate": "20", "vat_category": 42}],
        broken_rows(),
        [],
    ):
        draft = draft_totals(rows)  # must not raise
        assert draft.tax_inclusive == draft.line_total + draft.tax_total
    assert draft_totals([None, 5]).issues[0].line == 0
    assert draft_totals(broken_rows()).issues[0].field == "lines"
