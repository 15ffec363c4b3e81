"""What the pages call each step a person can take, and which of them cannot be undone."""

from __future__ import annotations

from backend.processing import lifecycle

ACTION_LABELS = {
    "PRISE_EN_CHARGE": "Prendre en charge", "SUSPENDUE": "Suspendre", "A_RECYCLER": "À recycler",
    "REJETEE": "Rejeter", "SERVICE_FAIT": "Service fait", "MANDATEE": "Mandater",
    "MISE_EN_PAIEMENT": "Mettre en paiement", "COMPLETEE": "Compléter", "DEPOSEE": "Recycler (corriger l'acheminement)",
    "ENCAISSEE": "Enregistrer un encaissement",
    lifecycle.ACKNOWLEDGE: "Prendre acte du rejet",
    lifecycle.DUPLICATE: "Dupliquer le mémoire", lifecycle.ABANDON: "Abandonner le mémoire",
    **{f"VALIDEE_{n}": "Valider" for n in lifecycle.VALIDATION_LEVELS},
    **{f"REFUSEE_{n}": "Refuser" for n in lifecycle.VALIDATION_LEVELS},
}
# Steps that cannot be undone: the page asks for a confirmation before posting them.
IRREVERSIBLE = frozenset({"REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT", lifecycle.ACKNOWLEDGE,
                          lifecycle.DUPLICATE, lifecycle.ABANDON,
                          *lifecycle.PASSED, *lifecycle.REFUSED})
