"""French display formats (Babel): money, dates in Europe/Paris, numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"
FRENCH = Locale.parse(LOCALE)


def money(value: Decimal | str | None, currency: str = "EUR") -> str:
    if value is None or value == "":
        return ""
    return format_currency(Decimal(value), currency, locale=LOCALE)


def number(value: Decimal | int | str | None) -> str:
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(value), locale=LOCALE)


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value.astimezone(PARIS), "d MMM y 'à' HH:mm", locale=LOCALE)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return format_date(value, "d MMM y", locale=LOCALE)


def unit_for(label: str, quantity: Decimal | int | str | None) -> str:
    """A unit word agreeing with its quantity: "1,5 heure", "4 unités"; symbols (kg, m²)
    and words already ending in s, x or z ("mois") do not change. In French the plural
    starts at 2."""
    try:
        plural = quantity is not None and quantity != "" and Decimal(quantity) >= 2
    except ArithmeticError:
        plural = False
    if not plural or len(label) < 3 or not label.isalpha() or label[-1] in "sxz":
        return label
    return label + "s"


def agree(count: Decimal | int | None, singular: str, plural_form: str | None = None) -> str:
    """The words that agree with count, by the French rule (CLDR, via Babel): 0 and 1 take
    the singular, 2 and more the plural. plural_form defaults to singular + "s", which only
    fits a single regular word: give it for anything else ("nouveaux messages")."""
    if plural_form is None:
        if " " in singular:
            raise ValueError(f"give the plural of {singular!r}")
        plural_form = singular if singular[-1:] in ("s", "x", "z") else singular + "s"
    return singular if FRENCH.plural_form(abs(count or 0)) == "one" else plural_form


def plural(count: Decimal | int | None, singular: str, plural_form: str | None = None) -> str:
    """A count followed by the words that agree with it: plural(0, "facture") == "0 facture",
    plural(2, "facture intégrée", "factures intégrées") == "2 factures intégrées". A form with
    "{n}" places the number itself: plural(1, "votre facture", "vos {n} factures").
    Every message printing a count uses this and is listed in backend/lib/count_messages.py."""
    words = agree(count, singular, plural_form)
    shown = number(count or 0)
    if "{n}" in singular or "{n}" in (plural_form or ""):
        return words.replace("{n}", shown)
    return f"{shown} {words}"


JINJA_FILTERS = {"money": money, "number": number, "datetime_fr": datetime_fr, "date_fr": date_fr, "unit_for": unit_for,
                 "plural": plural, "agree": agree}
