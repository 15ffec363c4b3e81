"""French identifiers: SIRET/SIREN (Luhn), VAT number (key of the SIREN), IBAN, BIC."""

from __future__ import annotations

import pytest
from stdnum.fr import tva as stdnum_tva

from backend.directory import identifiers as ids

SIRET = "73282932000074"  # a real, Luhn-valid SIRET
SIREN = SIRET[:9]
IBAN = "FR7630006000011234567890189"


def vat_of(siren: str) -> str:
    """French VAT number: FR + key + SIREN, key = (12 + 3 × (SIREN mod 97)) mod 97."""
    return "FR%02d%s" % ((12 + 3 * (int(siren) % 97)) % 97, siren)


# --- SIRET / SIREN -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [SIRET, "732 829 320 00074", " 732.829.320.00074 ", "35600000049837"],
                         ids=["compact", "spaced", "dotted", "la-poste"])
def test_valid_siret_has_no_error(raw):
    assert ids.siret_error(raw) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Le SIRET est obligatoire."),
        ("   ", "Le SIRET est obligatoire."),
        (None, "Le SIRET est obligatoire."),
        ("7328293200007", "Le SIRET doit comporter exactement 14 chiffres."),
        ("732829320000745", "Le SIRET doit comporter exactement 14 chiffres."),
        ("7328293200007A", "Le SIRET doit comporter exactement 14 chiffres."),
        ("73282932000075", "Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres."),
        ("35600000000049", "Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres."),
    ],
    ids=["empty", "blank", "none", "13-digits", "15-digits", "letter", "bad-key", "la-poste-bad-key"],
)
def test_invalid_siret_gets_a_french_message(raw, message):
    assert ids.siret_error(raw) == message


def test_clean_siret_and_siren_of():
    assert ids.clean_siret(" 732 829 320.00074 ") == SIRET
    assert ids.clean_siret(None) == ""
    assert ids.siren_of(SIRET) == SIREN


def test_every_single_digit_typo_is_caught():
    """Luhn catches any one wrong digit: no typo of a valid SIRET passes."""
    for position in range(14):
        for digit in "0123456789":
            if digit != SIRET[position]:
                typo = SIRET[:position] + digit + SIRET[position + 1:]
                assert ids.siret_error(typo) is not None, typo


# --- VAT number --------------------------------------------------------------------------


def test_the_vat_formula_of_these_tests_agrees_with_python_stdnum():
    assert stdnum_tva.is_valid(vat_of(SIREN)) and stdnum_tva.is_valid(vat_of("303265045"))


@pytest.mark.parametrize("raw", [vat_of(SIREN), vat_of(SIREN).lower(), "FR %s %s %s %s" % (vat_of(SIREN)[2:4], SIREN[:3], SIREN[3:6], SIREN[6:])],
                         ids=["compact", "lowercase", "spaced"])
def test_vat_of_the_structures_own_siren_is_accepted(raw):
    assert ids.vat_error(raw, SIREN) is None


def test_clean_vat_keeps_the_country_prefix():
    assert ids.clean_vat("fr %s" % vat_of(SIREN)[2:]) == vat_of(SIREN)


def test_empty_vat_is_allowed():
    assert ids.vat_error("", SIREN) is None
    assert ids.vat_error("  ", SIREN) is None
    assert ids.vat_error(None, SIREN) is None
    assert ids.clean_vat("") == ""


@pytest.mark.parametrize("raw", ["FR00" + SIREN, "FR12ABC", "DE123456789", "FR" + SIREN, "not a number"],
                         ids=["wrong-key", "garbage", "german", "no-key", "words"])
def test_invalid_vat_number(raw):
    assert ids.vat_error(raw, SIREN) == "Ce numéro de TVA intracommunautaire n'est pas valide (format FRxx + SIREN)."


def test_vat_of_another_siren_is_refused():
    other = "303265045"
    assert ids.vat_error(vat_of(other), SIREN) == "Ce numéro de TVA ne correspond pas au SIREN de la structure."


# --- IBAN / BIC --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [IBAN, "FR76 3000 6000 0112 3456 7890 189", "fr7630006000011234567890189", "DE89370400440532013000"])
def test_valid_iban(raw):
    assert ids.iban_error(raw) is None


@pytest.mark.parametrize("raw", ["FR7630006000011234567890188", "FR76", "FR763000600001123456789018", "XX7630006000011234567890189"],
                         ids=["bad-key", "too-short", "wrong-length", "unknown-country"])
def test_invalid_iban(raw):
    assert ids.iban_error(raw) == "Cet IBAN n'est pas valide (clé de contrôle incorrecte)."


def test_iban_is_optional_and_cleaned():
    assert ids.iban_error("") is None and ids.iban_error("   ") is None and ids.iban_error(None) is None
    assert ids.clean_iban(" fr76 3000 6000 0112 3456 7890 189 ") == IBAN
    assert ids.clean_iban(None) == ""


@pytest.mark.parametrize("raw", ["AGRIFRPP", "AGRIFRPPXXX", "agrifrpp", "AGRI FRPP"])
def test_valid_bic(raw):
    assert ids.bic_error(raw) is None


@pytest.mark.parametrize("raw", ["AGRIFRP", "AGRIFRPP1", "AGRIFRPPXXXX", "12RIFRPP", "AGRI00PP"])
def test_invalid_bic(raw):
    assert ids.bic_error(raw) == "Ce BIC n'est pas valide (8 ou 11 caractères)."


def test_bic_is_optional_and_cleaned():
    assert ids.bic_error("") is None and ids.bic_error(None) is None
    assert ids.clean_bic(" agri frpp ") == "AGRIFRPP"


@pytest.mark.parametrize("code", ["75004", "01000", "20000", "69 003", "97110", "97600", "98000", "98800", "95880"])
def test_french_postal_codes_of_a_department_are_accepted(code):
    assert ids.postal_code_error(code) is None


@pytest.mark.parametrize("code, message", [
    ("7500", "Le code postal doit compter 5 chiffres, par exemple 69003."),
    ("750040", "Le code postal doit compter 5 chiffres, par exemple 69003."),
    ("75OO4", "Le code postal doit compter 5 chiffres, par exemple 69003."),
    ("７５００４", "Le code postal doit compter 5 chiffres, par exemple 69003."),  # full-width digits
    ("00123", "Le code postal 00123 ne correspond à aucun département français."),
    ("96000", "Le code postal 96000 ne correspond à aucun département français."),
    ("97900", "Le code postal 97900 ne correspond à aucun département français."),
    ("98100", "Le code postal 98100 ne correspond à aucun département français."),
    ("99999", "Le code postal 99999 ne correspond à aucun département français."),
])
def test_a_postal_code_that_is_not_french_is_refused_in_french(code, message):
    assert ids.postal_code_error(code) == message
