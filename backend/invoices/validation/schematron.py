"""Stage 4: official business rules (schematron compiled to XSLT), run in-process
with SaxonC-HE, and their SVRL output turned into findings.

Every stylesheet is compiled once per process (lazily, or eagerly by ``warm_up``)
and kept in a module-level cache guarded by a lock. A compiled executable is not
safe to run from two threads at once (it holds the global context item), so each
thread runs its own ``clone()`` of it: cloning shares the compiled stylesheet and
costs microseconds.

The input handed to Saxon is re-serialised from the lxml tree built by the hardened
parser, so Saxon's own XML parser never sees a DOCTYPE. Saxon may only read local
files (the code lists next to the Factur-X stylesheets): no network access.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

import msgspec
import saxonche
from facturx import facturx as fx
from lxml import etree

from .codes import finding
from .messages_fr import FIELD_LABELS, field_of_element, french_message, term_of_location
from .model import Finding, Severity, Stage
from .xsd import bundled_path

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class RuleSet:
    key: str
    path: str  # inside facturx/xsd_and_schematron, or absolute for a vendored file
    label: str
    kind: str  # "cen" (EN 16931 per syntax), "facturx" (profile), "br-fr"

    @property
    def file(self) -> str:
        return self.path if os.path.isabs(self.path) else bundled_path(self.path)


# The CEN EN 16931 CII stylesheet (CII-SR-*, CII-DT-*), which factur-x does not ship:
# vendored unmodified with its licence and source (vendor/cen-en16931-cii/SOURCE.md).
CEN_CII_XSLT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "vendor", "cen-en16931-cii", "EN16931-CII-validation.xslt"
)


def _rulesets() -> dict[str, RuleSet]:
    sets = {
        f"facturx-{level}": RuleSet(f"facturx-{level}", path, f"Factur-X {level.upper()}", "facturx")
        for level, path in fx.FACTURX_LEVEL2schematron.items()
    }
    sets["facturx-extended-ctc-fr"] = RuleSet(
        "facturx-extended-ctc-fr",
        fx.FACTURX_LEVEL2schematron["extended-ctc-fr"],
        "CII EXTENDED-CTC-FR",
        "cen",
    )
    sets["ubl-en16931"] = RuleSet("ubl-en16931", fx.UBL_21_LEVEL2schematron["en16931"], "EN 16931 UBL", "cen")
    sets["ubl-extended-ctc-fr"] = RuleSet(
        "ubl-extended-ctc-fr", fx.UBL_21_LEVEL2schematron["extended-ctc-fr"], "UBL EXTENDED-CTC-FR", "cen"
    )
    sets["cen-cii"] = RuleSet("cen-cii", CEN_CII_XSLT, "EN 16931 CII (CEN)", "cen")
    sets["br-fr-cii"] = RuleSet("br-fr-cii", fx.CII_FR_CTC_schematron, "BR-FR Flux 2 (CII)", "br-fr")
    sets["br-fr-ubl"] = RuleSet("br-fr-ubl", fx.UBL_21_FR_CTC_schematron, "BR-FR Flux 2 (UBL)", "br-fr")
    return sets


RULESETS: dict[str, RuleSet] = _rulesets()

_processor: saxonche.PySaxonProcessor | None = None
_processor_lock = threading.Lock()
_compiled: dict[str, saxonche.PyXsltExecutable] = {}
_compile_lock = threading.Lock()
_local = threading.local()


def ruleset_available(key: str) -> bool:
    return key in RULESETS and os.path.isfile(RULESETS[key].file)


def _get_processor() -> saxonche.PySaxonProcessor:
    global _processor
    if _processor is None:
        with _processor_lock:
            if _processor is None:
                proc = saxonche.PySaxonProcessor(license=False)
                # Local files only (the code lists beside the stylesheets); never the network.
                proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "file")
                _processor = proc
    return _processor


def compiled(key: str) -> saxonche.PyXsltExecutable:
    """The process-wide compiled stylesheet for a rule set (compiled on first use)."""
    executable = _compiled.get(key)
    if executable is None:
        with _compile_lock:
            executable = _compiled.get(key)
            if executable is None:
                executable = _compiled[key] = _compile(RULESETS[key])
    return executable


# The Factur-X stylesheets look code lists up with document('..._codedb.xml'):
# Saxon re-reads that file (35-270 KB) on every transformation, about half of the
# run time. The same file is parsed once here and passed as a stylesheet parameter;
# the rules themselves are untouched.
_CODEDB_CALL = re.compile(r"document\('([A-Za-z0-9_.\-]+_codedb\.xml)'\)")
_CODEDB_PARAM = "facteur_codedb"
_codedbs: dict[str, saxonche.PyXdmNode] = {}


def _compile(ruleset: RuleSet) -> saxonche.PyXsltExecutable:
    proc = _get_processor()
    compiler = proc.new_xslt30_processor()
    path = ruleset.file
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    names = set(_CODEDB_CALL.findall(source))
    if len(names) != 1:
        return compiler.compile_stylesheet(stylesheet_file=path)
    codedb_path = os.path.join(os.path.dirname(path), names.pop())
    _codedbs[ruleset.key] = proc.parse_xml(xml_file_name=codedb_path)
    source = _CODEDB_CALL.sub(f"${_CODEDB_PARAM}", source)
    start = source.index(">", source.index("<xsl:stylesheet")) + 1
    declaration = f'<xsl:param name="{_CODEDB_PARAM}" as="document-node()"/>'
    return compiler.compile_stylesheet(stylesheet_text=source[:start] + declaration + source[start:])


def _thread_executable(key: str) -> saxonche.PyXsltExecutable:
    clones = getattr(_local, "clones", None)
    if clones is None:
        clones = _local.clones = {}
    executable = clones.get(key)
    if executable is None:
        executable = compiled(key).clone()
        codedb = _codedbs.get(key)
        if codedb is not None:
            executable.set_parameter(_CODEDB_PARAM, codedb)
        clones[key] = executable
    return executable


def run_svrl(root: etree._Element, key: str) -> etree._Element:
    """Run one rule set and return the parsed SVRL report."""
    proc = _get_processor()
    text = etree.tostring(root, encoding="unicode")
    node = proc.parse_xml(xml_text=text, encoding="UTF-8")
    report = _thread_executable(key).transform_to_string(xdm_node=node)
    return etree.fromstring(report.encode("utf-8"), parser=_svrl_parser())


def _svrl_parser() -> etree.XMLParser:
    parser = getattr(_local, "svrl_parser", None)
    if parser is None:
        parser = _local.svrl_parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return parser


def check(root: etree._Element, key: str) -> list[Finding]:
    """Findings of one rule set; a technical failure is itself a finding."""
    ruleset = RULESETS[key]
    try:
        svrl = run_svrl(root, key)
    except Exception as exc:  # Saxon dynamic error, missing stylesheet...
        detail = str(getattr(exc, "message", None) or exc).strip()[:300]
        return [finding("FCT-SCH-01", ruleset=ruleset.label, detail=detail)]
    return svrl_findings(svrl, ruleset.kind)


# --- SVRL -> findings ----------------------------------------------------------------

_BRACKET_ID = re.compile(r"^\s*\[([A-Za-z][A-Za-z0-9_.\-]*)\]\s*-?\s*")
_NS_PREDICATE = re.compile(r"\[namespace-uri\(\)='[^']*'\]")
_TERMS = re.compile(r"\b(B[TG]-[0-9]+)\b")
_WARNING_FLAGS = frozenset({"warning", "warn", "information", "info"})


def svrl_findings(svrl: etree._Element, kind: str) -> list[Finding]:
    results = []
    for item in svrl.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        results.append(_svrl_item(item, kind))
    return results


def _svrl_item(item: etree._Element, kind: str) -> Finding:
    text_node = item.find(f"{{{SVRL_NS}}}text")
    raw = " ".join("".join(text_node.itertext()).split()) if text_node is not None else ""
    official = _BRACKET_ID.match(raw)
    if official:
        raw = raw[official.end() :]
    rule = official.group(1) if official else item.get("id")
    location = _location(item.get("location"), raw)
    if rule is None:
        return _unnamed(item, raw, location)
    term = _main_term(raw, location)
    field = FIELD_LABELS.get(term) if term else None
    message = french_message(rule, raw, field)
    return Finding(
        rule=rule,
        severity=_severity(item),
        stage=_stage(rule, kind),
        message=message,
        location=location,
        field=field,
        term=term,
        official=raw if raw and raw != message else None,
    )


def _main_term(text: str, location: str | None) -> str | None:
    """The field a finding is about: the first term the rule names, else where it failed."""
    named = _TERMS.search(text)
    return named.group(1) if named else term_of_location(location)


def _unnamed(item: etree._Element, text: str, location: str | None) -> Finding:
    """SVRL items the stylesheet gives no identifier: the Factur-X "element not
    used in this profile" reports (informative: the element is ignored), or any
    other anonymous assertion (kept fatal, under a project code)."""
    is_report = item.tag == f"{{{SVRL_NS}}}successful-report"
    code = "FCT-PROFILE-03" if is_report and "not used" in text and not item.get("flag") else "FCT-SCH-02"
    term = _main_term(text, location)
    field = FIELD_LABELS.get(term) if term else None
    element = _ELEMENT.search(text)
    about = field or (field_of_element(element.group(1)) if element else None)
    named = finding(code, location=location, about=f"« {about} »" if about else "l'élément indiqué")
    return msgspec.structs.replace(named, field=field, term=term, official=text or None)


_ELEMENT = re.compile(r"Element '([^']+)'")


def _severity(item: etree._Element) -> Severity:
    flag = (item.get("flag") or item.get("role") or "").strip().lower()
    return "warning" if flag in _WARNING_FLAGS else "fatal"


def _stage(rule: str, kind: str) -> Stage:
    if kind == "facturx" and not (rule.startswith("BR-") and not rule.startswith("BR-FX")):
        return "profile"  # Factur-X-specific rule (FX-SCH-A-..., BR-FXEXT-...)
    return "en16931"


def _location(xpath: str | None, text: str) -> str | None:
    """Readable XPath (namespace predicates removed) plus the BT/BG the rule names."""
    path = _NS_PREDICATE.sub("", xpath or "").replace("*:", "") or None
    terms = list(dict.fromkeys(_TERMS.findall(text)))
    if terms:
        label = ", ".join(terms[:4])
        return f"{path} ({label})" if path else label
    return path
