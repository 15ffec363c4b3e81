"""Intérêts moratoires and the €40 indemnité forfaitaire of a late payment (Code de la commande publique).

The rules applied (articles R.2192-31 to R.2192-36 and D.2192-35 as we read them; check them on
Légifrance before relying on them for a claim):

* interest runs from the day after the last day to pay up to the payment date included: the
  days late of an amount are `payment date - due date`;
* the rate is the ECB main refinancing rate in force on the first day of the half-year
  (1 January or 1 July) in which interest started to run, plus 8 points; one rate for the
  whole delay, even when it crosses into another half-year;
* simple interest, prorated per day on a 365-day year, leap years included ("actual/365",
  the formula montant × taux × jours / 365 of the public accountants' guides);
* each amount carries its own delay: a partial payment stops the interest on what it paid,
  the remainder keeps running (to today while unpaid);
* the €40 indemnité forfaitaire pour frais de recouvrement is due once per invoice paid late.

The ECB rates ship in ecb_rates.csv (source noted there); an operator adds newer ones with
`facteur ecb-rate set YYYY-MM-DD RATE` (table ecb_rate, a row there wins over the shipped
line of the same date).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from backend.invoices.tables import InvoiceHistory
from backend.processing.tables import EcbRate

SHIPPED = Path(__file__).with_name("ecb_rates.csv")
MARGIN = Decimal("8")  # points over the ECB rate
INDEMNITY = Decimal("40.00")
YEAR_DAYS = Decimal(365)
CENT = Decimal("0.01")

Rates = list[tuple[date, Decimal]]  # (effective from, percent), oldest first


@dataclass(frozen=True)
class LateInterest:
    days_late: int  # of the last amount paid (or of the unpaid remainder, to today)
    rate_date: date  # the first day of the half-year whose rate applies
    ecb_rate: Decimal
    rate_percent: Decimal  # ecb_rate + 8
    interest: Decimal
    indemnity: Decimal
    total: Decimal
    complete: bool  # False while part is unpaid: the interest still grows


@cache
def shipped_rates() -> tuple[tuple[date, Decimal], ...]:
    """The rates shipped with the product: read once per process."""
    lines = [line for line in SHIPPED.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return tuple((date.fromisoformat(row["effective_on"]), Decimal(row["rate"])) for row in csv.DictReader(lines))


async def rates() -> Rates:
    """Shipped rates, with the operator's rows added (or winning on the same date)."""
    merged = dict(shipped_rates())
    for row in await EcbRate.select(EcbRate.effective_on, EcbRate.rate):
        merged[_as_date(row["effective_on"])] = _percent(Decimal(str(row["rate"])))
    return sorted(merged.items())


def _percent(rate: Decimal) -> Decimal:
    """Two decimals, three when needed, as the ECB writes its rates (SQLite gives 3, PostgreSQL 3.000)."""
    plain = rate.normalize()
    return plain.quantize(CENT) if plain.as_tuple().exponent > -2 else plain


async def set_rate(effective_on: date, rate: Decimal) -> None:
    """`facteur ecb-rate set`: add (or correct) the rate in force from this date."""
    updated = await EcbRate.update({EcbRate.rate: rate}).where(EcbRate.effective_on == effective_on).returning(EcbRate.id)
    if not updated:
        await EcbRate.insert(EcbRate(effective_on=effective_on, rate=rate))


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def rate_on(day: date, known: Rates) -> Decimal | None:
    """The ECB rate in force on this day: the latest that took effect on or before it (None before the table)."""
    found = None
    for effective, rate in known:
        if effective > day:
            break
        found = rate
    return found


def compute(due: date, amount_due: Decimal, payments: list[tuple[date, Decimal]], today: date, known: Rates) -> LateInterest | None:
    """The interest and indemnity of an invoice due on `due`, given its payments; None when nothing was late."""
    paid_late = [(day, amount) for day, amount in payments if day > due]
    remainder = amount_due - sum((amount for _, amount in payments), Decimal(0))
    unpaid_late = remainder > 0 and today > due
    if not paid_late and not unpaid_late:
        return None
    started = due + timedelta(days=1)
    rate_date = half_year_start(started)
    ecb = rate_on(rate_date, known)
    if ecb is None:
        return None  # no rate known that far back: nothing honest to show
    percent = ecb + MARGIN
    periods = [(amount, (day - due).days) for day, amount in paid_late]
    if unpaid_late:
        periods.append((remainder, (today - due).days))
    exact = sum((amount * percent / 100 * days / YEAR_DAYS for amount, days in periods), Decimal(0))
    interest = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    return LateInterest(
        days_late=max(days for _, days in periods), rate_date=rate_date, ecb_rate=ecb, rate_percent=percent,
        interest=interest, indemnity=INDEMNITY, total=interest + INDEMNITY, complete=not unpaid_late,
    )


async def payments_of(invoice_ids: list[int]) -> dict[int, list[tuple[date, Decimal]]]:
    """Each invoice's payments (date, amount), read from its MISE_EN_PAIEMENT history rows in one query."""
    found: dict[int, list[tuple[date, Decimal]]] = {i: [] for i in invoice_ids}
    if not invoice_ids:
        return found
    rows = await InvoiceHistory.select(InvoiceHistory.invoice, InvoiceHistory.details).where(
        InvoiceHistory.invoice.is_in(invoice_ids) & (InvoiceHistory.status == "MISE_EN_PAIEMENT")).order_by(InvoiceHistory.id)
    for row in rows:
        details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"] or "{}")
        payment = details.get("payment") or {}
        if payment.get("date") and payment.get("amount"):
            found[row["invoice"]].append((date.fromisoformat(payment["date"]), Decimal(str(payment["amount"]))))
    return found


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


async def add_interest(views: list[tuple[int, dict, Decimal]]) -> None:
    """For each (invoice id, payment_delays.state view, amount due) that is late, view["interest"]
    becomes its LateInterest (None otherwise): the payments and the rates read once for all."""
    late = [(invoice_id, view, amount) for invoice_id, view, amount in views if view.get("days_late")]
    for _, view, _ in views:
        view["interest"] = None
    if not late:
        return
    payments = await payments_of([invoice_id for invoice_id, _, _ in late])
    known = await rates()
    for invoice_id, view, amount in late:
        view["interest"] = compute(view["due_by"], Decimal(str(amount)), payments[invoice_id], view["today"], known)
