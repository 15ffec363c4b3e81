"""The lifecycle's pure rules: the transition table, who may do what, reasons and data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backend.invoices.statuses import STATUSES
from backend.processing.lifecycle import (
    ACKNOWLEDGE,
    PLATFORM,
    RECIPIENT,
    SUPPLIER,
    Actor,
    Payment,
    TransitionError,
    actions_for,
    check_transition,
    validate_data,
)
from backend.processing.reasons import REASONS

LATER = ["PRISE_EN_CHARGE", "SUSPENDUE", "A_RECYCLER", "REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT"]
ALLOWED = {
    (RECIPIENT, "MISE_A_DISPOSITION"): set(LATER),
    (RECIPIENT, "COMPLETEE"): set(LATER),
    (RECIPIENT, "PRISE_EN_CHARGE"): set(LATER) - {"PRISE_EN_CHARGE"},
    (RECIPIENT, "SUSPENDUE"): {"REJETEE"},
    (RECIPIENT, "SERVICE_FAIT"): {"MANDATEE", "MISE_EN_PAIEMENT"},
    (RECIPIENT, "MANDATEE"): {"MISE_EN_PAIEMENT"},
    (RECIPIENT, "MISE_EN_PAIEMENT"): {"MISE_EN_PAIEMENT"},
    (RECIPIENT, "ENCAISSEE"): {"MISE_EN_PAIEMENT"},
    (SUPPLIER, "SUSPENDUE"): {"COMPLETEE"},
    (SUPPLIER, "MISE_EN_PAIEMENT"): {"ENCAISSEE"},
    (SUPPLIER, "ENCAISSEE"): {"ENCAISSEE"},
    (SUPPLIER, "A_RECYCLER"): {"DEPOSEE"},
    (SUPPLIER, "REJETEE"): {ACKNOWLEDGE},
    (PLATFORM, "DEPOSEE"): {"MISE_A_DISPOSITION"},
}
TARGETS = [*STATUSES, ACKNOWLEDGE]
EVER = {role: set().union(*(t for (r, _), t in ALLOWED.items() if r == role)) for role in (SUPPLIER, RECIPIENT, PLATFORM)}
CASES = [(role, status, target) for role in (SUPPLIER, RECIPIENT, PLATFORM) for status in STATUSES for target in TARGETS]


@pytest.mark.parametrize(("role", "status", "target"), [c for c in CASES if c[2] in ALLOWED.get((c[0], c[1]), set())])
def test_allowed_transition(role, status, target):
    check_transition(status, role, target)
    assert target in actions_for(status, role)


@pytest.mark.parametrize(("role", "status", "target"), [c for c in CASES if c[2] not in ALLOWED.get((c[0], c[1]), set())])
def test_refused_transition(role, status, target):
    with pytest.raises(TransitionError) as refused:
        check_transition(status, role, target)
    # A step this role never takes is a missing right (403); otherwise an impossible move (409).
    assert refused.value.http_status == (409 if target in EVER[role] else 403)
    assert refused.value.message_fr
    assert target not in actions_for(status, role)


def test_rejected_is_terminal_for_the_recipient():
    assert actions_for("REJETEE", RECIPIENT) == []
    with pytest.raises(TransitionError, match="rejetée"):
        check_transition("REJETEE", RECIPIENT, "PRISE_EN_CHARGE")


def test_unknown_status_is_invalid_input():
    with pytest.raises(TransitionError) as refused:
        check_transition("MISE_A_DISPOSITION", RECIPIENT, "PAYEE")
    assert refused.value.http_status == 422


def test_fully_paid_and_acknowledged_remove_the_button():
    assert actions_for("MISE_EN_PAIEMENT", RECIPIENT, remaining=Decimal("10.00")) == ["MISE_EN_PAIEMENT"]
    assert actions_for("MISE_EN_PAIEMENT", RECIPIENT, remaining=Decimal(0)) == []
    assert actions_for("REJETEE", SUPPLIER, acknowledged=True) == []


def test_actor_must_be_a_user_except_the_platform():
    with pytest.raises(ValueError):
        Actor(RECIPIENT)
    with pytest.raises(ValueError):
        Actor("agent", 1)
    assert Actor.platform().user_id is None


def code_of(**kwargs) -> tuple[int, str]:
    with pytest.raises(TransitionError) as refused:
        validate_data(**kwargs)
    return refused.value.http_status, refused.value.code


@pytest.mark.parametrize("target", ["SUSPENDUE", "REJETEE"])
def test_suspension_and_rejection_need_a_listed_reason_and_a_comment(target):
    assert code_of(target=target, comment="x") == (422, "reason_required")
    assert code_of(target=target, reason_code="DOUBLON") == (422, "comment_required")
    assert code_of(target=target, reason_code="PAS_UN_MOTIF", comment="x") == (422, "reason_invalid")
    assert validate_data(target, reason_code="cmd_err", comment=" Engagement inconnu ") == {}


def test_each_status_takes_only_the_reasons_the_reform_allows_for_it():
    """BR-FR-CDV-CL-09: a suspension (208) may not say DOUBLON, a refusal (210) may not say JUSTIF_ABS."""
    assert code_of(target="SUSPENDUE", reason_code="DOUBLON", comment="x") == (422, "reason_not_allowed")
    assert code_of(target="REJETEE", reason_code="JUSTIF_ABS", comment="x") == (422, "reason_not_allowed")
    assert validate_data("REJETEE", reason_code="RETRAIT_MAN_SERV", comment="Retiré") == {}


def test_recycling_needs_a_comment_and_may_have_a_reason():
    assert code_of(target="A_RECYCLER") == (422, "comment_required")
    assert validate_data("A_RECYCLER", comment="Mauvais service") == {}
    assert validate_data("A_RECYCLER", reason_code="CODE_ROUTAGE_ERR", comment="Mauvais service") == {}


def test_reason_list_has_the_2026_codes_with_french_labels():
    for code in ("DOUBLON", "DEST_ERR", "CMD_ERR", "SIRET_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "JUSTIF_ABS", "AUTRE"):
        assert REASONS[code]


def test_data_where_it_does_not_belong_is_refused():
    assert code_of(target="PRISE_EN_CHARGE", reason_code="AUTRE") == (422, "reason_unexpected")
    assert code_of(target="PRISE_EN_CHARGE", mandate_number="M1") == (422, "mandate_unexpected")
    assert code_of(target="SERVICE_FAIT", payment=Payment(date(2026, 1, 1), Decimal(1))) == (422, "payment_unexpected")


def test_mandate_number():
    assert code_of(target="MANDATEE") == (422, "mandate_required")
    assert code_of(target="MANDATEE", mandate_number="  ") == (422, "mandate_required")
    assert code_of(target="MANDATEE", mandate_number="M" * 51) == (422, "mandate_invalid")
    assert validate_data("MANDATEE", mandate_number=" M-2026-7 ") == {"mandate_number": "M-2026-7"}


@pytest.mark.parametrize(("amount", "code"), [
    (Decimal("0"), "payment_invalid"), (Decimal("-1"), "payment_invalid"), (Decimal("1.001"), "payment_invalid"),
    (1.5, "payment_invalid"), ("abc", "payment_invalid"), (Decimal("NaN"), "payment_invalid"),
    (Decimal("100.01"), "payment_exceeds"),
])
def test_invalid_payments(amount, code):
    assert code_of(target="MISE_EN_PAIEMENT", payment=Payment(date(2026, 3, 1), amount), amount_due=Decimal("100.00")) == (422, code)


def test_payment_needs_date_and_amount():
    assert code_of(target="MISE_EN_PAIEMENT", amount_due=Decimal(1)) == (422, "payment_required")
    assert code_of(target="MISE_EN_PAIEMENT", payment=Payment("2026-03-01", Decimal(1)), amount_due=Decimal(1)) == (422, "payment_invalid")


def test_partial_payments_add_up_to_the_amount_due():
    first = validate_data("MISE_EN_PAIEMENT", payment=Payment(date(2026, 3, 1), Decimal("40")), amount_due=Decimal("100.00"))
    assert first["payment"] == {"date": "2026-03-01", "amount": "40.00", "paid_total": "40.00", "fully_paid": False}
    last = validate_data("MISE_EN_PAIEMENT", payment=Payment(date(2026, 3, 9), Decimal("60.00")),
                         amount_due=Decimal("100.00"), already_paid=Decimal("40.00"))
    assert last["payment"]["paid_total"] == "100.00" and last["payment"]["fully_paid"] is True
    status, code = code_of(target="MISE_EN_PAIEMENT", payment=Payment(date(2026, 3, 9), Decimal("60.01")),
                           amount_due=Decimal("100.00"), already_paid=Decimal("40.00"))
    assert (status, code) == (422, "payment_exceeds")
