"""Reason codes (motifs) of the 2026 reform (XP Z12-012 v1.4) for a suspension, a refusal or a recycling.

Every code here is in the closed list of BR-FR-CDV-CL-09 (BR-FR-CDV-Schematron-CDAR.sch, in
../shared/specs/france-rfe). The same rule allows only some codes per status: REASONS_BY_STATUS
holds those lists for the statuses a person sets with a reason, and the lifecycle refuses any
other code, so that every lifecycle message we write passes the schematron.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "DOUBLON": "Facture en doublon (déjà reçue)",
    "DEST_INC": "Destinataire inconnu",
    "DEST_ERR": "Erreur de destinataire",
    "TRANSAC_INC": "Transaction inconnue",
    "EMMET_INC": "Émetteur inconnu",
    "CONTRAT_TERM": "Contrat terminé",
    "DOUBLE_FACT": "Double facturation",
    "CMD_ERR": "Numéro de commande (engagement) absent ou erroné",
    "ADR_ERR": "Adresse de facturation électronique erronée",
    "SIRET_ERR": "SIRET absent ou erroné",
    "CODE_ROUTAGE_ERR": "Code de routage (code service) absent ou erroné",
    "REF_CT_ABSENT": "Référence contractuelle absente",
    "REF_ERR": "Référence erronée",
    "PU_ERR": "Prix unitaire erroné",
    "REM_ERR": "Remise erronée",
    "QTE_ERR": "Quantité facturée erronée",
    "ART_ERR": "Article facturé erroné",
    "MODPAI_ERR": "Modalités de paiement erronées",
    "QUALITE_ERR": "Qualité de l'article livré non conforme",
    "LIVR_INCOMP": "Livraison incomplète ou non conforme",
    "TX_TVA_ERR": "Taux de TVA erroné",
    "MONTANTTOTAL_ERR": "Montant total erroné",
    "CALCUL_ERR": "Erreur de calcul dans la facture",
    "NON_CONFORME": "Facture non conforme (mention obligatoire absente)",
    "JUSTIF_ABS": "Pièce justificative absente ou insuffisante",
    "COORD_BANC_ERR": "Coordonnées bancaires erronées",
    "AUTRE": "Autre motif (voir le commentaire)",
    # Refusal reasons of public buyers (B2G), added to CL-09 in v1.4; labels written from the codes.
    "RETRAIT_MAN_SERV": "Retrait manuel par le service",
    "ST_CT_NON_DECLAR": "Sous-traitant ou cotraitant non déclaré",
    "SUPPR_COMP_AVOIR": "Facture compensée par un avoir",
    "TRANSF_PMNT_REGIE": "Transférée pour paiement par une régie",
    "ROUTAGE_ERR": "Erreur de routage",
}

# BR-FR-CDV-CL-09_MDT-113_208: the reasons of a suspension (208); a reason is mandatory (BR-FR-CDV-15).
SUSPENSION_REASONS = ("JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR")
# BR-FR-CDV-CL-09_MDT-113_210B2G: a refusal (210) sent by the B2G platform; mandatory (BR-FR-CDV-15).
# The rule's message also names CONTACT_ACHTR, but its test does not accept it: the test wins.
REFUSAL_REASONS = (
    "RETRAIT_MAN_SERV", "ST_CT_NON_DECLAR", "SUPPR_COMP_AVOIR", "TRANSF_PMNT_REGIE", "AUTRE", "COORD_BANC_ERR",
    "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON", "DEST_ERR", "TRANSAC_INC", "EMMET_INC",
    "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT", "LIVR_INCOMP",
)
# Recycling: the person says what is wrong in our words (optional); the lifecycle message of
# 221 Erreur de routage carries the only code CL-09_MDT-113_221 allows, ROUTAGE_ERR.
RECYCLING_REASONS = ("ROUTAGE_ERR", "DEST_ERR", "DEST_INC", "SIRET_ERR", "CODE_ROUTAGE_ERR", "CMD_ERR", "ADR_ERR", "AUTRE")
REASONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "SUSPENDUE": SUSPENSION_REASONS, "REJETEE": REFUSAL_REASONS, "A_RECYCLER": RECYCLING_REASONS,
    # A titulaire or mandataire refusing a subcontractor's invoice (no reform status, no lifecycle
    # message): the reasons of a buyer's refusal fit it as well.
    "REFUSEE_1": REFUSAL_REASONS, "REFUSEE_2": REFUSAL_REASONS,
}
# A works statement is never refused whole for its amounts (R.2192-34 CCP, since 19 February 2025):
# the MOE corrects them (partial acceptance). Its refusal takes the other reasons.
AMOUNT_REASONS = frozenset({"MONTANTTOTAL_ERR", "CALCUL_ERR", "PU_ERR", "QTE_ERR", "REM_ERR", "TX_TVA_ERR"})
REASONS_BY_STATUS["REFUSEE_MOE"] = tuple(r for r in REFUSAL_REASONS if r not in AMOUNT_REASONS)
# BR-FR-CDV-15: the reform codes whose message must carry a reason.
REASON_REQUIRED_CODES = frozenset({"206", "207", "208", "210", "213", "501"})


def reform_reason(status: str, reason_code: str) -> str:
    """The reason code a lifecycle message carries for a history row ("" for none)."""
    if status == "A_RECYCLER":
        return "ROUTAGE_ERR"
    allowed = REASONS_BY_STATUS.get(status)
    if allowed is None or not reason_code:
        return reason_code if allowed is None else ""
    # A row written before the lists were enforced: said as AUTRE when the status allows it.
    return reason_code if reason_code in allowed else ("AUTRE" if "AUTRE" in allowed else allowed[0])


def reasons_for(status: str) -> dict[str, str]:
    """The reasons a person may choose for this status, with their labels."""
    return {code: REASONS[code] for code in REASONS_BY_STATUS.get(status, ())}


def reason_label(code: str) -> str:
    return REASONS.get(code, code)


# A refused deposit (213 Rejetée, no invoice created): the reason BR-FR-CDV-CL-09_MDT-113_213 allows
# that says it best, from the fatal findings' rules, the most telling first.
_REFUSAL_BY_RULE: tuple[tuple[str, str], ...] = (
    ("FCT-PORTAL-10", "DOUBLON"),  # same number already deposited this year
    ("FCT-PORTAL-01", "DEST_INC"), ("FCT-PORTAL-02", "DEST_INC"), ("FCT-PORTAL-03", "DEST_INC"),
    ("FCT-PORTAL-11", "MONTANTTOTAL_ERR"),
    ("FCT-PORTAL-", "REJ_CONT_B2G"),  # service code, engagement, supplier SIRET, number length…: the B2G platform's controls
    ("BR-CO-", "CALCUL_ERR"),
)
DEPOSIT_REFUSAL_REASONS = ("MONTANTTOTAL_ERR", "CALCUL_ERR", "DOUBLON", "DEST_INC", "ADR_ERR", "REJ_SEMAN", "REJ_UNI",
                           "REJ_COH", "REJ_ADR", "REJ_CONT_B2G", "REJ_REF_PJ", "REJ_ASS_PJ")


# A file the platform cannot read as an invoice at all is not "rejected" (213) but "irrecevable"
# (501, BR-FR-CDV-CL-09_MDT-113_501), with the IRR_* reason that names what is wrong with the
# flow; XP Z12-013's flow service maps its errors the same way (EmptyFlow → IRR_VIDE_F,
# FlowTypeError → IRR_TYPE_F, InvalidSchema → IRR_SYNTAX, FileSizeExceeded → IRR_TAILLE_F).
DEPOSIT_UNREADABLE_CODE = "501"
_UNREADABLE_BY_RULE: dict[str, str] = {
    "FCT-DETECT-03": "IRR_VIDE_F",  # empty file
    "FCT-SIZE-01": "IRR_TAILLE_F",  # over the size limit
    "FCT-DETECT-01": "IRR_TYPE_F",  # a PDF without invoice XML
    "FCT-DETECT-02": "IRR_TYPE_F",  # an XML that is not an invoice
    "FCT-DETECT-04": "IRR_TYPE_F",  # an image
    "FCT-DETECT-05": "IRR_TYPE_F",  # an unknown format
    "FCT-DETECT-06": "IRR_TYPE_F",  # ZUGFeRD 1.0
    "FCT-DETECT-07": "IRR_TYPE_F",  # an Order-X order
    "FCT-IO-01": "IRR_SYNTAX", "FCT-PDF-01": "IRR_SYNTAX",  # unreadable, damaged PDF
    "FCT-XML-01": "IRR_SYNTAX", "FCT-XML-02": "IRR_SYNTAX",  # malformed XML, DTD or entities
    "FCT-XSD-01": "IRR_SYNTAX",  # not valid against its schema
}
DEPOSIT_UNREADABLE_REASONS = ("IRR_VIDE_F", "IRR_TYPE_F", "IRR_SYNTAX", "IRR_TAILLE_PJ", "IRR_NOM_PJ", "IRR_VID_PJ",
                              "IRR_EXT_DOC", "IRR_TAILLE_F", "IRR_ANTIVIRUS", "IRR_NOM_F")


def deposit_refusal(fatal_rules: list[str]) -> tuple[str, str]:
    """The reform status and reason of a refused file: 501 and its IRR_* reason when the file
    could not be read as an invoice, else 213 and the reason its rules say best."""
    for rule in fatal_rules:
        if rule in _UNREADABLE_BY_RULE:
            return DEPOSIT_UNREADABLE_CODE, _UNREADABLE_BY_RULE[rule]
    return "213", deposit_refusal_reason(fatal_rules)


def deposit_refusal_reason(fatal_rules: list[str]) -> str:
    """The 213 reason of a refused file; REJ_SEMAN (semantic rejection) for the other rules."""
    for prefix, reason in _REFUSAL_BY_RULE:
        if any(rule.startswith(prefix) for rule in fatal_rules):
            return reason
    return "REJ_SEMAN"
