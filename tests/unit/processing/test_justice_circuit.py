"""The mémoire de justice's rules (A3, issue #15), without a database: its circuit in the one
lifecycle table, the one-year limit, and what the capture asks of the decision and the mission."""

from __future__ import annotations

from datetime import date

import pytest

from backend.justice.service import check_memoire, invoice_form, is_too_late, send_deadline, too_late_message
from backend.processing import frameworks
from backend.processing.lifecycle import (ACKNOWLEDGE, RECIPIENT, SUPPLIER, TransitionError, actions_for, check_transition,
                                          circuit_of)

JUSTICE = frameworks.JUSTICE


def test_a3_follows_the_justice_circuit_and_is_not_offered_in_the_invoice_capture():
    assert circuit_of({"billing_framework": "A3"}) == JUSTICE
    assert "A3" not in [f.code for f in frameworks.offered()]
    assert frameworks.refusal("A3") is None and frameworks.is_memoire("A3") and not frameworks.is_memoire("A1")


def test_the_court_takes_in_charge_asks_for_completion_refuses_certifies_and_pays():
    assert actions_for("MISE_A_DISPOSITION", RECIPIENT, circuit=JUSTICE) == [
        "PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "SERVICE_FAIT", "MISE_EN_PAIEMENT"]
    assert actions_for("SUSPENDUE", SUPPLIER, circuit=JUSTICE) == ["COMPLETEE"]
    assert actions_for("SERVICE_FAIT", RECIPIENT, circuit=JUSTICE) == ["MISE_EN_PAIEMENT"]


def test_a_refused_memoire_is_duplicated_or_abandoned_never_acknowledged_and_then_over():
    assert actions_for("REJETEE", SUPPLIER, circuit=JUSTICE) == ["DUPLIQUEE", "ABANDONNEE"]
    assert ACKNOWLEDGE not in actions_for("REJETEE", SUPPLIER, circuit=JUSTICE)
    for over in ("DUPLIQUEE", "ABANDONNEE"):
        assert actions_for(over, SUPPLIER, circuit=JUSTICE) == actions_for(over, RECIPIENT, circuit=JUSTICE) == []
    with pytest.raises(TransitionError) as refused:
        check_transition("DUPLIQUEE", SUPPLIER, "ABANDONNEE", JUSTICE)
    assert refused.value.http_status == 409 and "circuit est terminé" in refused.value.message_fr
    # A simple invoice cannot be duplicated or abandoned.
    with pytest.raises(TransitionError):
        check_transition("REJETEE", SUPPLIER, "DUPLIQUEE")


def test_a_sent_memoire_is_never_recycled_nor_its_routing_changed():
    for role, target in ((RECIPIENT, "A_RECYCLER"), (SUPPLIER, "DEPOSEE")):
        with pytest.raises(TransitionError) as refused:
            check_transition("MISE_A_DISPOSITION" if role == RECIPIENT else "A_RECYCLER", role, target, JUSTICE)
        assert refused.value.http_status == 403


@pytest.mark.parametrize(("end", "last_day"), [
    (date(2025, 6, 15), date(2026, 6, 15)),
    (date(2024, 2, 29), date(2025, 2, 28)),  # a leap day: the last day is 28 February
])
def test_a_memoire_is_sent_within_one_year_of_the_end_of_the_mission(end, last_day):
    assert send_deadline(end) == last_day
    assert not is_too_late(end, last_day)
    assert is_too_late(end, date.fromordinal(last_day.toordinal() + 1))


def _form(**overrides) -> dict:
    return {"decision_kind": "ordonnance", "decision_reference": "ORD-1", "decision_date": "2026-03-01",
            "decision_author": "Mme Leroy", "mission_start": "2026-03-02", "mission_end": "2026-03-20",
            "mission_place": "Lyon", "number": "MJ-1", "note": "",
            "lines": [{"kind": "honoraires", "description": "Expertise", "quantity": "2", "unit_code": "HUR",
                       "unit_price": "80", "vat_rate": "20"}]} | overrides


def test_the_capture_asks_for_the_decision_and_the_mission_in_french():
    assert check_memoire(_form(), date(2026, 6, 1)) == []
    fields = {p.field for p in check_memoire(_form(decision_kind="", decision_reference="", decision_author="",
                                                   mission_place=""), date(2026, 6, 1))}
    assert fields == {"decision_kind", "decision_reference", "decision_author", "mission_place"}
    [before] = check_memoire(_form(mission_start="2026-02-01"), date(2026, 6, 1))
    assert before.field == "mission_start" and "avant la décision" in before.message
    [unfinished] = check_memoire(_form(), date(2026, 3, 10))
    assert unfinished.field == "mission_end" and "n'est pas terminée" in unfinished.message
    [late] = check_memoire(_form(), date(2027, 3, 21))
    assert late.field == "mission_end" and late.message == too_late_message(date(2026, 3, 20))
    assert "20 mars 2027" in late.message


def test_the_memoire_is_written_as_an_a3_invoice_to_the_service_centralisateur():
    form = invoice_form(_form(lines=[*_form()["lines"], {"kind": "frais", "description": "Péage", "quantity": "1",
                                                          "unit_code": "C62", "unit_price": "9.8", "vat_rate": "0"}]),
                        {"siret": "17690015700015", "service_code": "SCFJ"}, vat_on_debits=True)
    assert (form["billing_framework"], form["recipient_siret"], form["service_code"]) == ("A3", "17690015700015", "SCFJ")
    assert form["lines"][0]["description"] == "Honoraires : Expertise"
    assert form["lines"][1]["exemption_code"] == "VATEX-EU-79-C"  # a 0 % expense: débours
    assert "Ordonnance n° ORD-1" in form["note"] and "d'après les débits" in form["note"]
