"""Reason codes (motifs) of the 2026 reform (XP Z12-012) for a suspension or a rejection."""

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
}


def reason_label(code: str) -> str:
    return REASONS.get(code, code)
