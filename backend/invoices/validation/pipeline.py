"""The deposit validation pipeline: detect -> extract -> XSD -> business rules.

``validate_bytes`` never raises: every problem, including an internal error, comes
back as a finding. XSD errors do not stop the business rules, so the supplier sees
every problem at once. See POLICY.md for the rule sets chosen per document.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import msgspec
from lxml import etree

from .codes import finding
from .detect import Detection, detect
from .extract import extract
from .model import Finding, NormalizedInvoice, ValidationResult, is_valid
from .profiles import CTC_FR, EN16931_CORE, level_of, profile_from_guideline
from .schematron import check, compiled, ruleset_available
from .xsd import get_schema, validate_xsd

DEFAULT_MAX_SIZE = 20 * 1024 * 1024

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """Which XSD and rule sets apply to one document."""

    xsd: str | None
    rulesets: list[str] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    # True for a CII that does not declare Factur-X: only the EN 16931 business
    # rules (BR-*) of the Factur-X stylesheet block it, the rest is advisory.
    core_rules_only: bool = False


def plan_checks(
    syntax: str,
    level: str | None,
    profile: str | None,
    strict_fr: bool,
    *,
    in_pdf: bool = False,
    guideline: str | None = None,
) -> Plan:
    if syntax == "CII":
        plan = _cii_plan(level, profile)
        if profile == "en16931" and not in_pdf and (guideline or "").strip() == EN16931_CORE:
            # Alone, "urn:cen.eu:en16931:2017" is the plain EN 16931 identifier, not
            # a Factur-X claim (inside a Factur-X PDF it is): Factur-X-only rules
            # are advisory for such a CII file. See POLICY.md.
            plan.core_rules_only = True
        fr_key = "br-fr-cii"
    else:
        plan = _ubl_plan(syntax, level)
        fr_key = "br-fr-ubl"
    if strict_fr:
        _add_french_rules(plan, fr_key, profile)
    return plan


def _cii_plan(level: str | None, profile: str | None) -> Plan:
    if level == CTC_FR:
        return Plan("facturx-extended-ctc-fr", ["facturx-extended-ctc-fr"])
    if profile is not None:
        # The Factur-X profile schematron embeds the EN 16931 rules (BR-*) that
        # apply to the profile plus the Factur-X ones: one pass covers both.
        return Plan(f"facturx-{profile}", [f"facturx-{profile}"])
    # A CII that is not Factur-X (XRechnung, Peppol CII, ...): EN 16931 rules as
    # Factur-X publishes them for CII, structure checked with the EXTENDED schema,
    # the widest CII D16B schema factur-x bundles.
    return Plan("facturx-extended", ["facturx-en16931"], core_rules_only=True)


def _ubl_plan(syntax: str, level: str | None) -> Plan:
    xsd = "ubl-invoice" if syntax == "UBL-Invoice" else "ubl-creditnote"
    rules = "ubl-extended-ctc-fr" if level == CTC_FR else "ubl-en16931"
    return Plan(xsd, [rules])


def _add_french_rules(plan: Plan, key: str, profile: str | None) -> None:
    if profile == "minimum":
        # Same choice as factur-x's xml_check_schematron: BR-FR does not apply to MINIMUM.
        plan.notes.append(finding("FCT-FR-01", reason="profil MINIMUM"))
    elif ruleset_available(key):
        plan.rulesets.append(key)
    else:
        plan.notes.append(finding("FCT-FR-01", reason="jeu de règles absent de l'installation factur-x"))


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


def validate_rule_fragment(data: bytes, filename: str | None = None, *, strict_fr: bool = False) -> ValidationResult:
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


def _validate(data: bytes, filename: str | None, *, strict_fr: bool, max_size: int, fragment: bool) -> ValidationResult:
    if len(data) > max_size:
        return _refused(filename, [finding("FCT-SIZE-01", limit=_human_size(max_size))])
    detection = detect(data, filename)
    if detection.root is None:
        return _refused(filename, detection.findings)
    return _check_document(detection, filename, strict_fr=strict_fr, fragment=fragment)


def _check_document(detection: Detection, filename: str | None, *, strict_fr: bool, fragment: bool) -> ValidationResult:
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
    )
    findings.extend(plan.notes)
    checks: list[str] = []
    if plan.xsd and not fragment:
        findings.extend(validate_xsd(root, plan.xsd))
        checks.append(f"xsd:{plan.xsd}")
    for key in plan.rulesets:
        found = check(root, key)
        if plan.core_rules_only and key.startswith("facturx-"):
            found = [advisory_unless_core(f) for f in found]
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


_ADVISORY_PREFIX = (
    "Avertissement : règle propre à Factur-X, non bloquante pour un fichier CII qui ne "
    "se déclare pas Factur-X. "
)


# Factur-X states the EN 16931 code lists (BR-CL-*) as "Value of 'X' is not allowed"
# checks against its code database; they stay blocking, except the one on BT-24,
# which is the list of Factur-X profile identifiers.
_CODE_LIST_CHECK = re.compile(r"Value of '[^']+' is not allowed")


def is_core_rule(item: Finding) -> bool:
    """An EN 16931 rule: business rule (BR-..., not BR-FX/BR-FR) or code list."""
    if item.rule.startswith("BR-") and not item.rule.startswith(("BR-FX", "BR-FR")):
        return True
    on_guideline = "GuidelineSpecifiedDocumentContextParameter" in (item.location or "")
    return bool(_CODE_LIST_CHECK.search(item.message)) and not on_guideline


def advisory_unless_core(item: Finding) -> Finding:
    if item.severity != "fatal" or item.rule.startswith("FCT-") or is_core_rule(item):
        return item
    return msgspec.structs.replace(item, severity="warning", stage="profile", message=_ADVISORY_PREFIX + item.message)


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
    "ubl-en16931",
)
WARM_SCHEMAS = (
    "facturx-minimum",
    "facturx-basicwl",
    "facturx-basic",
    "facturx-en16931",
    "facturx-extended",
    "ubl-invoice",
    "ubl-creditnote",
)


def warm_up(*, strict_fr: bool = False) -> None:
    """Load every schema and compile every stylesheet now (server start), so that
    the first deposit does not pay for it. Safe to call more than once."""
    for key in WARM_SCHEMAS:
        get_schema(key)
    keys = list(WARM_RULESETS) + (["br-fr-cii", "br-fr-ubl"] if strict_fr else [])
    for key in keys:
        compiled(key)
