"""French identifiers checked with python-stdnum: SIRET, SIREN, VAT number, IBAN, BIC; and postal codes."""

from __future__ import annotations

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva as stdnum_tva


def clean_siret(raw: str) -> str:
    return stdnum_siret.compact(raw or "")


def siret_error(raw: str) -> str | None:
    """French message when the SIRET is not a valid 14-digit, Luhn-checked number."""
    siret = clean_siret(raw)
    if not siret:
        return "Le SIRET est obligatoire."
    if not siret.isdigit() or len(siret) != 14:
        return "Le SIRET doit comporter exactement 14 chiffres."
    if not stdnum_siret.is_valid(siret):
        return "Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres."
    return None


def vat_error(raw: str, siren: str) -> str | None:
    """A French VAT number must be valid and carry the structure's own SIREN."""
    vat = stdnum_tva.compact(raw or "")  # "FR" prefix removed: key (2 chars) + SIREN
    if not vat:
        return None
    if not stdnum_tva.is_valid(vat):
        return "Ce numéro de TVA intracommunautaire n'est pas valide (format FRxx + SIREN)."
    if vat[2:] != siren:
        return "Ce numéro de TVA ne correspond pas au SIREN de la structure."
    return None


def clean_vat(raw: str) -> str:
    compact = stdnum_tva.compact(raw or "")
    return f"FR{compact}" if compact else ""


def iban_error(raw: str) -> str | None:
    if not (raw or "").strip():
        return None
    return None if stdnum_iban.is_valid(raw) else "Cet IBAN n'est pas valide (clé de contrôle incorrecte)."


def clean_iban(raw: str) -> str:
    return stdnum_iban.compact(raw or "")


def bic_error(raw: str) -> str | None:
    if not (raw or "").strip():
        return None
    return None if stdnum_bic.is_valid(raw) else "Ce BIC n'est pas valide (8 ou 11 caractères)."


def clean_bic(raw: str) -> str:
    return stdnum_bic.compact(raw or "")


def siren_of(siret: str) -> str:
    return stdnum_siren.compact(siret[:9])


def clean_postal_code(raw: str) -> str:
    return "".join((raw or "").split())


def postal_code_error(raw: str) -> str | None:
    """A French postal code: 5 digits whose start names a department (01–95, overseas 971–978 and 98x)."""
    code = clean_postal_code(raw)
    if not (code.isascii() and code.isdigit() and len(code) == 5):
        return "Le code postal doit compter 5 chiffres, par exemple 69003."
    if not _names_a_department(code):
        return f"Le code postal {code} ne correspond à aucun département français."
    return None


def _names_a_department(code: str) -> bool:
    prefix = int(code[:2])
    if prefix == 97:  # Guadeloupe 971 … Saint-Martin 978
        return code[2] in "12345678"
    if prefix == 98:  # Monaco 980, TAAF 984, Wallis-et-Futuna 986, Polynésie 987, Nouvelle-Calédonie 988
        return code[2] in "04678"
    return 1 <= prefix <= 95  # metropolitan departments, Corsica (20) included
