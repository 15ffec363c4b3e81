"""The rules of spaces and rights per space (backend/accounts/spaces.py), without a database."""

from __future__ import annotations

import itertools

import pytest

from backend.accounts import spaces
from backend.accounts.spaces import CONSULTATION, MODIFICATION


def test_the_seven_spaces_of_the_issue_with_french_labels():
    assert [s.label for s in spaces.SPACES] == [
        "Factures émises", "Factures reçues", "Factures de travaux", "Factures à valider", "Mémoires de justice",
        "Tickets émis", "Tickets reçus"]
    assert len(set(spaces.CODES)) == 7


def test_reads_need_consultation_writes_modification_unless_the_route_says_otherwise():
    assert spaces.required_level("GET", {}) == CONSULTATION
    assert spaces.required_level("HEAD", {}) == CONSULTATION
    assert spaces.required_level("POST", {}) == MODIFICATION
    assert spaces.required_level("DELETE", {}) == MODIFICATION
    assert spaces.required_level("POST", spaces.space("emises", level=CONSULTATION)) == CONSULTATION


def test_modification_includes_consultation_and_nothing_allows_nothing():
    assert spaces.allows(MODIFICATION, CONSULTATION) and spaces.allows(MODIFICATION, MODIFICATION)
    assert spaces.allows(CONSULTATION, CONSULTATION) and not spaces.allows(CONSULTATION, MODIFICATION)
    assert not spaces.allows(None, CONSULTATION) and not spaces.allows("", CONSULTATION)


def test_a_route_cannot_declare_a_space_that_does_not_exist():
    with pytest.raises(ValueError):
        spaces.space("factures")
    with pytest.raises(ValueError):
        spaces.space("emises", level="lecture")


def test_the_invoice_workspace_and_questions_follow_the_side_of_the_active_structure():
    assert spaces.resolve(spaces.INVOICES, is_public=False) == "emises"
    assert spaces.resolve(spaces.INVOICES, is_public=True) == "recues"
    assert spaces.resolve(spaces.TICKETS, is_public=False) == "tickets_emis"
    assert spaces.resolve(spaces.TICKETS, is_public=True) == "tickets_recus"
    assert spaces.resolve("travaux", is_public=True) == "travaux"


def test_a_structure_without_a_choice_has_the_spaces_of_its_side():
    assert "emises" in spaces.parse_active(None, False) and "recues" not in spaces.parse_active(None, False)
    assert "recues" in spaces.parse_active(None, True) and "emises" not in spaces.parse_active(None, True)
    assert spaces.parse_active("", True) == ()  # the gestionnaire switched every space off
    assert spaces.parse_active("travaux,inconnu,emises", True) == ("emises", "travaux")


def test_rights_round_trip_through_their_stored_form():
    rights = {"emises": MODIFICATION, "travaux": CONSULTATION}
    assert spaces.parse_rights(spaces.format_rights(rights)) == rights
    assert spaces.parse_rights("emises:tout,nulle:modification,recues:consultation") == {"recues": CONSULTATION}


FLAGS = list(itertools.product([False, True], repeat=4))  # can_deposit, can_consult, can_process, is_manager


@pytest.mark.parametrize("flags", FLAGS)
def test_older_rights_map_onto_spaces_without_anyone_losing_access(flags):
    can_deposit, can_consult, can_process, is_manager = flags
    rights = spaces.legacy_rights(*flags)
    if is_manager:
        assert rights == {code: MODIFICATION for code in spaces.CODES}
        return
    if can_deposit:  # capture and deposit, and the validator's decision
        assert rights["emises"] == rights["a_valider"] == MODIFICATION
    if can_process:  # treating received invoices
        assert rights["recues"] == MODIFICATION
    if can_consult:  # reading everywhere
        assert all(spaces.allows(rights.get(code), CONSULTATION) for code in spaces.CODES)
    # …and back: the flags the lifecycle still reads are the ones the member had.
    flags_back = spaces.legacy_flags(rights)
    assert flags_back["can_deposit"] == can_deposit
    assert flags_back["can_process"] == can_process


def test_a_gestionnaire_modifies_in_every_active_space_and_nowhere_else():
    row = {"is_manager": True, "space_rights": ""}
    assert spaces.effective(row, ("emises", "travaux")) == {"emises": MODIFICATION, "travaux": MODIFICATION}


def test_a_members_rights_count_only_in_active_spaces():
    row = {"is_manager": False, "space_rights": "emises:modification,recues:consultation"}
    assert spaces.effective(row, ("emises",)) == {"emises": MODIFICATION}
    legacy = {"is_manager": False, "space_rights": None, "can_deposit": True, "can_consult": True, "can_process": False}
    assert spaces.effective(legacy, ("emises", "travaux")) == {"emises": MODIFICATION, "travaux": MODIFICATION}
