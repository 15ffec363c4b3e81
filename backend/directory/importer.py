"""Placeholder replaced by the directory import work (see issue notes)."""

from __future__ import annotations


def import_command(structures: str, services: str | None) -> int:
    raise SystemExit("facteur directory import : pas encore disponible dans cette version.")
