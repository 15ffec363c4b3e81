"""Invoice totals with EN 16931 rounding, in pure Decimal arithmetic.

* line net amount (BT-131) = quantity × net unit price, rounded to 2 decimals;
* for each VAT category and rate, taxable amount (BT-116) = Σ line nets (BR-S-08,
  BR-Z-08, BR-E-08, BR-AE-08, BR-IC-08, BR-G-08, BR-O-08: no document-level
  allowances or charges here), tax (BT-117) = taxable × rate / 100 rounded to 2
  decimals (BR-CO-17, BR-S-09);
* BT-106 = Σ BT-131 (BR-CO-10); BT-109 = BT-106 (BR-CO-13, no BT-107/BT-108);
  BT-110 = Σ BT-117 (BR-CO-14); BT-112 = BT-109 + BT-110 (BR-CO-15);
  BT-115 = BT-112 − BT-113 (BR-CO-16, no rounding amount BT-114).

Rounding is ROUND_HALF_UP, i.e. half away from zero, which is what the official
schematron computes (``round(abs(x))``): 0.005 → 0.01, −0.005 → −0.01.

``draft_totals`` serves the capture page, which recomputes while the user types: it
takes raw cells (French "1 234,5" or "1234.5"), skips the lines it cannot read and
reports why, and never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import msgspec

from .model import ALLOWED_RATES, MAX_DECIMALS, MAX_PRICE, MAX_QUANTITY, CapturedInvoice, decimals_of

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def round_amount(value: Decimal) -> Decimal:
    """2 decimals, half away from zero (EN 16931)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """BT-131 = BT-129 × BT-146 (no price base quantity, no line allowance/charge)."""
    return round_amount(quantity * unit_price)


def vat_amount(basis: Decimal, rate: Decimal) -> Decimal:
    """BT-117 = BT-116 × BT-119 / 100, rounded to 2 decimals (BR-CO-17)."""
    return round_amount(basis * rate / HUNDRED)


class VatGroup(msgspec.Struct, frozen=True):
    """One VAT breakdown (BG-23)."""

    category: str  # BT-118
    rate: Decimal  # BT-119 (0 for every non-S category; not written for O)
    basis: Decimal  # BT-116
    tax: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121


class Totals(msgspec.Struct, frozen=True):
    line_nets: list[Decimal]  # BT-131, one per line, in order
    vat_groups: list[VatGroup]  # BG-23
    line_total: Decimal  # BT-106
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal  # BT-113
    payable: Decimal  # BT-115


# Breakdown order: standard rates from the highest, then the other categories.
_CATEGORY_ORDER = {"S": 0, "Z": 1, "E": 2, "AE": 3, "K": 4, "G": 5, "O": 6}


def _group_key(category: str, rate: Decimal) -> tuple[int, Decimal]:
    return (_CATEGORY_ORDER.get(category, 9), -rate)


def _summarise(
    entries: Iterable[tuple[str, Decimal, Decimal, str | None, str | None]],
) -> tuple[list[VatGroup], Decimal, Decimal, Decimal]:
    """entries: (category, rate, line net, exemption reason, exemption code)."""
    bases: dict[tuple[str, Decimal], Decimal] = {}
    reasons: dict[tuple[str, Decimal], tuple[str | None, str | None]] = {}
    line_total = ZERO
    for category, rate, net, reason, code in entries:
        key = (category, rate.quantize(CENT))
        bases[key] = bases.get(key, ZERO) + net
        reasons.setdefault(key, (reason, code))
        line_total += net
    groups = [
        VatGroup(
            category=category,
            rate=rate,
            basis=basis,
            tax=vat_amount(basis, rate),
            exemption_reason=reasons[(category, rate)][0],
            exemption_reason_code=reasons[(category, rate)][1],
        )
        for (category, rate), basis in sorted(bases.items(), key=lambda item: _group_key(*item[0]))
    ]
    tax_total = sum((g.tax for g in groups), ZERO)
    tax_inclusive = line_total + tax_total
    return groups, line_total, tax_total, tax_inclusive


def compute_totals(invoice: CapturedInvoice) -> Totals:
    """Totals of a complete invoice (call ``check_invoice`` first: this trusts its input).

    The prepaid amount (BT-113) is the captured one, or for an already-paid invoice
    (A2) the total including VAT, so that the amount due (BT-115) is 0."""
    nets = [line_net(line.quantity, line.unit_price) for line in invoice.lines]
    entries = [
        (
            line.category,
            line.vat_rate,
            net,
            (line.exemption_reason or "").strip() or None,
            (line.exemption_reason_code or "").strip() or None,
        )
        for line, net in zip(invoice.lines, nets)
    ]
    groups, line_total, tax_total, tax_inclusive = _summarise(entries)
    if invoice.prepaid_amount is not None:
        prepaid = round_amount(invoice.prepaid_amount)
    elif invoice.billing_framework == "A2":
        prepaid = tax_inclusive
    else:
        prepaid = ZERO
    return Totals(
        line_nets=nets,
        vat_groups=groups,
        line_total=line_total,
        tax_exclusive=line_total,
        tax_total=tax_total,
        tax_inclusive=tax_inclusive,
        prepaid=prepaid,
        payable=tax_inclusive - prepaid,
    )


# --- incomplete forms -----------------------------------------------------------------


class DraftIssue(msgspec.Struct, frozen=True):
    line: int | None  # index of the row, None for the document (prepaid amount)
    field: str  # "quantity", "unit_price", "vat_rate", "vat_category", "prepaid_amount"
    message: str  # French


class DraftTotals(msgspec.Struct, frozen=True):
    line_nets: list[Decimal | None]  # one per row; None when the row was skipped
    vat_groups: list[VatGroup]
    line_total: Decimal
    tax_exclusive: Decimal
    tax_total: Decimal
    tax_inclusive: Decimal
    prepaid: Decimal
    payable: Decimal
    issues: list[DraftIssue]
    counted_lines: int


_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t'")


def parse_number(raw: object) -> Decimal | None:
    """Decimal from a form cell: "1 234,56", "1234.56", 12, Decimal. None if empty.
    Raises ValueError when the cell is not a finite number."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.translate(_SPACES).replace("%", "").replace("€", "")
        if not text:
            return None
        if "," in text:
            if "." in text:  # "1.234,56": dots group thousands
                text = text.replace(".", "")
            text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(raw) from exc
    else:
        raise ValueError(raw)
    if not value.is_finite():
        raise ValueError(raw)
    return value


def _cell(row: Mapping[str, object], name: str) -> object:
    value = row.get(name)
    if isinstance(value, str) and not value.strip():
        return None
    return value


_FIELD_LABELS = {"quantity": "la quantité", "unit_price": "le prix unitaire", "vat_rate": "le taux de TVA"}


def draft_totals(
    rows: Iterable[Mapping[str, object]], prepaid_amount: object = None, *, already_paid: bool = False
) -> DraftTotals:
    """Totals of a form being typed. Never raises.

    Each row is a mapping with ``quantity``, ``unit_price``, ``vat_rate`` and optionally
    ``vat_category``, ``exemption_reason`` and ``exemption_reason_code`` (raw cell values: strings in French or English notation, numbers
    or None). A row counts when its three numbers are readable and acceptable; else it
    is skipped and every problem is reported (row index, field, French message). A row
    whose cells are all empty is ignored silently (the blank row at the end of a form).
    ``already_paid`` (A2) makes the prepaid amount default to the total incl. VAT."""
    issues: list[DraftIssue] = []
    nets: list[Decimal | None] = []
    entries: list[tuple[str, Decimal, Decimal, str | None, str | None]] = []
    try:
        rows = list(rows)
    except Exception:  # a broken iterable: nothing to count
        rows = []
        issues.append(DraftIssue(None, "lines", "Lignes illisibles."))
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            nets.append(None)
            issues.append(DraftIssue(index, "line", "Ligne illisible."))
            continue
        cells = {name: _cell(row, name) for name in ("quantity", "unit_price", "vat_rate")}
        category_cell = _cell(row, "vat_category")
        if all(value is None for value in cells.values()) and not _cell(row, "description"):
            nets.append(None)
            continue
        values: dict[str, Decimal] = {}
        for name, raw in cells.items():
            try:
                value = parse_number(raw)
            except (ValueError, TypeError, ArithmeticError):
                issues.append(DraftIssue(index, name, f"Saisissez un nombre pour {_FIELD_LABELS[name]}."))
                continue
            if value is None:
                issues.append(DraftIssue(index, name, f"Saisissez {_FIELD_LABELS[name]}."))
                continue
            values[name] = value
        quantity, price, rate = values.get("quantity"), values.get("unit_price"), values.get("vat_rate")
        ok = len(values) == 3
        if quantity is not None and (
            quantity <= 0 or quantity >= MAX_QUANTITY or decimals_of(quantity) > MAX_DECIMALS
        ):
            issues.append(DraftIssue(index, "quantity", "Quantité positive, 4 décimales au plus."))
            ok = False
        if price is not None and (price < 0 or price >= MAX_PRICE or decimals_of(price) > MAX_DECIMALS):
            issues.append(DraftIssue(index, "unit_price", "Prix positif ou nul, 4 décimales au plus."))
            ok = False
        if rate is not None and rate not in ALLOWED_RATES:
            issues.append(DraftIssue(index, "vat_rate", "Taux possibles : 20, 10, 5,5, 2,1 ou 0 %."))
            ok = False
        category = str(category_cell).strip().upper() if category_cell is not None else None
        if ok and rate is not None:
            if category is None:
                category = "S" if rate > 0 else None
            if category is None:
                issues.append(
                    DraftIssue(index, "vat_category", "Taux 0 % : précisez la catégorie (exonération…).")
                )
                ok = False
            elif (category == "S") != (rate > 0) or category not in _CATEGORY_ORDER:
                issues.append(
                    DraftIssue(index, "vat_category", "Catégorie de TVA incompatible avec le taux.")
                )
                ok = False
        if not ok or quantity is None or price is None or rate is None or category is None:
            nets.append(None)
            continue
        net = line_net(quantity, price)
        nets.append(net)
        exempt = category != "S"  # the mention the breakdown will carry, shown with the totals
        reason = str(_cell(row, "exemption_reason") or "").strip() or None if exempt else None
        code = str(_cell(row, "exemption_reason_code") or "").strip() or None if exempt else None
        entries.append((category, rate, net, reason, code))
    prepaid = ZERO
    try:
        parsed = parse_number(prepaid_amount)
    except (ValueError, TypeError, ArithmeticError):
        parsed = None
        issues.append(DraftIssue(None, "prepaid_amount", "Saisissez un nombre pour le montant déjà payé."))
    groups, line_total, tax_total, tax_inclusive = _summarise(entries)
    if parsed is not None:
        if not 0 <= parsed < MAX_PRICE * MAX_QUANTITY:
            issues.append(
                DraftIssue(None, "prepaid_amount", "Le montant déjà payé ne peut pas être négatif.")
            )
        else:
            prepaid = round_amount(parsed)
    elif already_paid:
        prepaid = tax_inclusive
    return DraftTotals(
        line_nets=nets,
        vat_groups=groups,
        line_total=line_total,
        tax_exclusive=line_total,
        tax_total=tax_total,
        tax_inclusive=tax_inclusive,
        prepaid=prepaid,
        payable=tax_inclusive - prepaid,
        issues=issues,
        counted_lines=len(entries),
    )
