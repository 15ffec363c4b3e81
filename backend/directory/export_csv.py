"""Reading Chorus Pro's directory exports (annuaire): the structures file and the services file.

Pure parsing and validation, no database: every line becomes a row to import, a skipped
line (with its reason) or a bad line (with its reason, in French). A file that cannot be
used at all (unreadable, not CSV, a required column missing) raises `FileRefused`.

Accepted layout (the operator's version, with every accepted header: IMPORT.md)
-------------------------------------------------------------------------------
* Separator: `;` (Chorus Pro), also `,`, tab or `|` when the header line clearly uses it.
* Encoding: UTF-8 with or without BOM, UTF-16 with BOM; otherwise Windows-1252 (cp1252),
  then ISO-8859-1, which is what real exports use.
* Header names are matched whatever their case, accents, spaces, underscores or
  punctuation (`GestionService`, `Gestion du service`, `gestion_service` are one column),
  and French filler words are ignored (`Type d'identifiant` = `TypeIdentifiant`).
  Unknown columns are ignored.
* Yes/no values: `true`/`false`, `1`/`0`, `oui`/`non`, `vrai`/`faux`, `o`/`n`, `yes`/`no`,
  `y`, `t`/`f`, in any case.

Structures file (see STRUCTURE_COLUMNS for every accepted header):
  TypeIdentifiant (optional, SIRET when absent or empty; other types are skipped),
  Identifiant, RaisonSociale, GestionStatutMiseEnPaiement, GestionEngagement,
  GestionService, StructureActive (required); GestionServiceEngagement (optional, empty =
  no); Adresse, ComplementAdresse1, ComplementAdresse2, CodePostal, Ville (optional).

Services file (see SERVICE_COLUMNS):
  IdentifiantStructure, CodeService, NomService (required); TypeIdentifiantStructure
  (optional, like above); GestionEGMT (optional, empty = no); ServiceActif (optional,
  empty = yes).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from backend.lib.common import fold
from backend.lib.formats import agree, plural
from backend.directory.identifiers import clean_siret, siret_error

# --- columns -------------------------------------------------------------------------

_FILLERS = {"de", "du", "des", "la", "le", "les", "l", "d"}


def header_key(raw: str) -> str:
    """`Type d'identifiant ` → `typeidentifiant`: what header matching compares."""
    words = fold(raw.replace("\ufeff", "").replace("_", " ")).split()
    return re.sub(r"[^a-z0-9]", "", "".join(w for w in words if w not in _FILLERS))


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the Chorus Pro header, used in messages
    aliases: tuple[str, ...]
    required: bool = False


STRUCTURE_COLUMNS = (
    Column("id_type", "TypeIdentifiant", ("TypeIdentifiant", "TypeIdentifiantStructure", "Type d'identifiant")),
    Column("siret", "Identifiant", ("Identifiant", "IdentifiantStructure", "SIRET", "SiretStructure", "Identifiant de la structure"), True),
    Column("name", "RaisonSociale", ("RaisonSociale", "RaisonSocialeStructure", "DesignationStructure", "Designation", "Nom", "Nom de la structure"), True),
    Column("reports_payment", "GestionStatutMiseEnPaiement", ("GestionStatutMiseEnPaiement", "GestionStatutMiseAPaiement", "StatutMiseEnPaiement"), True),
    Column("requires_engagement", "GestionEngagement", ("GestionEngagement", "EngagementObligatoire", "GestionEJ"), True),
    Column("requires_service", "GestionService", ("GestionService", "ServiceObligatoire", "GestionCodeService"), True),
    Column("requires_service_or_engagement", "GestionServiceEngagement", ("GestionServiceEngagement", "GestionServiceOuEngagement", "GestionServiceEtEngagement")),
    Column("active", "StructureActive", ("StructureActive", "Active", "Actif", "EstActive"), True),
    Column("address_line1", "Adresse", ("Adresse", "AdressePostale", "Adresse1", "LigneAdresse1")),
    Column("address_line2", "ComplementAdresse1", ("ComplementAdresse1", "ComplementAdresse", "Adresse2", "LigneAdresse2")),
    Column("address_line3", "ComplementAdresse2", ("ComplementAdresse2", "Adresse3", "LigneAdresse3")),
    Column("postal_code", "CodePostal", ("CodePostal", "CP")),
    Column("city", "Ville", ("Ville", "Commune", "Localite")),
)

SERVICE_COLUMNS = (
    Column("id_type", "TypeIdentifiantStructure", ("TypeIdentifiantStructure", "TypeIdentifiant")),
    Column("siret", "IdentifiantStructure", ("IdentifiantStructure", "Identifiant", "SIRET", "SiretStructure"), True),
    Column("code", "CodeService", ("CodeService", "Code", "CodeDuService"), True),
    Column("name", "NomService", ("NomService", "LibelleService", "Libelle", "Nom", "NomDuService", "DesignationService"), True),
    Column("requires_engagement", "GestionEGMT", ("GestionEGMT", "GestionEngagement", "EngagementObligatoire", "ServiceGestionEGMT")),
    Column("active", "ServiceActif", ("ServiceActif", "Actif", "Active", "EstActif")),
)

MAX_LENGTHS = {
    "name": 255, "address_line1": 255, "address_line2": 255, "address_line3": 255,
    "postal_code": 16, "city": 128, "code": 100,
}

_TRUE = {"true", "1", "oui", "o", "vrai", "yes", "y", "t"}
_FALSE = {"false", "0", "non", "n", "faux", "no", "f"}


_BOOLS = {**{v: True for v in _TRUE}, **{v: False for v in _FALSE}}


def parse_bool(raw: str) -> bool | None:
    """True/False for a recognised yes/no value, None otherwise."""
    value = raw.strip().lower()
    if value not in _BOOLS:
        value = fold(value)
    return _BOOLS.get(value)


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        total += _DOUBLED[digit] if position % 2 else digit
    return total % 10 == 0


def _plain_valid_siret(raw: str) -> bool:
    """Fast path for the common case (14 digits, both keys right); anything else goes to siret_error."""
    return len(raw) == 14 and raw.isascii() and raw.isdigit() and not raw.startswith("356000000") and _luhn(raw[:9]) and _luhn(raw)


# --- results -------------------------------------------------------------------------


class FileRefused(Exception):
    """The whole file is unusable; the message is French and names the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LineIssue:
    file: str  # file name as shown to the operator
    line: int  # physical line number, the header being line 1
    message: str

    def __str__(self) -> str:
        return f"{self.file}, ligne {self.line} : {self.message}"


@dataclass(frozen=True)
class StructureRow:
    line: int
    siret: str
    name: str
    address_line1: str
    address_line2: str
    address_line3: str
    postal_code: str
    city: str
    requires_service: bool
    requires_engagement: bool
    requires_service_or_engagement: bool
    reports_payment: bool
    active: bool


@dataclass(frozen=True)
class ServiceRow:
    line: int
    siret: str
    code: str
    name: str
    requires_engagement: bool
    active: bool


@dataclass
class ParsedFile:
    name: str
    encoding: str
    delimiter: str
    rows: list = field(default_factory=list)
    skipped: list[LineIssue] = field(default_factory=list)
    bad: list[LineIssue] = field(default_factory=list)
    lines: int = 0  # data lines read (blank lines excluded)
    skipped_ids: dict[str, str] = field(default_factory=dict)  # identifier → its non-SIRET type


# --- decoding ------------------------------------------------------------------------

ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (avec BOM)", "utf-16": "UTF-16",
                   "cp1252": "Windows-1252", "latin-1": "ISO-8859-1"}


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding used: BOM first, then UTF-8, cp1252, latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


# --- reading -------------------------------------------------------------------------


def _read(path: Path, columns: tuple[Column, ...], what: str):
    """Decoded records of the file with their line numbers, and the column → index map."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileRefused(f"{what} « {path} » introuvable.") from None
    except OSError as exc:
        raise FileRefused(f"{what} « {path} » illisible : {exc.strerror}.") from None
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(f"{what} « {path.name} » n'est pas un fichier texte CSV.")
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError:
        raise FileRefused(f"{what} « {path.name} » : encodage illisible (attendu UTF-8 ou Windows-1252).") from None
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise FileRefused(f"{what} « {path.name} » est vide ou ne commence pas par la ligne d'en-tête.")
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    positions: dict[str, int] = {}
    by_key = {header_key(alias): col for col in columns for alias in col.aliases}
    for index, raw in enumerate(header):
        col = by_key.get(header_key(raw))
        if col is not None and col.field not in positions:
            positions[col.field] = index
    missing = [col.label for col in columns if col.required and col.field not in positions]
    if missing:
        found = ", ".join(h.strip().replace("\ufeff", "") for h in header if h.strip()) or "aucune"
        raise FileRefused(
            f"{what} « {path.name} » : {agree(len(missing), 'colonne obligatoire absente', 'colonnes obligatoires absentes')} : "
            f"{', '.join(missing)}. Colonnes trouvées : {found}."
        )
    labels = {col.field: header[positions[col.field]].strip().replace("\ufeff", "") or col.label for col in columns if col.field in positions}
    parsed = ParsedFile(name=path.name, encoding=encoding, delimiter=delimiter)
    return reader, len(header), positions, labels, parsed


def _records(reader, width: int, parsed: ParsedFile):
    """(line number, fields) of every non-blank record; short or long records become bad lines."""
    previous_end = reader.line_num
    try:
        for fields in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            parsed.lines += 1
            if len(fields) > width and any(f.strip() for f in fields[width:]):
                parsed.bad.append(LineIssue(parsed.name, line, f"la ligne compte {plural(len(fields), 'champ')} au lieu de {width} (séparateur ou guillemets en trop ?)."))
                continue
            if len(fields) < width:
                parsed.bad.append(LineIssue(parsed.name, line, f"ligne incomplète : {plural(len(fields), 'champ')} au lieu de {width}."))
                continue
            yield line, fields
    except csv.Error as exc:
        raise FileRefused(f"Fichier « {parsed.name} », ligne {reader.line_num} : CSV illisible ({exc}).") from None


class _Line:
    """One record's values by field name, collecting the line's problems."""

    __slots__ = ("fields", "positions", "labels", "problems")

    def __init__(self, fields: list[str], positions: dict[str, int], labels: dict[str, str]) -> None:
        self.fields = fields
        self.positions = positions
        self.labels = labels
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        index = self.positions.get(name)
        value = self.fields[index].strip() if index is not None else ""
        limit = MAX_LENGTHS.get(name)
        if limit and len(value) > limit:
            self.problems.append(f"{self.labels[name]} est trop long ({len(value)} caractères, {limit} au plus).")
        return value

    def flag(self, name: str, default: bool | None) -> bool:
        """A yes/no column; an absent column gives the default, an empty value too unless the default is None."""
        if name not in self.positions:
            return bool(default)
        raw = self.fields[self.positions[name]].strip()
        if not raw and default is not None:
            return default
        value = parse_bool(raw)
        if value is None:
            shown = f"« {raw} »" if raw else "vide"
            self.problems.append(f"{self.labels[name]} : valeur {shown} non reconnue (attendu oui/non, true/false ou 1/0).")
            return False
        return value

    def identifier(self, parsed: ParsedFile, line: int, skipped_ids: dict[str, str] | None = None) -> str | None:
        """The SIRET, or None when the line is skipped (other identifier type) or bad."""
        id_type = self.text("id_type").upper().replace(" ", "_")
        raw = self.text("siret")
        if id_type in ("", "SIRET") and _plain_valid_siret(raw) and not (skipped_ids and raw in skipped_ids):
            return raw
        if id_type and id_type != "SIRET":
            parsed.skipped.append(LineIssue(parsed.name, line, f"type d'identifiant « {id_type} » : seules les structures identifiées par un SIRET sont importées."))
            parsed.skipped_ids[clean_siret(raw)] = id_type
            return None
        if skipped_ids and clean_siret(raw) in skipped_ids:
            parsed.skipped.append(LineIssue(parsed.name, line, f"la structure {raw} est ignorée (type d'identifiant « {skipped_ids[clean_siret(raw)]} »)."))
            return None
        error = siret_error(raw)
        if error:
            error = error[0].lower() + error[1:]
            self.problems.append(f"{self.labels['siret']} « {raw} » : {error}" if raw else f"{self.labels['siret']} : {error}")
            return None
        return clean_siret(raw)


def read_structures(path: str | Path) -> ParsedFile:
    """Parse and validate a Chorus Pro structures export."""
    reader, width, positions, labels, parsed = _read(Path(path), STRUCTURE_COLUMNS, "Fichier des structures")
    first_line: dict[str, int] = {}
    for line, fields in _records(reader, width, parsed):
        values = _Line(fields, positions, labels)
        siret = values.identifier(parsed, line)
        if siret is None and not values.problems:
            continue  # skipped
        name = values.text("name")
        if not name:
            values.problems.append(f"{labels['name']} est vide.")
        row = StructureRow(
            line=line,
            siret=siret or "",
            name=name,
            address_line1=values.text("address_line1"),
            address_line2=values.text("address_line2"),
            address_line3=values.text("address_line3"),
            postal_code=values.text("postal_code"),
            city=values.text("city"),
            requires_service=values.flag("requires_service", None),
            requires_engagement=values.flag("requires_engagement", None),
            requires_service_or_engagement=values.flag("requires_service_or_engagement", False),
            reports_payment=values.flag("reports_payment", None),
            active=values.flag("active", None),
        )
        if siret and siret in first_line and not values.problems:
            values.problems.append(f"SIRET {siret} en double (déjà présent ligne {first_line[siret]}).")
        if values.problems:
            parsed.bad.append(LineIssue(parsed.name, line, " ".join(values.problems)))
            continue
        first_line[siret] = line
        parsed.rows.append(row)
    return parsed


def read_services(path: str | Path, skipped_ids: dict[str, str] | None = None) -> ParsedFile:
    """Parse and validate a Chorus Pro services export (the structures are checked later).

    `skipped_ids`: identifiers of structures the structures file skipped (RIDET, TAHITI…):
    their services are skipped too, even when the services file has no identifier type.
    """
    reader, width, positions, labels, parsed = _read(Path(path), SERVICE_COLUMNS, "Fichier des services")
    first_line: dict[tuple[str, str], int] = {}
    for line, fields in _records(reader, width, parsed):
        values = _Line(fields, positions, labels)
        siret = values.identifier(parsed, line, skipped_ids)
        if siret is None and not values.problems:
            continue
        code = values.text("code")
        if not code:
            values.problems.append(f"{labels['code']} est vide.")
        name = values.text("name")
        if not name:
            values.problems.append(f"{labels['name']} est vide.")
        row = ServiceRow(
            line=line,
            siret=siret or "",
            code=code,
            name=name,
            requires_engagement=values.flag("requires_engagement", False),
            active=values.flag("active", True),
        )
        key = (row.siret, row.code)
        if siret and code and key in first_line and not values.problems:
            values.problems.append(f"service {code} de la structure {siret} en double (déjà présent ligne {first_line[key]}).")
        if values.problems:
            parsed.bad.append(LineIssue(parsed.name, line, " ".join(values.problems)))
            continue
        first_line[key] = line
        parsed.rows.append(row)
    return parsed
