"""Every status's reform code and label, against the official sources (not against memory)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pytest

from backend.invoices.statuses import REFORM_LABELS, STATUSES, reform_label
from backend.processing.reasons import REASONS, REASONS_BY_STATUS, REFUSAL_REASONS, SUSPENSION_REASONS
from tests.support.france_rfe import require_france_rfe


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.replace("_", " ").casefold().split())


@cache
def _schematron() -> str:
    return (require_france_rfe() / "CDAR" / "schematron" / "BR-FR-CDV-Schematron-CDAR.sch").read_text(encoding="utf-8")


def _function_list(name: str) -> set[str]:
    block = re.search(rf'name="custom:{name}"[^>]*>.*?select="\'([^\']*)\'"', _schematron(), re.S)
    assert block, name
    return set(block.group(1).split())


@cache
def _named_in_sources() -> dict[str, set[str]]:
    """code → the names the sources give it: CL-09's "pour le statut SUSPENDUE (208)", CDV-14's
    "Encaissé" (212), and the table of annex B's nominal cycle (UC1_…-CDV-203_Mise_à_disposition)."""
    names: dict[str, set[str]] = {}
    for name, code in re.findall(r"pour le statut ([A-ZÉÈ_ ]+?) (?:B2G )?\((\d{3})\)", _schematron()):
        names.setdefault(code, set()).add(_fold(name))
    names.setdefault("212", set()).add("encaisse")  # BR-FR-CDV-14: « si le statut est "Encaissé" (MDT-105 = 212) »
    import pypdf

    annex = pypdf.PdfReader(str(require_france_rfe() / "examples" / "XP_Z12-012_Annexe_B_EXEMPLES_V1.4.pdf"))
    text = annex.pages[-1].extract_text()
    for code, name in re.findall(r"CDV-(\d{3})_([^\s]+)", text):
        names.setdefault(code, set()).add(_fold(name))
    return names


@pytest.mark.parametrize("status", [s for s in STATUSES if STATUSES[s].code_2026])
def test_every_status_code_is_in_the_schematron_list(status):
    assert STATUSES[status].code_2026 in _function_list("is-valid-invoice-status-code")


def _says(label: str, name: str) -> bool:
    """Every word of the source's name starts a word of our label ("ERREUR_ROUTAGE" ~ "Erreur de routage",
    "Encaissé" ~ "Encaissée")."""
    words = _fold(label).split()
    return all(any(w.startswith(n) for w in words) for n in name.split())


# 209 « Complétée »: its code is in CL-06, but no shared file spells its label out.
@pytest.mark.parametrize("code", sorted(set(REFORM_LABELS) - {"209"}))
def test_every_reform_label_is_the_one_the_sources_give(code):
    assert code in _function_list("is-valid-invoice-status-code")
    named = _named_in_sources()
    assert code in named, f"{code} n'est nommé nulle part dans les sources"
    assert any(_says(REFORM_LABELS[code], n) for n in named[code]), (REFORM_LABELS[code], named[code])


def test_the_two_chorus_steps_that_shared_205_are_told_apart():
    assert STATUSES["SERVICE_FAIT"].code_2026 == "205" and reform_label("SERVICE_FAIT") == "Approuvée"
    assert STATUSES["MANDATEE"].code_2026 == "" and reform_label("MANDATEE") == ""  # no reform status, no message
    assert STATUSES["REJETEE"].code_2026 == "210" and STATUSES["ENCAISSEE"].code_2026 == "212"


def test_reasons_are_in_the_closed_list_and_per_status_lists_match_cl09():
    closed = _function_list("is-valid-status-reason-code")
    assert set(REASONS) <= closed
    rule = {m.group(1): set(re.findall(r"\(\.\) = '([A-Z0-9_]+)'", m.group(2)))
            for m in re.finditer(r'<assert test="(?:[^"]*?ProcessConditionCode != \'(\d{3})\')([^"]*)"', _schematron())}
    assert set(SUSPENSION_REASONS) == rule["208"]
    b2g = re.search(r'<assert test="([^"]*)"\s*flag="fatal"\s*id="BR-FR-CDV-CL-09_MDT-113_210B2G"', _schematron()).group(1)
    assert set(REFUSAL_REASONS) == set(re.findall(r"\(\.\) = '([A-Z0-9_]+)'", b2g))
    assert all(set(codes) <= set(REASONS) for codes in REASONS_BY_STATUS.values())


def test_a_refused_deposit_says_why_with_a_213_reason():
    from backend.processing.reasons import DEPOSIT_REFUSAL_REASONS, deposit_refusal_reason

    rule = re.search(r'<assert test="([^"]*)"\s*flag="fatal"\s*id="BR-FR-CDV-CL-09_MDT-113_213"', _schematron()).group(1)
    assert set(DEPOSIT_REFUSAL_REASONS) == set(re.findall(r"\(\.\) = '([A-Z0-9_]+)'", rule))
    cases = {("FCT-PORTAL-10", "BR-CO-10"): "DOUBLON", ("FCT-PORTAL-05",): "REJ_CONT_B2G", ("FCT-PORTAL-02",): "DEST_INC",
             ("BR-CO-15",): "CALCUL_ERR", ("BR-16",): "REJ_SEMAN", (): "REJ_SEMAN"}
    for rules, reason in cases.items():
        assert deposit_refusal_reason(list(rules)) == reason and reason in DEPOSIT_REFUSAL_REASONS


def test_a_file_not_readable_as_an_invoice_is_irrecevable_with_its_reason():
    from backend.processing.reasons import DEPOSIT_UNREADABLE_REASONS, deposit_refusal

    rule = re.search(r'<assert test="([^"]*)"\s*flag="fatal"\s*id="BR-FR-CDV-CL-09_MDT-113_501"', _schematron()).group(1)
    assert set(DEPOSIT_UNREADABLE_REASONS) == set(re.findall(r"\(\.\) = '([A-Z0-9_]+)'", rule))
    cases = {("FCT-DETECT-03",): "IRR_VIDE_F", ("FCT-SIZE-01",): "IRR_TAILLE_F", ("FCT-DETECT-04",): "IRR_TYPE_F",
             ("FCT-DETECT-05",): "IRR_TYPE_F", ("FCT-XML-01",): "IRR_SYNTAX", ("FCT-XSD-01", "BR-16"): "IRR_SYNTAX"}
    for rules, reason in cases.items():
        assert deposit_refusal(list(rules)) == ("501", reason) and reason in DEPOSIT_UNREADABLE_REASONS
    assert deposit_refusal(["BR-16"]) == ("213", "REJ_SEMAN")  # readable, but wrong: rejected
    assert deposit_refusal(["FCT-PORTAL-10"]) == ("213", "DOUBLON")
