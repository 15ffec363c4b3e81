"""``facteur validate PATH... [--json] [--strict-fr]``: validate invoice files.

The lead wires ``main`` to the console script; ``portal_check`` (optional) is a
callable(result) -> list[Finding] that adds the portal stage for ``--portal``.
Exit status: 0 when every file is valid (no fatal finding at all), 1 otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import msgspec

from .codes import finding
from .model import Finding, ValidationResult
from .pipeline import validate_bytes
from .report import result_to_json_dict, text_report

PortalCheck = Callable[[ValidationResult], Iterable[Finding]]


def main(
    paths: list[str],
    as_json: bool,
    strict_fr: bool,
    portal_check: PortalCheck | None = None,
    *,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    if not paths:
        sys.stderr.write("Aucun fichier à valider.\n")
        return 1
    _quiet_pdf_library()
    all_valid = True
    for path in paths:
        result = validate_path(path, strict_fr=strict_fr, portal_check=portal_check)
        # With --portal, a fatal portal finding fails the run too (the portal would refuse the
        # file), while `valid` keeps its documented meaning: the file itself.
        portal_fatal = any(f.stage == "portal" and f.severity == "fatal" for f in result.findings)
        all_valid = all_valid and result.valid and not portal_fatal
        if as_json:
            out.write(json.dumps(result_to_json_dict(result), ensure_ascii=False) + "\n")
        else:
            out.write(text_report(result) + "\n\n")
    return 0 if all_valid else 1


def validate_path(path: str, *, strict_fr: bool, portal_check: PortalCheck | None = None) -> ValidationResult:
    """Validate one file on disk; an unreadable path becomes a finding."""
    name = Path(path).name or path
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = "fichier introuvable" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        return ValidationResult(
            file=path,
            format="unsupported",
            profile=None,
            valid=False,
            findings=[finding("FCT-IO-01", reason=reason)],
        )
    result = validate_bytes(data, name, strict_fr=strict_fr)
    result = msgspec.structs.replace(result, file=path)
    if portal_check is not None:
        result = _with_portal(result, portal_check)
    return result


def _with_portal(result: ValidationResult, portal_check: PortalCheck) -> ValidationResult:
    try:
        extra = list(portal_check(result))
    except Exception as exc:  # the portal check must not turn into a traceback either
        failed = finding("FCT-INTERNAL-01", detail=f"contrôles du portail : {type(exc).__name__}")
        extra = [msgspec.structs.replace(failed, stage="portal")]
    # `valid` speaks of the file itself (detection, XSD, EN 16931, profile), as documented;
    # portal findings are reported beside it and never change it.
    return msgspec.structs.replace(result, findings=result.findings + extra)


def _quiet_pdf_library() -> None:
    # pypdf logs recoverable damage ("incorrect startxref pointer") as warnings on
    # stderr; the report already says what matters to the supplier.
    logging.getLogger("pypdf").setLevel(logging.ERROR)


if __name__ == "__main__":  # pragma: no cover - manual use: python -m ...validation.cli
    import argparse

    parser = argparse.ArgumentParser(prog="facteur validate")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--strict-fr", action="store_true")
    args = parser.parse_args()
    raise SystemExit(main(args.paths, args.json, args.strict_fr))
