"""The project's own finding codes (prefix ``FCT-``), in one table.

Official EN 16931 / Factur-X / BR-FR rule IDs are never renamed; these codes cover
what the official rule sets cannot say: the file is not an invoice we accept, it is
hostile, it is unreadable, a check could not run. Messages are French, addressed to
a supplier who must be able to fix the file without help.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .messages_fr import FIELD_LABELS
from .model import Finding, Severity, Stage


class Code(NamedTuple):
    severity: Severity
    stage: Stage
    message: str


CODES: dict[str, Code] = {
    # --- detection (stage 1) -------------------------------------------------------
    "FCT-SIZE-01": Code(
        "fatal",
        "detect",
        "Le fichier dépasse la taille maximale acceptée ({limit}). "
        "Déposez une facture plus légère (le PDF ne doit contenir que la facture).",
    ),
    "FCT-DETECT-01": Code(
        "fatal",
        "detect",
        "Ce PDF ne contient pas de facture électronique (aucun XML Factur-X embarqué). "
        "Un simple PDF n'est pas accepté : générez une facture Factur-X (profil EN 16931 "
        "de préférence) depuis votre logiciel, ou déposez le XML CII ou UBL.",
    ),
    "FCT-DETECT-02": Code(
        "fatal",
        "detect",
        "Ce fichier XML n'est pas une facture au format accepté (élément racine "
        "« {root} »). Formats acceptés : Factur-X (PDF), CII D16B "
        "(CrossIndustryInvoice) ou UBL 2.1 (Invoice ou CreditNote).",
    ),
    "FCT-DETECT-03": Code(
        "fatal",
        "detect",
        "Le fichier est vide. Vérifiez que le bon fichier a été sélectionné.",
    ),
    "FCT-DETECT-04": Code(
        "fatal",
        "detect",
        "Ce fichier est une image ({kind}), pas une facture électronique. Déposez la "
        "facture Factur-X (PDF) ou le XML CII ou UBL produit par votre logiciel.",
    ),
    "FCT-DETECT-05": Code(
        "fatal",
        "detect",
        "Format de fichier non reconnu. Formats acceptés : Factur-X (PDF avec XML "
        "embarqué), CII D16B ou UBL 2.1 (XML).",
    ),
    "FCT-DETECT-06": Code(
        "fatal",
        "detect",
        "Cette facture est au format ZUGFeRD 1.0, qui n'est plus accepté. "
        "Envoyez une facture Factur-X (ZUGFeRD 2 ou plus récent), profil EN 16931.",
    ),
    "FCT-DETECT-07": Code(
        "fatal",
        "detect",
        "Ce document est une commande Order-X, pas une facture. Déposez la facture "
        "correspondante (Factur-X, CII ou UBL).",
    ),
    "FCT-DETECT-08": Code(
        "warning",
        "detect",
        "L'extension du fichier (« {ext} ») ne correspond pas à son contenu "
        "({content}). Le fichier a été traité d'après son contenu ; renommez-le "
        "pour éviter toute confusion.",
    ),
    "FCT-IO-01": Code(
        "fatal",
        "detect",
        "Le fichier ne peut pas être lu ({reason}).",
    ),
    "FCT-PDF-01": Code(
        "fatal",
        "detect",
        "Le PDF est illisible (fichier endommagé, tronqué ou protégé). Générez à "
        "nouveau la facture depuis votre logiciel et redéposez-la.",
    ),
    "FCT-PDF-02": Code(
        "fatal",
        "detect",
        "Le PDF contient une pièce jointe XML ({name}) qui n'est pas une facture "
        "Factur-X exploitable : {reason}",
    ),
    # --- hostile or malformed XML (stage 1) -----------------------------------------
    "FCT-XML-01": Code(
        "fatal",
        "detect",
        "Le fichier XML est mal formé et ne peut pas être lu ({detail}). Vérifiez "
        "que le fichier est complet et produit par un logiciel de facturation.",
    ),
    "FCT-XML-02": Code(
        "fatal",
        "detect",
        "Le fichier XML contient une déclaration DOCTYPE/DTD ou des entités, "
        "interdites pour des raisons de sécurité. Une facture électronique n'en "
        "contient jamais : générez à nouveau le fichier.",
    ),
    # --- XSD (stage 3) ---------------------------------------------------------------
    "FCT-XSD-01": Code(
        "fatal",
        "xsd",
        "Structure XML non conforme au schéma {schema} : {detail}",
    ),
    # --- profile (stage 4) -----------------------------------------------------------
    "FCT-PROFILE-02": Code(
        "warning",
        "profile",
        "L'identifiant de profil (BT-24) « {guideline} » n'est pas un profil Factur-X "
        "connu : la facture a été contrôlée avec les seules règles EN 16931.",
    ),
    "FCT-PROFILE-03": Code(
        "warning",
        "profile",
        "Élément non prévu par le profil Factur-X déclaré ({about}) : il sera ignoré.",
    ),
    # --- rule engine ----------------------------------------------------------------
    "FCT-SCH-01": Code(
        "fatal",
        "en16931",
        "Le contrôle des règles métier ({ruleset}) n'a pas pu être exécuté : {detail}. "
        "Réessayez ; si le problème persiste, contactez le support.",
    ),
    "FCT-SCH-02": Code(
        "fatal",
        "en16931",
        "Règle métier non respectée (règle sans identifiant officiel) sur {about} : voir le détail.",
    ),
    "FCT-FR-01": Code(
        "warning",
        "en16931",
        "Les règles françaises BR-FR « Flux 2 » ne sont pas disponibles pour ce "
        "document ({reason}) : elles n'ont pas été vérifiées.",
    ),
    "FCT-INTERNAL-01": Code(
        "fatal",
        "detect",
        "Erreur interne lors de l'analyse du fichier ({detail}). Le fichier n'a pas "
        "pu être contrôlé ; réessayez ou contactez le support.",
    ),
    # --- portal (stage 5 helper) -----------------------------------------------------
    "FCT-PROFILE-01": Code(
        "fatal",
        "portal",
        "Le profil Factur-X {profile_label} ne contient pas toutes les données d'une "
        "facture (pas de lignes ni de détail de TVA exploitable) : il n'est pas "
        "accepté par les entités publiques. Envoyez une facture Factur-X au profil "
        "EN 16931 (ou BASIC, ou EXTENDED).",
    ),
}


_TERM = re.compile(r"\b(B[TG]-[0-9]+)\b")


def finding(code: str, location: str | None = None, **values: object) -> Finding:
    """Build a Finding for one of the project's codes, filling the message template."""
    entry = CODES[code]
    term = _TERM.search(location or "")
    return Finding(
        rule=code,
        severity=entry.severity,
        stage=entry.stage,
        message=entry.message.format(**values) if values else entry.message,
        location=location,
        term=term.group(1) if term else None,
        field=FIELD_LABELS.get(term.group(1)) if term else None,
    )


PROFILE_LABELS = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931",
    "extended": "EXTENDED",
}

INCOMPLETE_PROFILES = frozenset({"minimum", "basicwl"})


def incomplete_profile_finding(profile: str | None) -> Finding | None:
    """Portal refusal for MINIMUM and BASIC WL Factur-X; None for complete profiles.

    The validation pipeline reports these profiles as valid Factur-X (they are); the
    portal stage calls this helper because a public entity needs a complete invoice.
    """
    if profile not in INCOMPLETE_PROFILES:
        return None
    return finding(
        "FCT-PROFILE-01",
        location="/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext"
        "/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID (BT-24)",
        profile_label=PROFILE_LABELS[profile],
    )
