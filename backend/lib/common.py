"""Small helpers shared by every domain."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def paris_today() -> date:
    """Today's date where the users are: what "a date in the future" is measured against."""
    return datetime.now(PARIS).date()


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: what searches compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("-", " ").replace("'", " ").split())
