"""The API's schema errors in French (backend/api/decoding.py): each msgspec message shape, and
the field's path completed for a missing or unknown field."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from backend.api.decoding import _DECODER, french, location


@pytest.mark.parametrize(("message", "said"), [
    ("Expected `str`, got `int`", "Valeur attendue : un texte ; reçu : un nombre entier."),
    ("Expected `str | null`, got `array`", "Valeur attendue : un texte ; reçu : une liste."),
    ("Expected `object`, got `str`", "Valeur attendue : un objet ; reçu : un texte."),
    ("Expected `int` >= 1", "Valeur attendue : un nombre entier supérieur ou égal à 1."),
    ("Expected `str` of length <= 300", "Au plus 300 caractères."),
    ("Expected `str` of length >= 1", "Au moins 1 caractère."),
    ("Expected `array` of length <= 10", "Au plus 10 éléments."),
    ("Expected `str` matching regex '^[0-9]{14}$'", "Format non accepté : 14 chiffres (un SIRET)."),
    ("Invalid enum value 'PAYEE'", "Valeur « PAYEE » non acceptée."),
    ("Invalid RFC3339 encoded datetime", "Date et heure invalides : format ISO 8601 attendu (ex. 2026-03-02T09:30:00+01:00)."),
    ("Invalid base64 encoded string", "Contenu base64 invalide."),
    ("Something msgspec may say one day", "Valeur non valide."),
])
def test_msgspec_messages_are_said_in_french(message, said):
    assert french(message) == said


def test_a_missing_or_unknown_field_is_named_under_its_parent():
    assert location("lines[2]", "Object missing required field `vat_rate`") == "lines[2].vat_rate"
    assert location("data", "Object contains unknown field `tva`") == "tva"
    assert location("data", "Expected `object`, got `array`") is None
    assert location("payment.amount", "Invalid decimal string") == "payment.amount"


def test_json_numbers_keep_every_digit():
    decoded = _DECODER.decode(b'{"a": 0.1, "b": 0.30000000000000000001, "c": 3, "d": 1e400}')
    assert decoded == {"a": Decimal("0.1"), "b": Decimal("0.30000000000000000001"), "c": 3, "d": Decimal("1E+400")}
    assert isinstance(decoded["c"], int)
    with pytest.raises(msgspec.DecodeError):
        _DECODER.decode(b'{"a": NaN}')
