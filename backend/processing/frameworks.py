"""Billing frameworks (cadres de facturation) of Chorus Pro, as data: who deposits each piece,
which circuit it follows, and whether Facteur takes it yet.

A structured file names its framework in BT-23 (the business process: CII
BusinessProcessSpecifiedDocumentContextParameter, UBL ProfileID), as Chorus Pro reads it.
A file without one, or with a value that is not a Chorus Pro code (a Peppol profile, the
2026 reform's B1/S1/M1 process codes), is a supplier's invoice: A1. The reform codes that
name one of the frameworks below are read as it: B2/S2/M2 (invoice already paid) as A2,
S5 (subcontractor) as A9, S6 (co-contractor) as A12 — what Facteur itself writes for them.

A framework whose circuit Facteur does not run yet is refused at deposit with a sentence
that says where to send it, never processed as a simple invoice: a works statement routed
straight to the payer, without its MOE and MOA, would be a misrouted piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Circuits: the path a piece follows after its deposit.
SIMPLE = "simple"  # to the public recipient, then the processing lifecycle (A1, A2)
JUSTICE = "justice"  # mémoire de frais de justice (A3)
WORKS_MONTHLY = "works_monthly"  # projet de décompte mensuel → MOE → MOA → payer
WORKS_FINAL = "works_final"  # projet de décompte final → MOE → MOA → DGD
WORKS_TACIT = "works_tacit"  # procédure tacite, when the MOA stays silent
VALIDATION = "validation"  # sous-traitant / cotraitant: validated by the titulaire or mandataire first
TIC = "tic"  # remboursement de la TIC
PLATFORM = "platform"  # produced by the platform itself, never deposited


@dataclass(frozen=True)
class Framework:
    code: str
    label: str  # Chorus Pro's wording
    depositor: str  # who deposits it, as the person would say it
    circuit: str
    enabled: bool = False  # True once Facteur runs its circuit


FRAMEWORKS: dict[str, Framework] = {f.code: f for f in (
    Framework("A1", "Dépôt par un fournisseur d'une facture", "fournisseur", SIMPLE, enabled=True),
    Framework("A2", "Dépôt par un fournisseur d'une facture déjà payée", "fournisseur", SIMPLE, enabled=True),
    # A3: captured in Facteur (backend/justice: the decision, the mission, the one-year limit),
    # never as a plain file: portal rule FCT-PORTAL-JUS-01 says where to send it.
    Framework("A3", "Dépôt par un fournisseur d'un mémoire de frais de justice", "fournisseur", JUSTICE, enabled=True),
    Framework("A4", "Dépôt par un fournisseur d'un projet de décompte mensuel", "titulaire", WORKS_MONTHLY, enabled=True),
    Framework("A5", "Dépôt par un fournisseur d'un état d'acompte", "titulaire", WORKS_MONTHLY),
    Framework("A6", "Pièce de facturation de travaux transmise au service financier", "plateforme", PLATFORM),
    Framework("A7", "Dépôt par un fournisseur d'un projet de décompte final", "titulaire", WORKS_FINAL, enabled=True),
    Framework("A8", "Dépôt par un fournisseur d'un décompte général et définitif", "titulaire", WORKS_FINAL, enabled=True),
    Framework("A9", "Dépôt par un sous-traitant d'une facture", "sous-traitant", VALIDATION, enabled=True),
    Framework("A10", "Dépôt par un sous-traitant d'un projet de décompte mensuel", "sous-traitant", WORKS_MONTHLY, enabled=True),
    Framework("A12", "Dépôt par un cotraitant d'une facture", "cotraitant", VALIDATION, enabled=True),
    Framework("A13", "Dépôt par un cotraitant d'un projet de décompte mensuel", "cotraitant", WORKS_MONTHLY, enabled=True),
    # A14: validated by the mandataire first (as an A13), then the final circuit.
    Framework("A14", "Dépôt par un cotraitant d'un projet de décompte final", "cotraitant", WORKS_FINAL, enabled=True),
    Framework("A15", "Dépôt par une MOE d'un état d'acompte", "maître d'œuvre (MOE)", WORKS_MONTHLY, enabled=True),
    Framework("A16", "Dépôt par une MOE d'un état d'acompte validé", "maître d'œuvre (MOE)", WORKS_MONTHLY),
    Framework("A17", "Dépôt par une MOE d'un projet de décompte général", "maître d'œuvre (MOE)", WORKS_FINAL, enabled=True),
    Framework("A18", "Dépôt par une MOE d'un décompte général", "maître d'œuvre (MOE)", WORKS_FINAL),
    Framework("A19", "Dépôt par une MOA d'un état d'acompte validé", "maître d'ouvrage (MOA)", WORKS_MONTHLY, enabled=True),
    Framework("A20", "Dépôt par une MOA d'un décompte général", "maître d'ouvrage (MOA)", WORKS_FINAL, enabled=True),
    Framework("A21", "Dépôt par un bénéficiaire d'une demande de remboursement de la TIC", "bénéficiaire", TIC),
    Framework("A22", "Dépôt par un fournisseur ou mandataire d'un projet de décompte général dans le cadre d'une procédure tacite",
              "titulaire ou mandataire", WORKS_TACIT, enabled=True),
    Framework("A23", "Dépôt par un fournisseur ou mandataire d'un décompte général et définitif tacite",
              "titulaire ou mandataire", WORKS_TACIT, enabled=True),
    Framework("A24", "Dépôt par une MOE d'un décompte général et définitif tacite", "maître d'œuvre (MOE)", WORKS_TACIT),
    Framework("A25", "Dépôt par une MOA d'un décompte général et définitif dans le cadre d'une procédure tacite",
              "maître d'ouvrage (MOA)", WORKS_TACIT),
)}

DEFAULT = "A1"
_CHORUS_CODE = re.compile(r"A[0-9]{1,3}")
# The reform's cadre de facturation (BT-23, rule BR-FR-08) → the Chorus Pro framework it names.
# Other reform codes (B1/S1/M1, final invoice after a down payment B4/S4/M4…) stay A1.
REFORM_CODES: dict[str, str] = {"B2": "A2", "S2": "A2", "M2": "A2", "S5": "A9", "S6": "A12"}

# Why a known framework is not taken yet, by circuit, said to the person who deposits it.
_NOT_YET = {
    JUSTICE: "les mémoires de frais de justice",
    WORKS_MONTHLY: "les pièces de travaux (décomptes mensuels et états d'acompte, avec leur maître d'œuvre et leur maître d'ouvrage)",
    WORKS_FINAL: "les décomptes finaux et généraux des marchés de travaux",
    WORKS_TACIT: "la procédure tacite des marchés de travaux",
    VALIDATION: "cette pièce de sous-traitant ou de cotraitant",
    TIC: "les demandes de remboursement de la TIC",
    PLATFORM: "cette pièce, que la plateforme produit elle-même",
}


def code_of(business_process: str | None) -> str | None:
    """The Chorus Pro framework code a BT-23 value names: A1 when it names none, None when it
    looks like a Chorus Pro code that does not exist (A11, A26…)."""
    value = (business_process or "").strip().upper()
    if value in REFORM_CODES:
        return REFORM_CODES[value]
    if not _CHORUS_CODE.fullmatch(value):
        return DEFAULT
    return value if value in FRAMEWORKS else None


# Circuits whose pieces are entered in Facteur's pages or API, never deposited as a file.
ENTERED = frozenset({WORKS_MONTHLY, WORKS_FINAL, WORKS_TACIT})


def refusal(business_process: str | None) -> str | None:
    """Why a piece with this BT-23 cannot be deposited here, in French; None when it can."""
    code = code_of(business_process)
    if code is None:
        shown = (business_process or "").strip()[:10]
        return (f"Le cadre de facturation « {shown} » (BT-23) n'existe pas : les cadres de Chorus Pro vont de A1 à A25 "
                "(A1 pour une facture ordinaire). Corrigez-le dans votre logiciel, puis déposez de nouveau la facture.")
    framework = FRAMEWORKS[code]
    if framework.enabled and framework.circuit in ENTERED:
        return (f"Cette pièce porte le cadre de facturation {code} (« {framework.label} ») : elle se saisit dans l'espace "
                "Travaux de Facteur (ou par POST /api/v1/works/pieces), rattachée à son marché, pour aller à son maître "
                "d'œuvre puis à son maître d'ouvrage ; elle ne se dépose pas comme une facture. S'il s'agit d'une facture "
                "ordinaire, indiquez le cadre A1.")
    if framework.enabled:
        return None
    written = (business_process or "").strip().upper()
    shown, ordinary = (f"{written} (Chorus Pro : {code})", "S1, B1 ou M1") if written in REFORM_CODES else (code, "A1")
    return (f"Cette pièce porte le cadre de facturation {shown} (« {framework.label} ») : Facteur ne traite pas encore "
            f"{_NOT_YET[framework.circuit]}. Déposez-la sur Chorus Pro, ou, s'il s'agit d'une facture ordinaire, "
            f"indiquez le cadre {ordinary}.")


def label(code: str) -> str:
    framework = FRAMEWORKS.get(code)
    return f"{code} — {framework.label}" if framework else code


def needs_validator(code: str | None) -> bool:
    """A piece of this framework names the structure that validates it (titulaire or mandataire)."""
    framework = FRAMEWORKS.get(code or DEFAULT)
    return framework is not None and framework.circuit == VALIDATION


def offered() -> list[Framework]:
    """The frameworks a supplier may choose when capturing an invoice here (a mémoire de
    justice has its own capture, backend/justice)."""
    return [f for f in FRAMEWORKS.values() if f.enabled and f.circuit != JUSTICE and f.circuit not in ENTERED]


def is_memoire(code: str | None) -> bool:
    """A mémoire de frais de justice (A3): sent to a juridiction, circuit JUSTICE."""
    framework = FRAMEWORKS.get(code or DEFAULT)
    return framework is not None and framework.circuit == JUSTICE
