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
    # The French BR-FR "Flux 2" rules run on every deposit; they block only in the
    # strict mode (the supplier's choice), otherwise they are warnings.
    french_rules_block: bool = False


def plan_checks(
    syntax: str,
    level: str | None,
    profile: str | None,
    strict_fr: bool,
    *,
    in_pdf: bool = False,
    guideline: str | None = None,
    french_rules: bool = True,
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
    if french_rules or strict_fr:
        _add_french_rules(plan, fr_key, profile, strict_fr)
    return plan


# Profiles that are complete EN 16931 invoices: the official CEN CII rules apply to
# them as they are. MINIMUM and BASIC WL are not EN 16931 invoices, EXTENDED relaxes
# some rules (its own schematron says which), EXTENDED-CTC-FR has its own stylesheet.
CEN_CII_PROFILES = frozenset({"basic", "en16931", None})


def _cii_plan(level: str | None, profile: str | None) -> Plan:
    if level == CTC_FR:
        return Plan("facturx-extended-ctc-fr", ["facturx-extended-ctc-fr"])
    if profile is not None:
        # The Factur-X profile schematron embeds the EN 16931 rules (BR-*) that
        # apply to the profile plus the Factur-X ones: one pass covers both. The
        # CEN CII stylesheet adds the CII syntax rules (CII-SR-*, CII-DT-*) that
        # the official validator applies and the Factur-X one lacks.
        plan = Plan(f"facturx-{profile}", [f"facturx-{profile}"])
    else:
        # A CII that is not Factur-X (XRechnung, Peppol CII, ...): EN 16931 rules as
        # Factur-X publishes them for CII, structure checked with the EXTENDED schema,
        # the widest CII D16B schema factur-x bundles.
        plan = Plan("facturx-extended", ["facturx-en16931"], core_rules_only=True)
    if profile in CEN_CII_PROFILES and ruleset_available("cen-cii"):
        plan.rulesets.append("cen-cii")
    return plan


def _ubl_plan(syntax: str, level: str | None) -> Plan:
    xsd = "ubl-invoice" if syntax == "UBL-Invoice" else "ubl-creditnote"
    rules = "ubl-extended-ctc-fr" if level == CTC_FR else "ubl-en16931"
    return Plan(xsd, [rules])


def _add_french_rules(plan: Plan, key: str, profile: str | None, strict_fr: bool) -> None:
    plan.french_rules_block = strict_fr
    if profile == "minimum":
        # Same choice as factur-x's xml_check_schematron: BR-FR does not apply to
        # MINIMUM. Said only when the supplier asked for the French rules.
        if strict_fr:
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


_FRENCH_ADVISORY_PREFIX = (
    "Avertissement, règle française de la réforme (bloquante seulement en contrôle "
    "strict des règles françaises) : "
)


def french_rule_advisory(item: Finding) -> Finding:
    """A BR-FR finding outside the strict mode: reported, never blocking. An engine
    failure of the French rules does not block either (the EN 16931 verdict stands)."""
    if item.severity != "fatal":
        return item
    return msgspec.structs.replace(item, severity="warning", message=_FRENCH_ADVISORY_PREFIX + item.message)


def advisory_unless_core(item: Finding) -> Finding:
    if item.severity != "fatal" or item.rule.startswith("FCT-") or is_core_rule(item):
        return item
    return msgspec.structs.replace(
        item, severity="warning", stage="profile", message=_ADVISORY_PREFIX + item.message
    )
