"""Small helpers shared by every domain."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


# Ids are SERIAL on PostgreSQL (SQLite's are wider): no row has an id outside 1..2**31-1.
MAX_ID = 2**31 - 1


def parse_id(raw: object, *, lowest: int = 1) -> int | None:
    """An id read from a URL or a form, or None when it cannot name a row (not a number, too large)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if lowest <= value <= MAX_ID else None


# How far the clock runs ahead of the real one: zero in production. Tests move it (see
# tests/support/clock.py) so that deadlines days away fall due without sleeping.
_clock_offset = timedelta(0)


def set_clock_offset(offset: timedelta) -> None:
    global _clock_offset
    _clock_offset = offset


def clock_offset() -> timedelta:
    return _clock_offset


def utcnow() -> datetime:
    return datetime.now(timezone.utc) + _clock_offset


def paris_today() -> date:
    """Today's date where the users are: what "a date in the future" is measured against."""
    return utcnow().astimezone(PARIS).date()


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: what searches compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("-", " ").replace("'", " ").split())
