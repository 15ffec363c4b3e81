"""The works final circuit and its tacit procedure as data (issue #11): every step of each role,
the refusals, the réclamation's data, the MOA's deadlines (CCAG Travaux 2021 art. 12.4.2 and 12.4.4)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from backend.invoices.statuses import CHORUS_NAMES, STATUSES
from backend.invoices.tables import Invoice
from backend.processing import frameworks
from backend.processing.lifecycle import (
    CIRCUITS, MOA, MOE, PLATFORM, RECIPIENT, RECIPIENT_ROLE, SUPPLIER, VALIDATOR, TransitionError, actions_for,
    check_transition, circuit_of, next_after_validation, validate_data,
)
from backend.works import circuit
from backend.works.acompte import Statement, Terms

F, T = frameworks.WORKS_FINAL, frameworks.WORKS_TACIT
NEW_STATUSES = ("HORS_DELAI_MOA", "A_SIGNER_TITULAIRE", "SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22", "DGD_TACITE")


def test_each_final_piece_follows_its_circuit_and_recipient_role():
    for code in ("A7", "A8", "A14", "A17", "A20"):
        assert circuit_of({"billing_framework": code}) == F
    for code in ("A22", "A23"):
        assert circuit_of({"billing_framework": code}) == T
    assert {code: RECIPIENT_ROLE[code] for code in ("A7", "A14", "A17", "A20", "A22")} == {
        "A7": MOE, "A14": MOE, "A17": MOA, "A20": MOA, "A22": MOA}
    assert "A8" not in RECIPIENT_ROLE and "A23" not in RECIPIENT_ROLE  # the payer acts as any recipient


@pytest.mark.parametrize("status", ["MISE_A_DISPOSITION_MOE", "COMPLETEE_MOE", "HORS_DELAI_MOE"])
def test_moe_steps_on_a_final_statement_are_the_monthly_ones(status):
    assert actions_for(status, MOE, circuit=F) == ["PRISE_EN_COMPTE_MOE", "SUSPENDUE_MOE", "REFUSEE_MOE"]
    assert actions_for("HORS_DELAI_MOE", SUPPLIER, circuit=F) == ["TRANSMISE_MOA"]


def test_a_cocontractor_final_statement_goes_to_the_moe_once_validated():
    assert actions_for("A_VALIDER_1", VALIDATOR, circuit=F) == ["VALIDEE_1", "REFUSEE_1"]
    assert next_after_validation("VALIDEE_1", 1, "A14") == "MISE_A_DISPOSITION_MOE"
    assert next_after_validation("ABSENCE_VALIDATION_1_HORS_DELAI", 1, "A14") == "MISE_A_DISPOSITION_MOE"


def test_moa_titulaire_and_platform_steps_of_the_final_circuit():
    assert actions_for("MISE_A_DISPOSITION_MOA", MOA, circuit=F) == ["PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"]
    assert actions_for("HORS_DELAI_MOA", MOA, circuit=F) == ["PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"]  # late, still its own
    assert actions_for("HORS_DELAI_MOA", SUPPLIER, circuit=F) == ["REMPLACEE_A22"]
    assert actions_for("MISE_A_DISPOSITION_MOA", SUPPLIER, circuit=F) == []  # the titulaire waits for the MOA's delay
    assert CIRCUITS[F][PLATFORM]["MISE_A_DISPOSITION_MOA"] == {"HORS_DELAI_MOA"}
    assert actions_for("A_SIGNER_TITULAIRE", SUPPLIER, circuit=F) == ["SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE"]
    assert actions_for("A_SIGNER_TITULAIRE", MOA, circuit=F) == []
    assert "SERVICE_FAIT" in actions_for("MISE_A_DISPOSITION", RECIPIENT, circuit=F)  # the A8 at the payer's


def test_tacit_procedure_steps():
    assert actions_for("MISE_A_DISPOSITION_MOA", MOA, circuit=T) == ["PRISE_EN_COMPTE_MOA"]  # an A22 is not sent back
    assert CIRCUITS[T][PLATFORM]["MISE_A_DISPOSITION_MOA"] == {"HORS_DELAI_MOA"}
    assert actions_for("HORS_DELAI_MOA", SUPPLIER, circuit=T) == ["DGD_TACITE"]
    assert actions_for("HORS_DELAI_MOA", MOA, circuit=T) == []  # past the 10 days the projet is the DGD
    assert "SERVICE_FAIT" in actions_for("MISE_A_DISPOSITION", RECIPIENT, circuit=T)  # the A23 at the payer's


@pytest.mark.parametrize("status", ["SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22", "DGD_TACITE"])
def test_ended_final_pieces_take_no_more_steps(status):
    for role in (SUPPLIER, MOE, MOA, RECIPIENT, PLATFORM):
        assert actions_for(status, role, circuit=F) == [] and actions_for(status, role, circuit=T) == []
    with pytest.raises(TransitionError) as ended:
        check_transition(status, SUPPLIER, "SIGNEE_TITULAIRE", F)
    assert ended.value.http_status == 409 and "circuit est terminé" in ended.value.message_fr


def test_only_the_titulaire_signs_and_the_simple_circuit_knows_none_of_it():
    with pytest.raises(TransitionError) as moa:
        check_transition("A_SIGNER_TITULAIRE", MOA, "SIGNEE_TITULAIRE", F)
    assert moa.value.http_status == 403
    with pytest.raises(TransitionError):
        check_transition("A_SIGNER_TITULAIRE", SUPPLIER, "SIGNEE_TITULAIRE", frameworks.SIMPLE)
    with pytest.raises(TransitionError) as early:  # no A22 while the MOA's delay runs
        check_transition("MISE_A_DISPOSITION_MOA", SUPPLIER, "REMPLACEE_A22", F)
    assert early.value.http_status == 409


def test_a_claim_needs_one_of_its_reasons_and_a_comment():
    details = validate_data("RECLAMATION_TITULAIRE", reason_code="solde_conteste", comment="Le solde oublie l'avenant n° 2.")
    assert details == {"claim": {"reason": "SOLDE_CONTESTE", "label": "Montant du solde contesté"}}
    with pytest.raises(TransitionError) as no_reason:
        validate_data("RECLAMATION_TITULAIRE", comment="Non")
    assert no_reason.value.code == "reason_required"
    with pytest.raises(TransitionError) as reform_reason:  # the reform's invoice reasons are not a claim's
        validate_data("RECLAMATION_TITULAIRE", reason_code="CMD_ERR", comment="Non")
    assert reform_reason.value.code == "reason_invalid"
    with pytest.raises(TransitionError) as silent:
        validate_data("RECLAMATION_TITULAIRE", reason_code="AUTRE")
    assert silent.value.code == "comment_required"
    assert validate_data("SIGNEE_TITULAIRE") == {}


def test_moa_delays_are_30_days_then_10():
    received = datetime(2027, 1, 4, 9, tzinfo=timezone.utc)
    assert circuit.moa_due_at(received, "A17") == datetime(2027, 2, 3, 9, tzinfo=timezone.utc)  # art. 12.4.2
    assert circuit.moa_due_at(received, "A22") == datetime(2027, 1, 14, 9, tzinfo=timezone.utc)  # art. 12.4.4


def test_new_statuses_fit_the_column_and_are_said_in_french():
    width = Invoice.status.length
    for status in NEW_STATUSES:
        assert len(status) <= width and STATUSES[status].label and not STATUSES[status].code_2026
    assert CHORUS_NAMES["REMPLACEE_A22"] == "REMPLACEE_PAR_A22"


def test_the_balance_is_the_final_cumul_minus_the_last_accepted_one():
    final = Statement(works=Decimal("40000.00"), supplies=Decimal("2000.00"))
    last = Statement(works=Decimal("10000.00"), supplies=Decimal("2000.00"))
    etat = circuit.compute(final, last, Terms(retenue_rate=Decimal("0")))
    assert etat.line("excl_vat").amount == Decimal("30000.00") and etat.total == Decimal("36000.00")


def test_final_frameworks_are_enabled_and_entered():
    for code in ("A7", "A8", "A14", "A17", "A20", "A22", "A23"):
        assert frameworks.FRAMEWORKS[code].enabled and "espace Travaux" in frameworks.refusal(code)
    assert not frameworks.FRAMEWORKS["A18"].enabled and not frameworks.FRAMEWORKS["A24"].enabled
