"""The works monthly circuit as data (issue #11): every step of each role, the refusals, the deadline."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from backend.processing import frameworks
from backend.processing.lifecycle import (
    CIRCUITS, MOA, MOE, PLATFORM, RECIPIENT, SUPPLIER, TransitionError, actions_for, check_transition, validate_data,
)
from backend.works import circuit

W = frameworks.WORKS_MONTHLY


@pytest.mark.parametrize("status", ["MISE_A_DISPOSITION_MOE", "COMPLETEE_MOE", "HORS_DELAI_MOE"])
def test_moe_accepts_asks_completion_or_refuses_while_the_statement_waits(status):
    assert actions_for(status, MOE, circuit=W) == ["PRISE_EN_COMPTE_MOE", "SUSPENDUE_MOE", "REFUSEE_MOE"]
    assert actions_for(status, MOA, circuit=W) == [] and actions_for(status, RECIPIENT, circuit=W) == []


def test_each_role_steps():
    assert actions_for("SUSPENDUE_MOE", SUPPLIER, circuit=W) == ["COMPLETEE_MOE"]
    assert actions_for("HORS_DELAI_MOE", SUPPLIER, circuit=W) == ["TRANSMISE_MOA"]
    assert actions_for("MISE_A_DISPOSITION_MOE", SUPPLIER, circuit=W) == []  # the titulaire waits
    assert actions_for("MISE_A_DISPOSITION_MOA", MOA, circuit=W) == ["PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"]
    assert actions_for("MISE_A_DISPOSITION_MOA", MOE, circuit=W) == []
    for waiting in ("MISE_A_DISPOSITION_MOE", "COMPLETEE_MOE"):
        assert CIRCUITS[W][PLATFORM][waiting] == {"HORS_DELAI_MOE"}
    # The A19 the payer receives follows the simple circuit's processing.
    assert "SERVICE_FAIT" in actions_for("MISE_A_DISPOSITION", RECIPIENT, circuit=W)


@pytest.mark.parametrize("status", ["PRISE_EN_COMPTE_MOE", "REFUSEE_MOE", "TRANSMISE_MOA", "PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"])
def test_decided_pieces_take_no_more_steps_from_people(status):
    for role in (SUPPLIER, MOE, MOA, RECIPIENT):
        assert actions_for(status, role, circuit=W) == []


def test_refused_steps_say_why():
    with pytest.raises(TransitionError) as moa:
        check_transition("MISE_A_DISPOSITION_MOE", MOA, "PRISE_EN_COMPTE_MOE", W)
    assert moa.value.http_status == 403
    with pytest.raises(TransitionError) as done:
        check_transition("REFUSEE_MOE", MOE, "PRISE_EN_COMPTE_MOE", W)
    assert done.value.http_status == 409 and "circuit est terminé" in done.value.message_fr
    with pytest.raises(TransitionError):  # the simple circuit knows nothing of the MOE
        check_transition("MISE_A_DISPOSITION_MOE", MOE, "PRISE_EN_COMPTE_MOE", frameworks.SIMPLE)


def test_a_whole_refusal_for_an_amount_error_is_not_allowed():
    for reason in ("MONTANTTOTAL_ERR", "CALCUL_ERR", "PU_ERR"):
        with pytest.raises(TransitionError) as caught:
            validate_data("REFUSEE_MOE", reason_code=reason, comment="Montants faux")
        assert caught.value.code == "amount_refusal_forbidden" and "R.2192-34" in caught.value.message_fr
    assert validate_data("REFUSEE_MOE", reason_code="CMD_ERR", comment="Autre marché") == {}
    with pytest.raises(TransitionError) as no_reason:
        validate_data("REFUSEE_MOE", comment="Non")
    assert no_reason.value.code == "reason_required"
    for target in ("SUSPENDUE_MOE", "REFUSEE_MOA"):
        with pytest.raises(TransitionError) as silent:
            validate_data(target)
        assert silent.value.code == "comment_required"


def test_moe_deadline_is_seven_days_with_a_reminder_two_days_before():
    start = datetime(2026, 9, 30, 10, tzinfo=timezone.utc)
    assert circuit.due_at(start) == datetime(2026, 10, 7, 10, tzinfo=timezone.utc)
    assert circuit.days_left(circuit.due_at(start), start) == 7
    assert circuit.days_left(circuit.due_at(start), datetime(2026, 10, 9, tzinfo=timezone.utc)) == 0


def test_statement_amounts_and_corrections():
    asked = circuit.statement_of({"works": "10 000,50", "supplies": "", "expenses": "12"})
    assert asked.works == Decimal("10000.50") and asked.supplies == Decimal("0.00")
    corrected = circuit.statement_of({**circuit.as_json(asked), "works": "9000"})
    assert circuit.corrected_fields(asked, corrected) == ["works"]
    for bad in ("abc", "1.001", 12.5):
        with pytest.raises(circuit.StatementError):
            circuit.statement_of({"works": bad})
    with pytest.raises(circuit.StatementError) as negative:
        circuit.statement_of({"penalties": "-1"})
    assert negative.value.field == "penalties"
    assert circuit.statement_of({"price_revision": "-10"}).price_revision == Decimal("-10.00")  # an index may fall


def test_a_subcontractor_statement_goes_to_the_moe_once_validated():
    from backend.processing.lifecycle import VALIDATOR, next_after_validation

    assert actions_for("A_VALIDER_1", VALIDATOR, circuit=W) == ["VALIDEE_1", "REFUSEE_1"]
    assert next_after_validation("VALIDEE_1", 1, "A10") == "MISE_A_DISPOSITION_MOE"
    assert next_after_validation("ABSENCE_VALIDATION_1_HORS_DELAI", 1, "A13") == "MISE_A_DISPOSITION_MOE"
    assert next_after_validation("VALIDEE_1", 2, "A10") == "A_VALIDER_2"
    assert next_after_validation("VALIDEE_1", 1, "A9") == "MISE_A_DISPOSITION"  # an invoice goes to its recipient
    check_transition("VALIDEE_1", PLATFORM, "MISE_A_DISPOSITION_MOE", W)


def test_works_pieces_are_entered_not_deposited():
    assert all(frameworks.FRAMEWORKS[c].enabled for c in ("A4", "A10", "A13", "A15", "A19"))
    assert "espace Travaux" in frameworks.refusal("A4")
    assert {f.code for f in frameworks.offered()} == {"A1", "A2", "A9", "A12"}
