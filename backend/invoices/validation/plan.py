"""Which XSD and rule sets apply to a document, and which findings block it.

The choices are explained in POLICY.md (section 3); this module is their code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec

from .codes import finding
from .model import Finding
from .profiles import CTC_FR, EN16931_CORE
from .schematron import ruleset_available


@dataclass
class Plan:
    """Which XSD and rule sets apply to one document."""

    xsd: str | None
    rulesets: list[str] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    # True for a CII that does not declare Factur-X: only the EN 16931 rules of the
    # Factur-X stylesheet (BR-* and code lists) block it, the rest is advisory.
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
    return bool(_CODE_LIST_CHECK.search(item.official or item.message)) and not on_guideline


def advisory_unless_core(item: Finding) -> Finding:
    if item.severity != "fatal" or item.rule.startswith("FCT-") or is_core_rule(item):
        return item
    return msgspec.structs.replace(
        item, severity="warning", stage="profile", message=_ADVISORY_PREFIX + item.message
    )
