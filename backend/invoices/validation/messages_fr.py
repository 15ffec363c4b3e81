"""French explanations for the official business rules, and the names of the fields.

The official schematron text is English (except BR-FR, already French). A finding's
message is French: for the frequent rules a short explanation of what to fix (the
arithmetic and mandatory-field rules get the values of the file on top, see
values.py); the official text is kept apart, unchanged, in the finding's `official`
so that the rule can be looked up. Rules not in the table get a generic French
sentence naming the field concerned.

Fields are named as a person knows them ("total TTC"); their EN 16931 term
("BT-112") goes in the finding's `term`, shown in small print, not in the sentence.
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
    # CEN CII syntax rules (vendored CEN stylesheet) that producers commonly break
    "CII-DT-031": (
        "Un montant porte un attribut de devise (currencyID) : en CII EN 16931, seul le "
        "total de TVA (BT-110, BT-111) l'indique ; retirez-le des autres montants."
    ),
    "CII-DT-097": "Une date au format 102 doit s'écrire AAAAMMJJ (par exemple 20260131).",
    "CII-DT-037": "Le type de taxe (TypeCode) doit être « VAT ».",
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
        # CEN CII syntax rules: "[CII-DT-013] - languageID should not be present"
        re.compile(r"^@?(?P<element>[A-Za-z]+) (?:should not be present|shall not be used)"),
        "L'élément ou l'attribut « {element} » n'est pas prévu par EN 16931 à cet endroit : retirez-le.",
    ),
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


# BR-FR texts are French but written for developers: "BR-FR-01/BT-1 : L'identifiant
# de facture (ram:ID) ne doit pas…". The supplier gets the sentence without the rule
# prefix and the XML element names, plus, for the rules a supplier meets first, what
# the reform asks for (from the FNFE explanatory note 1.4.0).
_BR_FR_PREFIX = re.compile(r"^\s*\[?BR-FR-[A-Z0-9-]+(?:/[^:\]]*)?\]?\s*:\s*")
_XML_NAMES = re.compile(r"\s*\((?:BT-[0-9]+(?:-[0-9]+)?\s*[:,]\s*)?(?:ram|udt|qdt|rsm|cbc|cac):[A-Za-z]+\)")
_MARKDOWN = re.compile(r"\*\*")
BR_FR_HINTS: dict[str, str] = {
    "BR-FR-05": "Ajoutez à la facture une note portant ce code sujet et la mention légale correspondante.",
    "BR-FR-08": (
        "Le cadre de facturation de la réforme (B1 bien, S1 service, M1 mixte…) est "
        "distinct du cadre Chorus Pro (A1, A2…) : un fichier pour Chorus Pro peut l'omettre."
    ),
    "BR-FR-10": "Indiquez le SIREN du vendeur (9 chiffres) avec le schéma 0002.",
    "BR-FR-12": "Indiquez l'adresse électronique de facturation de l'acheteur (BT-49).",
    "BR-FR-13": "Indiquez votre adresse électronique de facturation (BT-34).",
}


def french_rule_message(rule: str, official: str) -> str:
    """A BR-FR finding said plainly: the official French sentence without its prefix
    and XML names, followed by what the reform asks for when we know it."""
    text = _MARKDOWN.sub("", _XML_NAMES.sub("", _BR_FR_PREFIX.sub("", official.strip())))
    text = text[:1].upper() + text[1:]
    family = re.match(r"BR-FR-[0-9]+", rule)
    hint = BR_FR_HINTS.get(family.group(0)) if family else None
    return f"{text} {hint}" if hint else text


def french_message(rule: str, official: str, field: str | None = None) -> str:
    """The French sentence of a finding (without the official text, kept apart)."""
    official = official.strip()
    if rule.startswith("BR-FR"):
        return french_rule_message(rule, official)
    explanation = FR_RULES.get(rule) or _from_pattern(official, field)
    if explanation is None:
        explanation = next((text for prefix, text in _GENERIC.items() if rule.startswith(prefix)), None)
        if explanation is None:
            explanation = "Règle métier non respectée."
        if explanation and field:
            explanation = f"{explanation[:-1]} : vérifiez le champ « {field} »."
    if not explanation:
        return official  # BR-FR: the official text is French already
    return without_terms(explanation)


_TERM_LIST = re.compile(r"\s*\((?:B[TG]-\d+)(?:\s*(?:,|/|ou|et)\s*B[TG]-\d+)*\)")
_TERM_PREFIX = re.compile(r"\((?:B[TG]-\d+)\s*:\s*")


def without_terms(text: str) -> str:
    """The sentence without its "(BT-112)" references: the term is shown apart, in small print."""
    return _TERM_PREFIX.sub("(", _TERM_LIST.sub("", text))


def _from_pattern(official: str, field: str | None = None) -> str | None:
    for pattern, template in _PATTERNS:
        match = pattern.search(official)
        if match:
            values = {k: field_of_element(v) for k, v in match.groupdict().items()}
            if field and "x" in values:
                values["x"] = field
            return template.format(**values)
    return None


def field_of_element(name: str) -> str:
    """'ram:GrandTotalAmount' -> 'total TTC' when the element is known, else the name as written."""
    term = ELEMENT_TERMS.get(name.split(":")[-1])
    return FIELD_LABELS[term] if term else name


# --- the fields as a person knows them ---------------------------------------------------

FIELD_LABELS: dict[str, str] = {
    "BT-1": "numéro de facture",
    "BT-2": "date de facture",
    "BT-3": "type de document (facture, avoir)",
    "BT-5": "devise",
    "BT-6": "devise de comptabilisation de la TVA",
    "BT-7": "date d'exigibilité de la TVA",
    "BT-8": "code d'exigibilité de la TVA",
    "BT-9": "date d'échéance",
    "BT-10": "code service (référence acheteur)",
    "BT-11": "référence du projet",
    "BT-12": "référence du contrat",
    "BT-13": "numéro d'engagement (bon de commande)",
    "BT-20": "conditions de paiement",
    "BT-21": "objet de la note",
    "BT-22": "note",
    "BT-23": "cadre de facturation",
    "BT-24": "profil (identifiant de spécification)",
    "BT-25": "numéro de la facture d'origine",
    "BT-26": "date de la facture d'origine",
    "BT-27": "raison sociale du vendeur",
    "BT-28": "nom commercial du vendeur",
    "BT-29": "identifiant du vendeur",
    "BT-30": "SIREN ou SIRET du vendeur",
    "BT-31": "numéro de TVA du vendeur",
    "BT-32": "identifiant fiscal du vendeur",
    "BT-34": "adresse électronique du vendeur",
    "BT-35": "adresse du vendeur",
    "BT-37": "ville du vendeur",
    "BT-38": "code postal du vendeur",
    "BT-40": "pays du vendeur",
    "BT-44": "nom de l'acheteur",
    "BT-46": "identifiant de l'acheteur",
    "BT-47": "SIRET de l'acheteur",
    "BT-48": "numéro de TVA de l'acheteur",
    "BT-49": "adresse électronique de l'acheteur",
    "BT-50": "adresse de l'acheteur",
    "BT-52": "ville de l'acheteur",
    "BT-53": "code postal de l'acheteur",
    "BT-55": "pays de l'acheteur",
    "BT-59": "nom du bénéficiaire du paiement",
    "BT-62": "nom du représentant fiscal",
    "BT-63": "numéro de TVA du représentant fiscal",
    "BT-72": "date de livraison",
    "BT-73": "début de la période de facturation",
    "BT-74": "fin de la période de facturation",
    "BT-80": "pays de livraison",
    "BT-81": "moyen de paiement",
    "BT-83": "référence du paiement",
    "BT-84": "IBAN",
    "BT-86": "BIC",
    "BT-92": "montant de la remise",
    "BT-95": "catégorie de TVA de la remise",
    "BT-96": "taux de TVA de la remise",
    "BT-97": "motif de la remise",
    "BT-98": "code motif de la remise",
    "BT-99": "montant des frais",
    "BT-102": "catégorie de TVA des frais",
    "BT-103": "taux de TVA des frais",
    "BT-104": "motif des frais",
    "BT-105": "code motif des frais",
    "BT-106": "total des lignes HT",
    "BT-107": "total des remises",
    "BT-108": "total des frais",
    "BT-109": "total HT",
    "BT-110": "total de la TVA",
    "BT-111": "total de la TVA en devise de comptabilisation",
    "BT-112": "total TTC",
    "BT-113": "acomptes déjà versés",
    "BT-114": "arrondi",
    "BT-115": "net à payer",
    "BT-116": "base imposable",
    "BT-117": "montant de TVA",
    "BT-118": "catégorie de TVA",
    "BT-119": "taux de TVA",
    "BT-120": "motif d'exonération",
    "BT-121": "code motif d'exonération",
    "BT-122": "référence du justificatif",
    "BT-126": "numéro de ligne",
    "BT-129": "quantité facturée",
    "BT-130": "unité de mesure",
    "BT-131": "montant net de la ligne",
    "BT-136": "montant de la remise de ligne",
    "BT-146": "prix unitaire net",
    "BT-148": "prix unitaire brut",
    "BT-151": "catégorie de TVA de la ligne",
    "BT-152": "taux de TVA de la ligne",
    "BT-153": "désignation de l'article",
    "BT-154": "description de l'article",
    "BT-157": "identifiant de l'article",
    "BT-158": "classification de l'article",
    "BG-1": "note",
    "BG-3": "facture d'origine",
    "BG-4": "vendeur",
    "BG-5": "adresse du vendeur",
    "BG-7": "acheteur",
    "BG-8": "adresse de l'acheteur",
    "BG-10": "bénéficiaire du paiement",
    "BG-11": "représentant fiscal du vendeur",
    "BG-12": "adresse du représentant fiscal",
    "BG-13": "livraison",
    "BG-14": "période de facturation",
    "BG-15": "adresse de livraison",
    "BG-16": "instructions de paiement",
    "BG-17": "virement",
    "BG-20": "remise sur le document",
    "BG-21": "frais sur le document",
    "BG-22": "totaux de la facture",
    "BG-23": "ventilation de la TVA",
    "BG-24": "justificatif",
    "BG-25": "ligne de facture",
    "BG-26": "période de la ligne",
    "BG-27": "remise de ligne",
    "BG-28": "frais de ligne",
    "BG-29": "prix",
    "BG-30": "TVA de la ligne",
    "BG-31": "article",
}

# The last elements of a location (indexes removed) and the term they carry, most
# specific first: used when the official text names no BT/BG term.
_PATH_TERMS: tuple[tuple[str, str], ...] = (
    ("ExchangedDocument/ID", "BT-1"),
    ("ExchangedDocument/IssueDateTime", "BT-2"),
    ("ExchangedDocument/TypeCode", "BT-3"),
    ("SellerTradeParty/Name", "BT-27"),
    ("BuyerTradeParty/Name", "BT-44"),
    ("SellerTradeParty/SpecifiedTaxRegistration", "BT-31"),
    ("BuyerTradeParty/SpecifiedTaxRegistration", "BT-48"),
    ("SellerTradeParty/SpecifiedLegalOrganization", "BT-30"),
    ("BuyerTradeParty/SpecifiedLegalOrganization", "BT-47"),
    ("SellerTradeParty/PostalTradeAddress", "BG-5"),
    ("BuyerTradeParty/PostalTradeAddress", "BG-8"),
    ("SellerTradeParty/URIUniversalCommunication", "BT-34"),
    ("BuyerTradeParty/URIUniversalCommunication", "BT-49"),
    ("SellerTradeParty", "BG-4"),
    ("BuyerTradeParty", "BG-7"),
    ("SpecifiedTradeSettlementHeaderMonetarySummation/LineTotalAmount", "BT-106"),
    ("SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount", "BT-131"),
    ("ApplicableHeaderTradeSettlement/ApplicableTradeTax", "BG-23"),
    ("ApplicableHeaderTradeSettlement/SpecifiedTradeAllowanceCharge", "BG-20"),
    ("IncludedSupplyChainTradeLineItem", "BG-25"),
    ("AccountingSupplierParty/Party/PartyLegalEntity/RegistrationName", "BT-27"),
    ("AccountingCustomerParty/Party/PartyLegalEntity/RegistrationName", "BT-44"),
    ("AccountingSupplierParty/Party", "BG-4"),
    ("AccountingCustomerParty/Party", "BG-7"),
    ("AccountingSupplierParty", "BG-4"),
    ("AccountingCustomerParty", "BG-7"),
    ("LegalMonetaryTotal/LineExtensionAmount", "BT-106"),
    ("InvoiceLine/LineExtensionAmount", "BT-131"),
    ("CreditNoteLine/LineExtensionAmount", "BT-131"),
    ("TaxTotal/TaxSubtotal", "BG-23"),
    ("InvoiceLine", "BG-25"),
    ("CreditNoteLine", "BG-25"),
)

# Element names that mean one term wherever they are.
ELEMENT_TERMS: dict[str, str] = {
    "InvoiceCurrencyCode": "BT-5",
    "DocumentCurrencyCode": "BT-5",
    "TaxCurrencyCode": "BT-6",
    "BuyerReference": "BT-10",
    "GuidelineSpecifiedDocumentContextParameter": "BT-24",
    "CustomizationID": "BT-24",
    "BusinessProcessSpecifiedDocumentContextParameter": "BT-23",
    "ProfileID": "BT-23",
    "IssueDate": "BT-2",
    "IssueDateTime": "BT-2",
    "InvoiceTypeCode": "BT-3",
    "CreditNoteTypeCode": "BT-3",
    "DueDateDateTime": "BT-9",
    "DueDate": "BT-9",
    "BuyerOrderReferencedDocument": "BT-13",
    "OrderReference": "BT-13",
    "TaxBasisTotalAmount": "BT-109",
    "TaxExclusiveAmount": "BT-109",
    "TaxTotalAmount": "BT-110",
    "GrandTotalAmount": "BT-112",
    "TaxInclusiveAmount": "BT-112",
    "TotalPrepaidAmount": "BT-113",
    "PrepaidAmount": "BT-113",
    "RoundingAmount": "BT-114",
    "PayableRoundingAmount": "BT-114",
    "DuePayableAmount": "BT-115",
    "PayableAmount": "BT-115",
    "AllowanceTotalAmount": "BT-107",
    "ChargeTotalAmount": "BT-108",
    "BasisAmount": "BT-116",
    "TaxableAmount": "BT-116",
    "CalculatedAmount": "BT-117",
    "ExemptionReason": "BT-120",
    "TaxExemptionReason": "BT-120",
    "ExemptionReasonCode": "BT-121",
    "TaxExemptionReasonCode": "BT-121",
    "BilledQuantity": "BT-129",
    "InvoicedQuantity": "BT-129",
    "CreditedQuantity": "BT-129",
    "NetPriceProductTradePrice": "BT-146",
    "GrossPriceProductTradePrice": "BT-148",
    "SpecifiedTradeProduct": "BG-31",
    "IBANID": "BT-84",
    "BICID": "BT-86",
    "SpecifiedTradeSettlementPaymentMeans": "BG-16",
    "PaymentMeans": "BG-16",
    "PaymentMeansCode": "BT-81",
    "SpecifiedTradePaymentTerms": "BT-20",
    "PaymentTerms": "BT-20",
    "IncludedNote": "BG-1",
    "BillingSpecifiedPeriod": "BG-14",
    "InvoicePeriod": "BG-14",
    "ShipToTradeParty": "BG-13",
    "Delivery": "BG-13",
    "InvoiceReferencedDocument": "BG-3",
    "BillingReference": "BG-3",
    "AdditionalReferencedDocument": "BG-24",
    "AdditionalDocumentReference": "BG-24",
    "CategoryCode": "BT-118",
    "RateApplicablePercent": "BT-119",
}

_INDEX = re.compile(r"\[\d+\]")


def term_of_location(path: str | None) -> str | None:
    """The BT/BG a location points at, from its last elements (None when unknown)."""
    if not path:
        return None
    steps = _INDEX.sub("", path.split(" (")[0]).strip("/")
    for suffix, term in _PATH_TERMS:
        if steps == suffix or steps.endswith("/" + suffix):
            return term
    for step in reversed(steps.split("/")[-2:]):
        if step in ELEMENT_TERMS:
            return ELEMENT_TERMS[step]
    return None
