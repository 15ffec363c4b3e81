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
    # Validation circuit (A9 sous-traitant, A12 cotraitant): Chorus Pro's names; the 2026 reform
    # has no code for these steps, which happen before the public recipient receives the invoice.
    "A_VALIDER_1": Status("", "À valider par le titulaire"),
    "VALIDEE_1": Status("", "Validée par le titulaire"),
    "REFUSEE_1": Status("", "Refusée par le titulaire"),
    "ABSENCE_VALIDATION_1_HORS_DELAI": Status("", "Validée tacitement (15 jours sans réponse)"),
    "A_VALIDER_2": Status("", "À valider par le mandataire"),
    "VALIDEE_2": Status("", "Validée par le mandataire"),
    "REFUSEE_2": Status("", "Refusée par le mandataire"),
    "ABSENCE_VALIDATION_2_HORS_DELAI": Status("", "Validée tacitement par le mandataire (15 jours sans réponse)"),
}
# A subcontractor's or co-contractor's invoice before (or instead of) its reception by the public
# recipient: it is between the supplier and its validator, and the recipient does not see it.
BEFORE_RECEPTION = frozenset({"A_VALIDER_1", "A_VALIDER_2", "REFUSEE_1", "REFUSEE_2"})
DEPOSIT_REFUSED_CODE = "213"  # a file that failed validation: no invoice is created


def label(status: str) -> str:
    return STATUSES[status].label if status in STATUSES else status


# What happened to an invoice, said the way a notification says it; an avoir is masculine.
HAPPENED: dict[str, tuple[str, str]] = {
    "DEPOSEE": ("déposée", "déposé"),
    "MISE_A_DISPOSITION": ("mise à disposition", "mis à disposition"),
    "PRISE_EN_CHARGE": ("prise en charge", "pris en charge"),
    "SUSPENDUE": ("suspendue", "suspendu"),
    "COMPLETEE": ("complétée", "complété"),
    "A_RECYCLER": ("à recycler", "à recycler"),
    "REJETEE": ("rejetée", "rejeté"),
    "MANDATEE": ("mandatée", "mandaté"),
    "MISE_EN_PAIEMENT": ("mise en paiement", "mis en paiement"),
    "A_VALIDER_1": ("à valider", "à valider"),
    "A_VALIDER_2": ("à valider", "à valider"),
    "VALIDEE_1": ("validée", "validé"),
    "VALIDEE_2": ("validée", "validé"),
    "REFUSEE_1": ("refusée par le valideur", "refusé par le valideur"),
    "REFUSEE_2": ("refusée par le valideur", "refusé par le valideur"),
    "ABSENCE_VALIDATION_1_HORS_DELAI": ("validée tacitement", "validé tacitement"),
    "ABSENCE_VALIDATION_2_HORS_DELAI": ("validée tacitement", "validé tacitement"),
}
CREDIT_NOTE = "381"


def status_sentence(status: str, number: str, type_code: str | None = None) -> str:
    """« Facture n° F-1 rejetée », « Avoir n° A-2 mis en paiement », « Service fait pour la facture n° F-1 »."""
    credit_note = type_code == CREDIT_NOTE
    if status == "SERVICE_FAIT":
        document = "l'avoir" if credit_note else "la facture"
        return f"Service fait pour {document} n°\u00a0{number}"
    document = "Avoir" if credit_note else "Facture"
    if status in HAPPENED:
        return f"{document} n°\u00a0{number} {HAPPENED[status][credit_note]}"
    return f"{document} n°\u00a0{number}\u00a0: {label(status).lower()}"
