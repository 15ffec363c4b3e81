"""Invoice statuses (Chorus Pro names) with their 2026 reform codes (XP Z12-012) and French labels."""

from __future__ import annotations

from typing import NamedTuple


class Status(NamedTuple):
    code_2026: str
    label: str


STATUSES: dict[str, Status] = {
    "BROUILLON": Status("", "Brouillon"),
    "DEPOSEE": Status("200", "Déposée"),
    "MISE_A_DISPOSITION": Status("203", "Mise à disposition"),
    "PRISE_EN_CHARGE": Status("204", "Prise en charge"),
    "SUSPENDUE": Status("208", "Suspendue"),
    "COMPLETEE": Status("209", "Complétée"),
    "A_RECYCLER": Status("221", "À recycler"),
    "REJETEE": Status("210", "Rejetée"),
    "SERVICE_FAIT": Status("205", "Service fait"),
    "MANDATEE": Status("205", "Mandatée"),
    "MISE_EN_PAIEMENT": Status("211", "Mise en paiement"),
}
DEPOSIT_REFUSED_CODE = "213"  # a file that failed validation: no invoice is created


def label(status: str) -> str:
    return STATUSES[status].label if status in STATUSES else status
