"""Push notifications say what happened to the invoice as a French sentence, not « Facture n° X : label »."""

from __future__ import annotations

import pytest

from backend.invoices.statuses import STATUSES, status_sentence


@pytest.mark.parametrize(("status", "type_code", "said"), [
    ("SERVICE_FAIT", "380", "Service fait pour la facture n°\u00a0F-2026-001"),
    ("SERVICE_FAIT", "381", "Service fait pour l'avoir n°\u00a0F-2026-001"),
    ("MANDATEE", "380", "Facture n°\u00a0F-2026-001 mandatée"),
    ("MANDATEE", "381", "Avoir n°\u00a0F-2026-001 mandaté"),
    ("MISE_A_DISPOSITION", "380", "Facture n°\u00a0F-2026-001 mise à disposition"),
    ("PRISE_EN_CHARGE", "381", "Avoir n°\u00a0F-2026-001 pris en charge"),
    ("MISE_EN_PAIEMENT", None, "Facture n°\u00a0F-2026-001 mise en paiement"),
    ("REJETEE", "380", "Facture n°\u00a0F-2026-001 rejetée"),
])
def test_a_status_change_is_a_sentence(status, type_code, said):
    assert status_sentence(status, "F-2026-001", type_code) == said


def test_a_memoire_de_justice_is_said_as_one():
    assert status_sentence("REJETEE", "MJ-1", "380", "A3") == "Mémoire n°\u00a0MJ-1 rejeté"
    assert status_sentence("SERVICE_FAIT", "MJ-1", "380", "A3") == "Service fait pour le mémoire n°\u00a0MJ-1"
    assert status_sentence("DUPLIQUEE", "MJ-1", "380", "A3") == "Mémoire n°\u00a0MJ-1 dupliqué après refus"


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "BROUILLON"])
def test_every_status_an_invoice_reaches_has_its_sentence(status):
    assert ":" not in status_sentence(status, "F-1", "380")
