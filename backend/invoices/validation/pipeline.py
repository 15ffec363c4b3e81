"""The deposit validation pipeline: detect -> extract -> XSD -> business rules.

``validate_bytes`` never raises: every problem, including an internal error, comes
back as a finding. XSD errors do not stop the business rules, so the supplier sees
every problem at once. See POLICY.md for the rule sets chosen per document.
"""

from __future__ import annotations

import logging

from lxml import etree

from .codes import finding
from .detect import Detection, detect
from .extract import extract
from .model import Finding, NormalizedInvoice, ValidationResult, is_valid
from .plan import advisory_unless_core, french_rule_advisory, plan_checks
from .profiles import level_of, profile_from_guideline
from .schematron import check, compiled
from .values import with_values
from .xsd import get_schema, validate_xsd

DEFAULT_MAX_SIZE = 20 * 1024 * 1024

logger = logging.getLogger(__name__)


# --- public entry points ----------------------------------------------------------


def validate_bytes(
    data: bytes,
    filename: str | None = None,
    *,
    strict_fr: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
) -> ValidationResult:
    """Validate one deposited file. Never raises."""
    try:
        return _validate(data, filename, strict_fr=strict_fr, max_size=max_size, fragment=False)
    except Exception as exc:  # last resort: the caller must always get a report
        logger.exception("validation failed for %s", filename)
        return _refused(filename, [finding("FCT-INTERNAL-01", detail=type(exc).__name__)])


def validate_rule_fragment(
    data: bytes, filename: str | None = None, *, strict_fr: bool = False
) -> ValidationResult:
    """Business-rule stage only, for partial documents (single-rule test cases).

    Detection still runs (a fragment must be CII or UBL XML); XSD is skipped because
    such fragments fail it by design."""
    try:
        return _validate(data, filename, strict_fr=strict_fr, max_size=DEFAULT_MAX_SIZE, fragment=True)
    except Exception as exc:
        logger.exception("rule-fragment validation failed for %s", filename)
        return _refused(filename, [finding("FCT-INTERNAL-01", detail=type(exc).__name__)])


def _refused(filename: str | None, findings: list[Finding]) -> ValidationResult:
    return ValidationResult(file=filename, format="unsupported", profile=None, valid=False, findings=findings)


def _validate(
    data: bytes, filename: str | None, *, strict_fr: bool, max_size: int, fragment: bool
) -> ValidationResult:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if len(data) > max_size:
        return _refused(filename, [finding("FCT-SIZE-01", limit=_human_size(max_size))])
    detection = detect(data, filename)
    if detection.root is None:
        return _refused(filename, detection.findings)
    return _check_document(detection, filename, strict_fr=strict_fr, fragment=fragment)


def _check_document(
    detection: Detection, filename: str | None, *, strict_fr: bool, fragment: bool
) -> ValidationResult:
    root, syntax = detection.root, detection.syntax
    findings = list(detection.findings)
    invoice, level = _read_invoice(root, syntax)
    profile = invoice.profile
    if detection.format == "facturx-pdf" and profile is None and not fragment:
        findings.append(finding("FCT-PROFILE-02", guideline=invoice.guideline_id or "absent"))
    plan = plan_checks(
        syntax,
        level,
        profile,
        strict_fr,
        in_pdf=detection.format == "facturx-pdf",
        guideline=invoice.guideline_id,
        # Single-rule fragments are partial documents: the French rules would only
        # report what the fragment leaves out, so they run there on request only.
        french_rules=not fragment,
    )
    findings.extend(plan.notes)
    checks: list[str] = []
    if plan.xsd and not fragment:
        findings.extend(validate_xsd(root, plan.xsd))
        checks.append(f"xsd:{plan.xsd}")
    for key in plan.rulesets:
        found = with_values(check(root, key), invoice, root)
        if plan.core_rules_only and key.startswith("facturx-"):
            found = [advisory_unless_core(f) for f in found]
        if key.startswith("br-fr-") and not plan.french_rules_block:
            found = [french_rule_advisory(f) for f in found]
        if key == "cen-cii":
            found = not_yet_reported(found, findings)
        findings.extend(found)
        checks.append(f"sch:{key}")
    return ValidationResult(
        file=filename,
        format=detection.format,
        profile=profile,
        valid=is_valid(findings),
        findings=findings,
        invoice=invoice,
        checks=checks,
    )


def not_yet_reported(cen: list[Finding], earlier: list[Finding]) -> list[Finding]:
    """The CEN CII findings that add something: its CII syntax rules (CII-SR, CII-DT)
    and any EN 16931 rule the Factur-X stylesheet did not already report. The same
    BR rule is not reported twice for one mistake."""
    reported = {f.rule for f in earlier}
    return [f for f in cen if not (f.rule.startswith("BR-") and f.rule in reported)]


def _read_invoice(root: etree._Element, syntax: str) -> tuple[NormalizedInvoice, str | None]:
    level = level_of(root, syntax)
    invoice = extract(root, syntax)
    if syntax == "CII":
        invoice.profile = profile_from_guideline(invoice.guideline_id, level)
    return invoice, level


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} Mo"
    if size >= 1024:
        return f"{size / 1024:.0f} Ko"
    return f"{size} octets"


# --- warm-up ------------------------------------------------------------------------

WARM_RULESETS = (
    "facturx-minimum",
    "facturx-basicwl",
    "facturx-basic",
    "facturx-en16931",
    "facturx-extended",
    "facturx-extended-ctc-fr",
    "ubl-en16931",
    "ubl-extended-ctc-fr",
    "cen-cii",
    "br-fr-cii",
    "br-fr-ubl",
)
WARM_SCHEMAS = (
    "facturx-minimum",
    "facturx-basicwl",
    "facturx-basic",
    "facturx-en16931",
    "facturx-extended",
    "facturx-extended-ctc-fr",
    "ubl-invoice",
    "ubl-creditnote",
)
_PRIMERS = {
    "CII": b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>',
    "UBL": b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
}


def warm_up(*, strict_fr: bool = False) -> None:
    """Load every schema, compile every stylesheet and run each once on an empty
    document (Saxon finishes preparing a stylesheet on its first run), so that the
    first deposits do not pay for it. Call at server start; safe to call again.
    ``strict_fr`` is accepted for older callers: the French rules always run now."""
    for key in WARM_SCHEMAS:
        get_schema(key)
    keys = list(WARM_RULESETS)
    primers = {syntax: etree.fromstring(text) for syntax, text in _PRIMERS.items()}
    for key in keys:
        compiled(key)
        check(primers["UBL" if key.startswith(("ubl-", "br-fr-ubl")) else "CII"], key)
