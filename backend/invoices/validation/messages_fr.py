"""French explanations for the most frequent official business rules.

The official schematron text is English (except BR-FR, already French). For the
rules a supplier meets most often, a short French explanation of what to fix is put
in front of it; the official text always follows, unchanged, so that the rule can be
looked up. Rules not in the table get a generic French prefix.
"""

from __future__ import annotations

import re

FR_RULES: dict[str, str] = {
    # Mandatory header data
    "BR-01": "L'identifiant de spécification (BT-24, profil) est absent.",
    "BR-02": "Le numéro de facture (BT-1) est absent.",
    "BR-03": "La date d'émission de la facture (BT-2) est absente.",
    "BR-04": "Le code de type de facture (BT-3 : 380 facture, 381 avoir…) est absent.",
    "BR-05": "La devise de la facture (BT-5, par exemple EUR) est absente.",
    "BR-06": "La raison sociale du vendeur (BT-27) est absente.",
    "BR-07": "Le nom de l'acheteur (BT-44) est absent.",
    "BR-08": "L'adresse postale du vendeur (BG-5) est absente.",
    "BR-09": "Le code pays de l'adresse du vendeur (BT-40) est absent.",
    "BR-10": "L'adresse postale de l'acheteur (BG-8) est absente.",
    "BR-11": "Le code pays de l'adresse de l'acheteur (BT-55) est absent.",
    "BR-12": "Le total des montants nets des lignes (BT-106) est absent.",
    "BR-13": "Le montant total hors TVA (BT-109) est absent.",
    "BR-14": "Le montant total TTC (BT-112) est absent.",
    "BR-15": "Le montant net à payer (BT-115) est absent.",
    "BR-16": "La facture ne contient aucune ligne (BG-25).",
    "BR-17": "Le nom du bénéficiaire du paiement (BT-59) est absent alors qu'il diffère du vendeur.",
    "BR-18": "Le nom du représentant fiscal du vendeur (BT-62) est absent.",
    "BR-19": "Le représentant fiscal du vendeur (BG-11) doit avoir une adresse postale (BG-12).",
    "BR-56": "Le représentant fiscal du vendeur (BG-11) doit avoir un numéro de TVA (BT-63).",
    # Lines
    "BR-21": "Une ligne de facture n'a pas d'identifiant (BT-126).",
    "BR-22": "Une ligne de facture n'a pas de quantité facturée (BT-129).",
    "BR-23": "Une ligne de facture n'a pas d'unité de mesure (BT-130).",
    "BR-24": "Une ligne de facture n'a pas de montant net (BT-131).",
    "BR-25": "Une ligne de facture n'a pas de désignation d'article (BT-153).",
    "BR-26": "Une ligne de facture n'a pas de prix unitaire net (BT-146).",
    "BR-27": "Le prix unitaire net d'un article (BT-146) ne doit pas être négatif.",
    "BR-28": "Le prix unitaire brut d'un article (BT-148) ne doit pas être négatif.",
    "BR-29": "La date de fin de la période de facturation est antérieure à sa date de début.",
    "BR-30": "La date de fin de la période d'une ligne est antérieure à sa date de début.",
    # Allowances and charges, VAT breakdown
    "BR-31": "Une remise au niveau du document n'a pas de montant (BT-92).",
    "BR-32": "Une remise au niveau du document n'a pas de code de catégorie de TVA (BT-95).",
    "BR-33": "Une remise au niveau du document n'a ni motif (BT-97) ni code motif (BT-98).",
    "BR-36": "Des frais au niveau du document n'ont pas de montant (BT-99).",
    "BR-37": "Des frais au niveau du document n'ont pas de code de catégorie de TVA (BT-102).",
    "BR-38": "Des frais au niveau du document n'ont ni motif (BT-104) ni code motif (BT-105).",
    "BR-41": "Une remise de ligne n'a pas de montant (BT-136).",
    "BR-42": "Une remise de ligne n'a ni motif (BT-139) ni code motif (BT-140).",
    "BR-45": "Une ventilation de TVA n'a pas de base imposable (BT-116).",
    "BR-46": "Une ventilation de TVA n'a pas de montant de TVA (BT-117).",
    "BR-47": "Une ventilation de TVA n'a pas de code de catégorie (BT-118).",
    "BR-48": "Une ventilation de TVA n'a pas de taux (BT-119).",
    "BR-49": "Une instruction de paiement n'indique pas le moyen de paiement (BT-81).",
    "BR-50": "Le virement est indiqué sans identifiant de compte (IBAN, BT-84).",
    "BR-52": "Un justificatif joint (BG-24) n'a pas de référence (BT-122).",
    "BR-53": "La devise de comptabilisation de la TVA (BT-6) est indiquée sans le total de TVA dans cette devise (BT-111).",
    "BR-55": "Une référence de facture antérieure (BG-3) n'a pas de numéro (BT-25).",
    "BR-57": "L'adresse de livraison (BG-15) n'a pas de code pays (BT-80).",
    "BR-61": "Le virement est indiqué sans identifiant de compte de paiement (IBAN, BT-84).",
    "BR-62": "L'adresse électronique du vendeur (BT-34) n'indique pas son schéma d'identification.",
    "BR-63": "L'adresse électronique de l'acheteur (BT-49) n'indique pas son schéma d'identification.",
    "BR-64": "L'identifiant standard d'un article (BT-157) n'indique pas son schéma.",
    "BR-65": "L'identifiant de classification d'un article (BT-158) n'indique pas son schéma.",
    # Calculations
    "BR-CO-03": "La date d'exigibilité de la TVA (BT-7) et son code (BT-8) ne peuvent pas être présents ensemble.",
    "BR-CO-04": "Une ligne de facture n'a pas de catégorie de TVA (BT-151).",
    "BR-CO-09": "Un numéro de TVA intracommunautaire doit commencer par le code pays (par exemple FR).",
    "BR-CO-10": "Le total des montants nets des lignes (BT-106) ne correspond pas à la somme des lignes (BT-131).",
    "BR-CO-11": "Le total des remises (BT-107) ne correspond pas à la somme des remises du document (BT-92).",
    "BR-CO-12": "Le total des frais (BT-108) ne correspond pas à la somme des frais du document (BT-99).",
    "BR-CO-13": "Le total hors TVA (BT-109) doit être égal au total des lignes, moins les remises, plus les frais.",
    "BR-CO-14": "Le total de la TVA (BT-110) ne correspond pas à la somme des montants de TVA par taux (BT-117).",
    "BR-CO-15": "Le total TTC (BT-112) doit être égal au total hors TVA (BT-109) plus la TVA (BT-110).",
    "BR-CO-16": "Le net à payer (BT-115) doit être égal au TTC (BT-112), moins les acomptes (BT-113), plus l'arrondi (BT-114).",
    "BR-CO-17": "Le montant de TVA d'une ventilation (BT-117) doit être égal à la base (BT-116) × taux (BT-119) / 100, arrondi au centime.",
    "BR-CO-18": "La facture doit contenir au moins une ventilation de TVA (BG-23).",
    "BR-CO-19": "La période de facturation (BG-14) doit avoir une date de début ou de fin.",
    "BR-CO-21": "Une remise au niveau du document doit avoir un motif (BT-97) ou un code motif (BT-98).",
    "BR-CO-22": "Des frais au niveau du document doivent avoir un motif (BT-104) ou un code motif (BT-105).",
    "BR-CO-25": "Le net à payer est positif : indiquez la date d'échéance (BT-9) ou les conditions de paiement (BT-20).",
    "BR-CO-26": "Le vendeur doit être identifiable : indiquez son identifiant (BT-29), son SIREN/SIRET (BT-30) ou son numéro de TVA (BT-31).",
    # VAT categories
    "BR-S-01": "Des lignes sont au taux normal (S) mais la ventilation de TVA ne contient pas de catégorie S.",
    "BR-S-02": "Des lignes sont au taux normal (S) : le numéro de TVA du vendeur est obligatoire.",
    "BR-S-05": "Une ligne au taux normal (S) doit avoir un taux de TVA supérieur à zéro.",
    "BR-S-08": "La base imposable au taux normal (BT-116) ne correspond pas à la somme des lignes, remises et frais de ce taux.",
    "BR-S-09": "Le montant de TVA au taux normal (BT-117) doit être égal à la base × taux, arrondi au centime.",
    "BR-S-10": "Une ventilation au taux normal (S) ne doit pas contenir de motif d'exonération.",
    "BR-E-01": "Des lignes sont exonérées (E) mais la ventilation de TVA ne contient pas de catégorie E.",
    "BR-E-08": "La base imposable exonérée (E) ne correspond pas à la somme des lignes, remises et frais exonérés.",
    "BR-E-10": "Une ventilation exonérée (E) doit indiquer le motif d'exonération (BT-120 ou BT-121).",
    "BR-AE-01": "Des lignes sont en autoliquidation (AE) : la ventilation de TVA doit contenir exactement une catégorie AE.",
    "BR-AE-05": "Une ligne en autoliquidation (AE) doit avoir un taux de TVA égal à 0.",
    "BR-AE-10": "Une ventilation en autoliquidation (AE) doit indiquer le motif « Autoliquidation » (BT-120 ou BT-121).",
    "BR-Z-01": "Des lignes sont au taux zéro (Z) : la ventilation de TVA doit contenir exactement une catégorie Z.",
    "BR-Z-08": "La base imposable au taux zéro (Z) ne correspond pas à la somme des lignes, remises et frais de ce taux.",
    "BR-IC-01": "Des lignes sont en livraison intracommunautaire (K) : la ventilation de TVA doit contenir exactement une catégorie K.",
    "BR-IC-11": "Livraison intracommunautaire : indiquez la date de livraison (BT-72) ou la période de facturation (BG-14).",
    "BR-IC-12": "Livraison intracommunautaire : indiquez le pays de livraison (BT-80).",
    "BR-O-08": "La base « non soumis à TVA » (O) ne correspond pas à la somme des lignes, remises et frais de cette catégorie.",
    "BR-O-09": "Le montant de TVA d'une ventilation « non soumis à TVA » (O) doit être 0.",
    "BR-O-10": "Une ventilation « non soumis à TVA » (O) doit indiquer le motif d'exonération (BT-120 ou BT-121).",
    # Code lists
    "BR-CL-01": "Le code de type de facture (BT-3) n'est pas un code autorisé (380 facture, 381 avoir…).",
    "BR-CL-03": "Un code devise (currencyID) n'est pas un code ISO 4217 valide.",
    "BR-CL-04": "La devise de la facture (BT-5) n'est pas un code ISO 4217 valide (par exemple EUR).",
    "BR-CL-10": "Le schéma d'un identifiant (schemeID) n'est pas dans la liste ISO 6523 (par exemple 0009 pour un SIRET, 0002 pour un SIREN).",
    "BR-CL-11": "Le schéma de l'identifiant légal (BT-30/BT-47) n'est pas dans la liste ISO 6523 (0002 pour un SIREN).",
    "BR-CL-13": "Le schéma de classification d'un article (BT-158) n'est pas un code autorisé.",
    "BR-CL-14": "Un code pays n'est pas un code ISO 3166-1 valide (par exemple FR).",
    "BR-CL-16": "Le code du moyen de paiement (BT-81) n'est pas un code autorisé (par exemple 30 ou 58 pour un virement).",
    "BR-CL-17": "Un code de catégorie de TVA n'est pas autorisé (S, Z, E, AE, K, G, O, L, M).",
    "BR-CL-18": "Un code de catégorie de TVA n'est pas autorisé (S, Z, E, AE, K, G, O, L, M).",
    "BR-CL-21": "Le schéma de l'identifiant standard d'un article (BT-157) n'est pas dans la liste ISO 6523.",
    "BR-CL-23": "Une unité de mesure (BT-130) n'est pas un code UN/ECE autorisé (par exemple C62 pour « unité »).",
    "BR-CL-25": "Le schéma d'une adresse électronique (BT-34/BT-49) n'est pas dans la liste EAS (par exemple 0009 pour un SIRET).",
    "BR-DEC-23": "Le montant net d'une ligne (BT-131) a plus de 2 décimales.",
}

# Generated Factur-X assertions (structure and code lists) follow a few sentence
# patterns: they are explained from the pattern.
_PATTERNS = (
    (
        re.compile(r"Value of '(?P<x>[^']+)' is not allowed"),
        "La valeur de « {x} » ne fait pas partie de la liste de codes autorisée.",
    ),
    (
        re.compile(r"Element '(?P<x>[^']+)' must occur exactly (?P<n>\d+) times"),
        "L'élément « {x} » doit être présent exactement {n} fois.",
    ),
    (
        re.compile(r"Element '(?P<x>[^']+)' may occur at maximum (?P<n>\d+) times"),
        "L'élément « {x} » ne peut être présent que {n} fois au maximum.",
    ),
    (
        re.compile(r"Element '(?P<x>[^']+)' must occur at least (?P<n>\d+) times"),
        "L'élément « {x} » doit être présent au moins {n} fois.",
    ),
)

_GENERIC = {
    "BR-DEC": "Un montant a plus de décimales que permis (2 au maximum).",
    "BR-FR": "",  # BR-FR texts are already French
    "BR-": "Règle métier EN 16931 non respectée.",
    "UBL-": "Règle de syntaxe UBL EN 16931 non respectée.",
    "CII-": "Règle de syntaxe CII EN 16931 non respectée.",
    "FX-": "Règle du profil Factur-X non respectée.",
    "PEPPOL-": "Règle EN 16931 non respectée.",
}


def french_message(rule: str, official: str) -> str:
    """French explanation followed by the official text."""
    official = official.strip()
    explanation = FR_RULES.get(rule) or _from_pattern(official)
    if explanation is None:
        explanation = next((text for prefix, text in _GENERIC.items() if rule.startswith(prefix)), None)
        if explanation is None:
            explanation = "Règle métier non respectée."
    if not explanation:
        return official
    return f"{explanation} Règle officielle {rule} : {official}" if official else explanation


def _from_pattern(official: str) -> str | None:
    for pattern, template in _PATTERNS:
        match = pattern.search(official)
        if match:
            return template.format(**match.groupdict())
    return None
