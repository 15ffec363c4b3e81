"""Small helpers shared by every domain."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: what searches compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("-", " ").replace("'", " ").split())
