"""Opening a ZIP flux safely: bounded count, sizes and compression ratio; no path tricks.

Sizes written in ZIP headers are not trusted: every entry is read through a bounded
stream, so a lying header cannot make us inflate more than the limits.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from backend.invoices.validation import Finding

MAX_ENTRIES = 500
MAX_RATIO = 200  # inflated / compressed: real invoices stay far below; bombs are far above
CHUNK = 64 * 1024

MESSAGES = {
    "FCT-ZIP-01": "Cette archive ZIP est illisible ou corrompue : recréez-la puis déposez-la de nouveau.",
    "FCT-ZIP-02": "L'archive contient plus de {max} fichiers ({count}). Déposez-la en plusieurs flux.",
    "FCT-ZIP-03": "L'archive se décompresse en plus de {limit} : elle est refusée (limite de taille d'un flux).",
    "FCT-ZIP-04": "L'entrée « {name} » a un taux de compression anormal (archive piège) : l'archive est refusée.",
    "FCT-ZIP-05": "L'entrée « {name} » a un chemin interdit (absolu ou contenant « .. ») : elle est ignorée.",
    "FCT-ZIP-06": "L'entrée « {name} » dépasse la taille maximale d'un fichier ({limit}).",
    "FCT-ZIP-07": "L'entrée « {name} » est chiffrée (mot de passe) : elle ne peut pas être lue.",
    "FCT-ZIP-08": "L'archive ne contient aucun fichier de facture.",
}


def zip_finding(rule: str, **values: object) -> Finding:
    return Finding(rule=rule, severity="fatal", stage="detect", message=MESSAGES[rule].format(**values), location=values.get("name"))  # type: ignore[arg-type]


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


@dataclass
class Entry:
    name: str
    data: bytes | None
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Flux:
    entries: list[Entry] = field(default_factory=list)
    refusal: Finding | None = None  # set when the whole archive is refused


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} Mo"


def _unsafe(name: str) -> bool:
    """Absolute paths, parent references and Windows drive letters are refused."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not path.parts:
        return True
    return path.is_absolute() or ".." in path.parts or ":" in path.parts[0]


def open_flux(data: bytes, max_file_size: int, max_total: int) -> Flux:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        return Flux(refusal=zip_finding("FCT-ZIP-01"))
    if len(infos) > MAX_ENTRIES:
        return Flux(refusal=zip_finding("FCT-ZIP-02", max=MAX_ENTRIES, count=len(infos)))
    if not infos:
        return Flux(refusal=zip_finding("FCT-ZIP-08"))
    flux, total = Flux(), 0
    for info in infos:
        entry, refusal = _read_entry(archive, info, max_file_size, max_total - total, max_total)
        if refusal:
            return Flux(refusal=refusal)
        total += len(entry.data or b"")
        flux.entries.append(entry)
    return flux


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_file_size: int, budget: int, max_total: int
) -> tuple[Entry, Finding | None]:
    name = info.filename
    if _unsafe(name):
        return Entry(name, None, [zip_finding("FCT-ZIP-05", name=name)]), None
    if info.flag_bits & 0x1:
        return Entry(name, None, [zip_finding("FCT-ZIP-07", name=name)]), None
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                out += chunk
                if len(out) > budget:
                    return Entry(name, None), zip_finding("FCT-ZIP-03", limit=_mb(max_total))
                if len(out) > max_file_size:
                    return Entry(name, None, [zip_finding("FCT-ZIP-06", name=name, limit=_mb(max_file_size))]), None
                if len(out) > 1024 * 1024 and len(out) > MAX_RATIO * max(info.compress_size, 1):
                    return Entry(name, None), zip_finding("FCT-ZIP-04", name=name)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return Entry(name, None), zip_finding("FCT-ZIP-01")
    return Entry(PurePosixPath(name).name, bytes(out)), None
