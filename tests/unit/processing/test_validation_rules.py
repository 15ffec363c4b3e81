"""The validation circuit's pure rules (A9 sous-traitant, A12 cotraitant): every transition, right
and deadline, as data in the one lifecycle module."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backend.invoices.statuses import STATUSES
from backend.processing import frameworks, validation
from backend.processing.lifecycle import (
    ACKNOWLEDGE,
    PLATFORM,
    RECIPIENT,
    SUPPLIER,
    TRANSITIONS,
    VALIDATOR,
    Actor,
    CIRCUITS,
    TransitionError,
    actions_for,
    check_transition,
    circuit_of,
    next_after_validation,
    validate_data,
)

VALIDATION = frameworks.VALIDATION
ALLOWED = {
    (VALIDATOR, "A_VALIDER_1"): {"VALIDEE_1", "REFUSEE_1"},
    (VALIDATOR, "A_VALIDER_2"): {"VALIDEE_2", "REFUSEE_2"},
    (PLATFORM, "A_VALIDER_1"): {"ABSENCE_VALIDATION_1_HORS_DELAI"},
    (PLATFORM, "A_VALIDER_2"): {"ABSENCE_VALIDATION_2_HORS_DELAI"},
    (PLATFORM, "VALIDEE_1"): {"A_VALIDER_2", "MISE_A_DISPOSITION"},
    (PLATFORM, "ABSENCE_VALIDATION_1_HORS_DELAI"): {"A_VALIDER_2", "MISE_A_DISPOSITION"},
    (PLATFORM, "VALIDEE_2"): {"MISE_A_DISPOSITION"},
    (PLATFORM, "ABSENCE_VALIDATION_2_HORS_DELAI"): {"MISE_A_DISPOSITION"},
}
VALIDATION_STATUSES = [s for s in STATUSES if s[-2:] in ("_1", "_2")]
ROLES = (SUPPLIER, RECIPIENT, PLATFORM, VALIDATOR)


@pytest.mark.parametrize("framework", ["A9", "A12"])
def test_subcontractor_and_co_contractor_invoices_follow_the_validation_circuit(framework):
    assert frameworks.FRAMEWORKS[framework].enabled and frameworks.needs_validator(framework)
    assert circuit_of({"billing_framework": framework}) == VALIDATION
    assert frameworks.refusal(framework) is None


def test_simple_invoices_keep_the_simple_circuit_unchanged():
    assert circuit_of({"billing_framework": "A1"}) == frameworks.SIMPLE
    assert CIRCUITS[frameworks.SIMPLE] is TRANSITIONS
    assert not frameworks.needs_validator("A1")
    for role in ROLES:  # the validation steps do not exist in the simple circuit
        for status in VALIDATION_STATUSES:
            assert actions_for(status, role) == []


def test_after_validation_the_simple_circuit_goes_on():
    for role, steps in TRANSITIONS.items():
        for status, targets in steps.items():
            assert targets <= CIRCUITS[VALIDATION][role][status]


@pytest.mark.parametrize(("role", "status", "target"), [
    (role, status, target) for (role, status), targets in ALLOWED.items() for target in targets])
def test_allowed_validation_steps(role, status, target):
    check_transition(status, role, target, VALIDATION)
    assert target in actions_for(status, role, circuit=VALIDATION)


@pytest.mark.parametrize(("role", "status", "target"), [
    (role, status, target) for role in ROLES for status in VALIDATION_STATUSES for target in VALIDATION_STATUSES
    if target not in ALLOWED.get((role, status), set())])
def test_refused_validation_steps(role, status, target):
    with pytest.raises(TransitionError) as refused:
        check_transition(status, role, target, VALIDATION)
    may_ever = any(target in t for (r, _), t in ALLOWED.items() if r == role)
    assert refused.value.http_status == (409 if may_ever else 403)


def test_only_the_platform_validates_tacitly_and_the_recipient_waits():
    with pytest.raises(TransitionError) as refused:
        check_transition("A_VALIDER_1", VALIDATOR, "ABSENCE_VALIDATION_1_HORS_DELAI", VALIDATION)
    assert refused.value.http_status == 403
    assert actions_for("A_VALIDER_1", RECIPIENT, circuit=VALIDATION) == []
    assert actions_for("A_VALIDER_1", SUPPLIER, circuit=VALIDATION) == []


@pytest.mark.parametrize("refused", ["REFUSEE_1", "REFUSEE_2"])
def test_a_refusal_is_terminal_and_said_so(refused):
    for role in ROLES:
        assert actions_for(refused, role, circuit=VALIDATION) == []
    with pytest.raises(TransitionError, match="refusée par son valideur"):
        check_transition(refused, PLATFORM, "MISE_A_DISPOSITION", VALIDATION)
    with pytest.raises(TransitionError):
        check_transition(refused, SUPPLIER, ACKNOWLEDGE, VALIDATION)


@pytest.mark.parametrize("target", ["REFUSEE_1", "REFUSEE_2"])
def test_a_refusal_needs_its_reason(target):
    with pytest.raises(TransitionError) as missing:
        validate_data(target)
    assert (missing.value.code, missing.value.http_status) == ("comment_required", 422)
    assert validate_data(target, comment="Travaux non réalisés") == {}
    assert validate_data(target, reason_code="MONTANTTOTAL_ERR", comment="Montant faux") == {}


def test_a_validation_needs_nothing_and_takes_no_reason():
    assert validate_data("VALIDEE_1") == {}
    with pytest.raises(TransitionError) as unexpected:
        validate_data("VALIDEE_1", reason_code="AUTRE")
    assert unexpected.value.code == "reason_unexpected"


@pytest.mark.parametrize(("passed", "levels", "following"), [
    ("VALIDEE_1", 1, "MISE_A_DISPOSITION"),
    ("ABSENCE_VALIDATION_1_HORS_DELAI", 1, "MISE_A_DISPOSITION"),
    ("VALIDEE_1", 2, "A_VALIDER_2"),
    ("ABSENCE_VALIDATION_1_HORS_DELAI", 2, "A_VALIDER_2"),
    ("VALIDEE_2", 2, "MISE_A_DISPOSITION"),
    ("ABSENCE_VALIDATION_2_HORS_DELAI", 2, "MISE_A_DISPOSITION"),
])
def test_a_passed_level_leads_to_the_next_level_or_the_recipient(passed, levels, following):
    assert next_after_validation(passed, levels) == following


def test_the_validator_is_an_actor():
    assert Actor(VALIDATOR, user_id=1).role == VALIDATOR
    with pytest.raises(ValueError):
        Actor(VALIDATOR)


def test_the_deadline_is_fifteen_days_and_the_reminder_three_days_before():
    start = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)
    due = validation.due_at(start)
    assert due - start == timedelta(days=15)
    assert validation.REMIND_BEFORE == timedelta(days=3)
    assert validation.days_left(due, start) == 15
    assert validation.days_left(due, due - timedelta(hours=1)) == 0
    assert validation.days_left(due, due + timedelta(days=2)) == 0  # never negative
    # Paris calendar: 23:30 UTC on 1 March is 2 March in Paris.
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    assert validation.days_left(datetime(2026, 3, 3, 9, tzinfo=timezone.utc), late_evening) == 1


def test_every_validation_status_has_a_french_label_and_sentence():
    from backend.invoices.statuses import label, status_sentence

    for status in VALIDATION_STATUSES:
        assert label(status) != status and ":" not in status_sentence(status, "F-1", "380")
