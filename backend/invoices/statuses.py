"""Invoice statuses (Chorus Pro names) with their 2026 reform codes (XP Z12-012) and French labels."""

from __future__ import annotations

from typing import NamedTuple


class Status(NamedTuple):
    code_2026: str  # the reform's lifecycle code (XP Z12-012 v1.4); "" when the Chorus step has none
    label: str  # the Chorus Pro name, shown in the pages


# Where each code and label comes from (../shared/specs/france-rfe, see the README's "Cycle de vie"):
#   [CL-06]  BR-FR-CDV-Schematron-CDAR.sch, BR-FR-CDV-CL-06: the list of lifecycle codes (no labels);
#   [CL-09]  same file, BR-FR-CDV-CL-09: the reasons per status, naming the status ("SUSPENDUE (208)"…);
#   [CDV-14] same file, BR-FR-CDV-14: "Encaissé" (212) and its MEN amounts;
#   [B]      XP Z12-012 annex B v1.4 (examples), §2.2.1: the nominal cycle UC1 Déposée 200, Reçue 202,
#            Mise à disposition 203, Prise en charge 204, Approuvée 205, Paiement transmis 211, Encaissée 212.
REFORM_LABELS: dict[str, str] = {
    "200": "Déposée",  # [CL-09] [B]
    "202": "Reçue",  # [B]
    "203": "Mise à disposition",  # [B]
    "204": "Prise en charge",  # [B]
    "205": "Approuvée",  # [B]
    "206": "Approuvée partiellement",  # [CL-09]
    "207": "En litige",  # [CL-09] « LITIGE (207) »
    "208": "Suspendue",  # [CL-09]
    "209": "Complétée",  # [CL-06] code; label of XP Z12-012 v1.4 (not spelled out in the shared files)
    "210": "Refusée",  # [CL-09]
    "211": "Paiement transmis",  # [B]
    "212": "Encaissée",  # [CDV-14] [B]
    "213": "Rejetée",  # [CL-09]
    "221": "Erreur de routage",  # [CL-09] « ERREUR_ROUTAGE (221) »
    "501": "Irrecevable",  # [CL-09]
}

STATUSES: dict[str, Status] = {
    "BROUILLON": Status("", "Brouillon"),  # not sent: nothing to report
    "DEPOSEE": Status("200", "Déposée"),
    "MISE_A_DISPOSITION": Status("203", "Mise à disposition"),
    "PRISE_EN_CHARGE": Status("204", "Prise en charge"),
    "SUSPENDUE": Status("208", "Suspendue"),
    "COMPLETEE": Status("209", "Complétée"),
    # Chorus "à recycler": the recipient says the routing data are wrong; the reform's status for a
    # misrouted invoice is 221 Erreur de routage, whose only reason is ROUTAGE_ERR [CL-09].
    "A_RECYCLER": Status("221", "À recycler"),
    # Chorus "rejetée" is the buyer's refusal of the invoice: the reform's 210 Refusée. The reform's
    # 213 Rejetée is the platform refusing the file, which is our refused deposit (501 Irrecevable
    # when the file is not readable as an invoice at all: processing/reasons.deposit_refusal).
    "REJETEE": Status("210", "Rejetée"),
    # Service certified: the buyer approves the invoice, 205 Approuvée [B, UC1_05].
    "SERVICE_FAIT": Status("205", "Service fait"),
    # The payment order (mandatement) is an internal step of public accounting between the
    # ordonnateur and the comptable: the reform has no status for it (annex B goes from Approuvée
    # straight to Paiement transmis), so it emits no lifecycle message and the invoice keeps its
    # last reform code.
    "MANDATEE": Status("", "Mandatée"),
    "MISE_EN_PAIEMENT": Status("211", "Mise en paiement"),
    # The supplier records that the money arrived [B, UC1_07]: set by the seller, not the buyer.
    "ENCAISSEE": Status("212", "Encaissée"),
    # Validation circuit (A9 sous-traitant, A12 cotraitant): Chorus Pro's names; the 2026 reform
    # has no code for these steps, which happen before the public recipient receives the invoice.
    "A_VALIDER_1": Status("", "À valider par le titulaire"),
    "VALIDEE_1": Status("", "Validée par le titulaire"),
    "REFUSEE_1": Status("", "Refusée par le titulaire"),
    "ABSENCE_VALIDATION_1_HORS_DELAI": Status("", "Validée tacitement (15 jours sans réponse)"),
    "A_VALIDER_2": Status("", "À valider par le mandataire"),
    "VALIDEE_2": Status("", "Validée par le mandataire"),
    "REFUSEE_2": Status("", "Refusée par le mandataire"),
    "ABSENCE_VALIDATION_2_HORS_DELAI": Status("", "Validée tacitement par le mandataire (15 jours sans réponse)"),
    # Mémoire de frais de justice (A3), after the juridiction's refusal: the provider abandons it, or
    # duplicates it into a new mémoire with a new number (Chorus Pro's names). No reform code: the
    # mémoire keeps its 210 Refusée.
    "ABANDONNEE": Status("", "Abandonné"),
    "DUPLIQUEE": Status("", "Dupliqué après refus"),
    # Works monthly circuit (A4 projet de décompte mensuel → MOE → A15 état d'acompte → MOA → A19
    # for the payer): Chorus Pro's names; no reform code, these steps come before the payer's reception.
    "MISE_A_DISPOSITION_MOE": Status("", "À vérifier par le maître d'œuvre"),
    "SUSPENDUE_MOE": Status("", "À compléter (demande du maître d'œuvre)"),
    "COMPLETEE_MOE": Status("", "Complétée pour le maître d'œuvre"),
    "PRISE_EN_COMPTE_MOE": Status("", "Acceptée par le maître d'œuvre"),
    "REFUSEE_MOE": Status("", "Refusée par le maître d'œuvre"),
    # Chorus Pro: ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE (CHORUS_NAMES below; the status columns hold 24 characters).
    "HORS_DELAI_MOE": Status("", "Sans réponse du maître d'œuvre en 7 jours"),
    "TRANSMISE_MOA": Status("", "Transmise au maître d'ouvrage par l'entreprise"),
    "MISE_A_DISPOSITION_MOA": Status("", "À valider par le maître d'ouvrage"),
    "PRISE_EN_COMPTE_MOA": Status("", "Validée par le maître d'ouvrage"),
    "REFUSEE_MOA": Status("", "Renvoyée au maître d'œuvre par le maître d'ouvrage"),
    # Works final circuit (A7/A14 → MOE → A17 → MOA → A20 → titulaire signs → A8 for the payer) and
    # its tacit procedure (A22, A23). Short names where Chorus Pro's exceed the 24-character column.
    "HORS_DELAI_MOA": Status("", "Sans décompte général du maître d'ouvrage dans le délai"),
    "A_SIGNER_TITULAIRE": Status("", "À signer par l'entreprise"),
    "SIGNEE_TITULAIRE": Status("", "Signé par l'entreprise : décompte général et définitif"),
    "RECLAMATION_TITULAIRE": Status("", "Contesté par l'entreprise (mémoire en réclamation)"),
    "REMPLACEE_A22": Status("", "Remplacé par le projet de décompte général tacite (A22)"),
    "DGD_TACITE": Status("", "Devenu décompte général et définitif tacite (A23)"),
}
# Chorus Pro's name of a status where Facteur stores a shorter one (the API shows both).
CHORUS_NAMES = {"HORS_DELAI_MOE": "ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE", "REMPLACEE_A22": "REMPLACEE_PAR_A22"}
WORKS_STATUSES = frozenset({"MISE_A_DISPOSITION_MOE", "SUSPENDUE_MOE", "COMPLETEE_MOE", "PRISE_EN_COMPTE_MOE", "REFUSEE_MOE",
                            "HORS_DELAI_MOE", "TRANSMISE_MOA", "MISE_A_DISPOSITION_MOA", "PRISE_EN_COMPTE_MOA", "REFUSEE_MOA",
                            "HORS_DELAI_MOA", "A_SIGNER_TITULAIRE", "SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22",
                            "DGD_TACITE"})
# A subcontractor's or co-contractor's invoice before (or instead of) its reception by the public
# recipient: it is between the supplier and its validator, and the recipient does not see it.
# A works piece between the titulaire, its MOE and its MOA (A4, A15) is not the payer's either: the
# payer receives the MOA's validated état d'acompte (A19), a piece of its own.
BEFORE_RECEPTION = frozenset({"A_VALIDER_1", "A_VALIDER_2", "REFUSEE_1", "REFUSEE_2"}) | WORKS_STATUSES


def reform_label(status: str) -> str:
    """The reform's name of a status's code ("Refusée" for REJETEE), "" when it has none."""
    code = STATUSES[status].code_2026 if status in STATUSES else ""
    return REFORM_LABELS.get(code, "")


def label(status: str) -> str:
    return STATUSES[status].label if status in STATUSES else status


# What happened to an invoice, said the way a notification says it; an avoir is masculine.
HAPPENED: dict[str, tuple[str, str]] = {
    "DEPOSEE": ("déposée", "déposé"),
    "MISE_A_DISPOSITION": ("mise à disposition", "mis à disposition"),
    "PRISE_EN_CHARGE": ("prise en charge", "pris en charge"),
    "SUSPENDUE": ("suspendue", "suspendu"),
    "COMPLETEE": ("complétée", "complété"),
    "A_RECYCLER": ("à recycler", "à recycler"),
    "REJETEE": ("rejetée", "rejeté"),
    "MANDATEE": ("mandatée", "mandaté"),
    "MISE_EN_PAIEMENT": ("mise en paiement", "mis en paiement"),
    "ENCAISSEE": ("encaissée", "encaissé"),
    "A_VALIDER_1": ("à valider", "à valider"),
    "A_VALIDER_2": ("à valider", "à valider"),
    "VALIDEE_1": ("validée", "validé"),
    "VALIDEE_2": ("validée", "validé"),
    "REFUSEE_1": ("refusée par le valideur", "refusé par le valideur"),
    "REFUSEE_2": ("refusée par le valideur", "refusé par le valideur"),
    "ABSENCE_VALIDATION_1_HORS_DELAI": ("validée tacitement", "validé tacitement"),
    "ABSENCE_VALIDATION_2_HORS_DELAI": ("validée tacitement", "validé tacitement"),
    "ABANDONNEE": ("abandonnée", "abandonné"),
    "DUPLIQUEE": ("dupliquée après refus", "dupliqué après refus"),
    "MISE_A_DISPOSITION_MOE": ("à vérifier par le maître d'œuvre", "à vérifier par le maître d'œuvre"),
    "SUSPENDUE_MOE": ("à compléter pour le maître d'œuvre", "à compléter pour le maître d'œuvre"),
    "COMPLETEE_MOE": ("complétée", "complété"),
    "PRISE_EN_COMPTE_MOE": ("acceptée par le maître d'œuvre", "accepté par le maître d'œuvre"),
    "REFUSEE_MOE": ("refusée par le maître d'œuvre", "refusé par le maître d'œuvre"),
    "HORS_DELAI_MOE": ("sans réponse du maître d'œuvre en 7 jours", "sans réponse du maître d'œuvre en 7 jours"),
    "TRANSMISE_MOA": ("transmise au maître d'ouvrage", "transmis au maître d'ouvrage"),
    "MISE_A_DISPOSITION_MOA": ("à valider par le maître d'ouvrage", "à valider par le maître d'ouvrage"),
    "PRISE_EN_COMPTE_MOA": ("validée par le maître d'ouvrage", "validé par le maître d'ouvrage"),
    "REFUSEE_MOA": ("renvoyée au maître d'œuvre", "renvoyé au maître d'œuvre"),
    "HORS_DELAI_MOA": ("sans réponse du maître d'ouvrage dans le délai", "sans réponse du maître d'ouvrage dans le délai"),
    "A_SIGNER_TITULAIRE": ("à signer", "à signer"),
    "SIGNEE_TITULAIRE": ("signée", "signé"),
    "RECLAMATION_TITULAIRE": ("contestée (mémoire en réclamation)", "contesté (mémoire en réclamation)"),
    "REMPLACEE_A22": ("remplacée par le projet de décompte général tacite", "remplacé par le projet de décompte général tacite"),
    "DGD_TACITE": ("devenue décompte général et définitif tacite", "devenu décompte général et définitif tacite"),
}
CREDIT_NOTE = "381"


MEMOIRE = "A3"  # billing framework of a mémoire de frais de justice (masculine, like an avoir)


def status_sentence(status: str, number: str, type_code: str | None = None, framework: str | None = None) -> str:
    """« Facture n° F-1 rejetée », « Avoir n° A-2 mis en paiement », « Service fait pour la facture n° F-1 »,
    « Mémoire n° MJ-1 rejeté »."""
    memoire = framework == MEMOIRE
    credit_note = type_code == CREDIT_NOTE or memoire
    if status == "SERVICE_FAIT":
        document = "le mémoire" if memoire else "l'avoir" if credit_note else "la facture"
        return f"Service fait pour {document} n°\u00a0{number}"
    document = "Mémoire" if memoire else "Avoir" if credit_note else "Facture"
    if status in HAPPENED:
        return f"{document} n°\u00a0{number} {HAPPENED[status][credit_note]}"
    return f"{document} n°\u00a0{number}\u00a0: {label(status).lower()}"
