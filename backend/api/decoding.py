"""How the API reads a JSON body: exact numbers, and schema errors said in French with the field.

Amounts may come as JSON numbers (`12.5`) or strings (`"12.50"`). A JSON number is read from
its text straight into a Decimal (`float_hook=Decimal`): `0.1` is exactly 0.1, never the
binary float 0.1000000000000000055…, and no digit is lost however long the number.

msgspec says what is wrong with a body in English (`Expected `str`, got `int``); an ERP's
user reads French: `french` rewrites each of its messages, `location` names the field as a
path (`lines[0].unit_price`), and `schema_problem` makes the 422 problem+json.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
from litestar.types import Empty

from backend.api.problems import ApiProblem
from backend.lib.formats import plural
from backend.lib.forms import FormRequest

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
# Beyond this, an amount or a quantity is a mistake (the invoice rules bound them well below).
MAX_NUMBER = Decimal(10) ** 15


class ApiRequest(FormRequest):
    """The API's requests: JSON numbers become Decimal, from their text."""

    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                try:
                    self._json = _DECODER.decode(await self.body() or b"null")
                except msgspec.DecodeError as exc:
                    raise ApiProblem(400, "json_invalid", f"Le corps de la requête n'est pas du JSON valide ({_where(str(exc))}).") from None
                self._connection_state.json = self._json
        return self._json


def _where(message: str) -> str:
    match = re.search(r"byte (\d+)", message)
    return f"vers l'octet {match.group(1)}" if match else "illisible"


_TYPES = {
    "str": "un texte", "int": "un nombre entier", "float": "un nombre", "decimal": "un nombre", "bool": "un booléen",
    "null": "null", "array": "une liste", "object": "un objet", "date": "une date", "datetime": "une date et heure",
    "bytes": "un contenu en base64",
}
_EXPECTED = {
    "decimal": 'un nombre (12.5 ou "12.50")', "date": "une date AAAA-MM-JJ", "datetime": "une date et heure ISO 8601",
    "bytes": "un contenu en base64",
}


def _kind(name: str, expected: bool = False) -> str:
    names = [n.strip() for n in name.split("|") if n.strip() != "null"] or ["null"]
    words = [(_EXPECTED.get(n) if expected else None) or _TYPES.get(n, n) for n in names]
    return " ou ".join(dict.fromkeys(words))


_PATTERNS = {
    r"^[0-9]{14}$": "14 chiffres (un SIRET)",
    r"^[A-Za-z0-9+\-_/]+$": "lettres, chiffres et + - _ / seulement",
}
_COMPARE = {">=": "supérieur ou égal à", "<=": "inférieur ou égal à", ">": "supérieur à", "<": "inférieur à"}


def french(message: str) -> str:
    """A msgspec validation message (without its ` - at `$…`` part), in French."""
    if match := re.fullmatch(r"Expected `([^`]+)` of length (>=|<=) (\d+)", message):
        kind, op, size = match.groups()
        many = int(size) > 1
        if kind in ("array", "object"):
            unit = "éléments" if many else "élément"
        else:
            unit = "caractères" if many else "caractère"
        return f"{'Au moins' if op == '>=' else 'Au plus'} {size} {unit}."
    if match := re.fullmatch(r"Expected `([^`]+)` matching regex '(.*)'", message):
        pattern = match.group(2).replace("\\\\", "\\")
        return f"Format non accepté : {_PATTERNS.get(pattern, f'motif {pattern}')}."
    if match := re.fullmatch(r"Expected `([^`]+)` (>=|<=|>|<) (\S+)", message):
        kind, op, bound = match.groups()
        return f"Valeur attendue : {_kind(kind, True)} {_COMPARE[op]} {bound}."
    if match := re.fullmatch(r"Expected `([^`]+)`, got `([^`]+)`", message):
        expected, got = match.groups()
        return f"Valeur attendue : {_kind(expected, True)} ; reçu : {_kind(got)}."
    if match := re.fullmatch(r"Invalid enum value '?(.*?)'?", message):
        return f"Valeur « {match.group(1)} » non acceptée."
    if match := re.fullmatch(r"Object missing required field `([^`]+)`", message):
        return "Champ obligatoire absent."
    if match := re.fullmatch(r"Object contains unknown field `([^`]+)`", message):
        return "Champ inconnu : retirez-le ou vérifiez son nom."
    if message.startswith("Invalid RFC3339 encoded datetime"):
        return "Date et heure invalides : format ISO 8601 attendu (ex. 2026-03-02T09:30:00+01:00)."
    if message.startswith("Invalid RFC3339 encoded date"):
        return "Date invalide : format AAAA-MM-JJ attendu (ex. 2026-03-02)."
    if message.startswith("Invalid decimal string"):
        return 'Nombre illisible : écrivez-le avec un point décimal, en nombre (12.5) ou en texte ("12.50").'
    if message.startswith("Invalid base64"):
        return "Contenu base64 invalide."
    return "Valeur non valide."


def location(key: str | None, message: str) -> str | None:
    """The field's path: Litestar's key, completed by the field msgspec names (a missing or
    unknown field is reported at its parent object); None for the body as a whole."""
    path = "" if key in (None, "", "data") else key
    if match := re.fullmatch(r"Object (?:missing required|contains unknown) field `([^`]+)`", message):
        path = f"{path}.{match.group(1)}" if path else match.group(1)
    return path or None


def finding(path: str | None, message: str) -> dict[str, Any]:
    return {"rule": "FCT-API-SCHEMA", "severity": "fatal", "stage": "request", "message": message, "location": path}


def schema_problem(findings: list[dict[str, Any]]) -> ApiProblem:
    """The 422: its detail names the first field and says what is wrong with it, in French."""
    first = findings[0] if findings else None
    if first is None:
        detail = "La requête ne respecte pas le schéma de l'API."
    elif first["location"]:
        detail = f"Champ « {first['location']} » : {first['message']}"
    else:
        detail = f"Corps de la requête : {first['message']}"
    if len(findings) > 1:
        detail += f" (et {plural(len(findings) - 1, 'autre constat', 'autres constats')})"
    return ApiProblem(422, "invalid", detail, findings=findings or None)


def check_numbers(values: dict[str, Decimal | None]) -> None:
    """Numbers the schema lets through but no invoice can hold: not finite ("NaN",
    "Infinity") or absurdly large. Raises the schema 422 naming the field."""
    bad = [finding(path, "Nombre fini attendu." if not value.is_finite() else "Nombre trop grand.")
           for path, value in values.items()
           if value is not None and (not value.is_finite() or abs(value) >= MAX_NUMBER)]
    if bad:
        raise schema_problem(bad)
