"""French display formats (Babel): money, dates in Europe/Paris, numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


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


JINJA_FILTERS = {"money": money, "number": number, "datetime_fr": datetime_fr, "date_fr": date_fr}
