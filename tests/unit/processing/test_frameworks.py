"""Billing frameworks as data: BT-23 read as Chorus Pro reads it, unknown or not-yet-run circuits refused in French."""

from __future__ import annotations

import pytest

from backend.processing import frameworks


@pytest.mark.parametrize("bt23, code", [
    (None, "A1"), ("", "A1"), ("A1", "A1"), (" a2 ", "A2"), ("A4", "A4"), ("A25", "A25"),
    # Not a Chorus Pro code: a Peppol profile, the 2026 reform's process codes. A supplier's invoice.
    ("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", "A1"), ("S1", "A1"), ("B1", "A1"), ("M1", "A1"), ("S4", "A1"),
    # The reform's codes for a framework Chorus Pro names otherwise: what Facteur writes for A2, A9, A12.
    ("S2", "A2"), ("b2", "A2"), (" M2 ", "A2"), ("S5", "A9"), ("S6", "A12"),
    # Shaped like a Chorus Pro code but not one of them.
    ("A11", None), ("A26", None), ("A0", None),
])
def test_bt23_names_its_framework(bt23, code):
    assert frameworks.code_of(bt23) == code


def test_the_chorus_pro_list_is_whole_and_only_the_simple_and_validation_circuits_are_taken_yet():
    assert [f.code for f in frameworks.FRAMEWORKS.values()] == [f"A{n}" for n in range(1, 26) if n != 11]
    assert [f.code for f in frameworks.offered()] == ["A1", "A2", "A9", "A12"]
    assert frameworks.refusal("A1") is None and frameworks.refusal("S1") is None


def test_a_works_statement_file_is_refused_with_where_to_enter_it():
    reason = frameworks.refusal("A4")
    assert "A4" in reason and "projet de décompte mensuel" in reason and "espace Travaux" in reason
    assert "maître d'œuvre" in reason and "indiquez le cadre A1" in reason
    # The final circuit and the tacit procedure are entered in the works space too, never deposited.
    for code in ("A7", "A8", "A14", "A17", "A20", "A22", "A23"):
        assert "espace Travaux" in frameworks.refusal(code), code
    # What Facteur still does not run: said with where to send it.
    assert "Chorus Pro" in frameworks.refusal("A18") and "Chorus Pro" in frameworks.refusal("A24")


def test_subcontractor_statements_are_entered_in_the_works_space():
    assert frameworks.refusal("A9") is None and frameworks.refusal("A12") is None
    assert "espace Travaux" in frameworks.refusal("A10") and "espace Travaux" in frameworks.refusal("A13")
    assert frameworks.FRAMEWORKS["A14"].circuit == frameworks.WORKS_FINAL  # validated by the mandataire first, then final


def test_a_reform_code_is_taken_as_the_framework_it_names():
    assert frameworks.refusal("S2") is None and frameworks.refusal("B2") is None
    # Subcontractor (S5) and co-contractor (S6) invoices follow the validation circuit.
    assert (frameworks.code_of("S5"), frameworks.code_of("S6")) == ("A9", "A12")
    assert frameworks.refusal("S5") is None and frameworks.refusal("S6") is None


def test_an_unknown_code_is_said_as_found():
    assert "« A11 »" in frameworks.refusal("A11") and "de A1 à A25" in frameworks.refusal("A11")


def test_labels_name_the_code_and_what_it_is():
    assert frameworks.label("A2") == "A2 — Dépôt par un fournisseur d'une facture déjà payée"
    assert frameworks.label("ZZ") == "ZZ"
