"""The invoice lifecycle: every status change after the deposit goes through `change_status`.

It checks, in this order: that the actor may see the invoice (404 otherwise, nothing
leaks), that the actor holds the right for the step (403), that the version the actor saw
is still current (409), that the step is possible from the current status (409), and
that the mandatory reason and data are there and valid (422). Then one transaction
writes the new status with an optimistic version check (two agents acting at once
cannot both win), an append-only history row, and the outbox rows of the notifications
(webhooks and push for every change; the push handler applies each user's preferences).

Roles: "supplier" (a member with can_deposit of the invoice's supplier structure),
"recipient" (an agent with can_process of the recipient structure), "platform", and
"validator" (a member with can_deposit of the structure that must validate a subcontractor's
or co-contractor's invoice before the recipient receives it: the titulaire or mandataire).

Circuits are data: CIRCUITS maps each circuit of frameworks.py to its transition table (role →
status → possible targets); an invoice follows the circuit of its billing framework. A later
circuit (works: MOE, MOA) is one more table and its roles, not a second machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any
from collections.abc import Awaitable, Callable

from backend.accounts.tables import Membership
from backend.lib.common import paris_today, utcnow
from backend.lib.db import retrying, transaction
from backend.lib.effects import note_committed
from backend.directory.tables import Structure
from backend.invoices.statuses import BEFORE_RECEPTION, STATUSES, label, status_sentence
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing.reasons import AMOUNT_REASONS, REASONS, REASONS_BY_STATUS, reason_label
from backend.processing import frameworks, validation
from backend.processing import payment_delays
from backend.processing import worker as outbox_worker
from backend.notifications.service import VALIDATION_EVENT, WORKS_EVENT
from backend.processing.tables import Outbox
from backend.tracking.events import publish, record_event
from backend.works import circuit as works_circuit

SUPPLIER, RECIPIENT, PLATFORM, VALIDATOR = "supplier", "recipient", "platform", "validator"
MOE, MOA = "moe", "moa"  # the maître d'œuvre and maître d'ouvrage of a works market
ROLES = (SUPPLIER, RECIPIENT, PLATFORM, VALIDATOR, MOE, MOA)
# A validator is a company (titulaire, mandataire, co-contractor): its people who deposit its own
# invoices are the ones who vouch for a subcontractor's. The MOE and MOA are public structures
# whose agents process what they receive: the same right as for processing invoices.
RIGHTS = {SUPPLIER: "can_deposit", RECIPIENT: "can_process", VALIDATOR: "can_deposit", MOE: "can_process", MOA: "can_process"}

# Not a status: the supplier acknowledges a rejection; the status stays REJETEE.
ACKNOWLEDGE = "ACCUSE_REJET"

# The recipient's processing statuses, in their usual order.
PROCESSING = ("PRISE_EN_CHARGE", "SUSPENDUE", "A_RECYCLER", "REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT")
_OPEN = frozenset(PROCESSING)  # from MISE_A_DISPOSITION (or back from COMPLETEE): any later step

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    RECIPIENT: {
        "MISE_A_DISPOSITION": _OPEN,
        "COMPLETEE": _OPEN,  # the supplier answered a suspension: the invoice is the recipient's again
        "PRISE_EN_CHARGE": _OPEN - {"PRISE_EN_CHARGE"},
        "SUSPENDUE": frozenset({"REJETEE"}),  # waiting for the supplier; may still be refused
        # Accepted: steps may be skipped (out of the usual order) but never undone.
        "SERVICE_FAIT": frozenset({"MANDATEE", "MISE_EN_PAIEMENT"}),
        "MANDATEE": frozenset({"MISE_EN_PAIEMENT"}),
        "MISE_EN_PAIEMENT": frozenset({"MISE_EN_PAIEMENT"}),  # a further partial payment, until paid
        "ENCAISSEE": frozenset({"MISE_EN_PAIEMENT"}),  # part collected: the rest may still be paid
    },
    SUPPLIER: {
        "SUSPENDUE": frozenset({"COMPLETEE"}),
        "A_RECYCLER": frozenset({"DEPOSEE"}),  # corrected routing; the platform puts it back at disposal
        "REJETEE": frozenset({ACKNOWLEDGE}),
        # Encaissée (212): the supplier records the money arrived; partial collections add up.
        "MISE_EN_PAIEMENT": frozenset({"ENCAISSEE"}),
        "ENCAISSEE": frozenset({"ENCAISSEE"}),
    },
    PLATFORM: {
        "DEPOSEE": frozenset({"MISE_A_DISPOSITION"}),
    },
}

# --- the validation circuit (A9 sous-traitant, A12 cotraitant) -------------------------------
# The invoice waits for its validator at each level (1: titulaire, mandataire or the
# co-contractor of a co-contractor's subcontractor; 2: the mandataire), who accepts or refuses
# with a reason; 15 days of silence is a tacit validation, applied by the platform (a deadline).
# After the last level the platform puts the invoice at the recipient's disposal, and the
# simple circuit's processing follows.
VALIDATION_DAYS = validation.DAYS
VALIDATION_LEVELS = validation.LEVELS
WAITING = {f"A_VALIDER_{n}": n for n in VALIDATION_LEVELS}  # status → level waited for
REFUSED = {f"REFUSEE_{n}": n for n in VALIDATION_LEVELS}
# A level passed, explicitly or tacitly: the platform takes the next step in the same change.
PASSED = {**{f"VALIDEE_{n}": n for n in VALIDATION_LEVELS}, **{f"ABSENCE_VALIDATION_{n}_HORS_DELAI": n for n in VALIDATION_LEVELS}}


def _validation_steps() -> dict[str, dict[str, frozenset[str]]]:
    validator: dict[str, frozenset[str]] = {}
    platform: dict[str, frozenset[str]] = {}
    for n in VALIDATION_LEVELS:
        validator[f"A_VALIDER_{n}"] = frozenset({f"VALIDEE_{n}", f"REFUSEE_{n}"})
        platform[f"A_VALIDER_{n}"] = frozenset({f"ABSENCE_VALIDATION_{n}_HORS_DELAI"})
        following = frozenset({f"A_VALIDER_{n + 1}", "MISE_A_DISPOSITION"} if n + 1 in VALIDATION_LEVELS else {"MISE_A_DISPOSITION"})
        platform[f"VALIDEE_{n}"] = platform[f"ABSENCE_VALIDATION_{n}_HORS_DELAI"] = following
    return {VALIDATOR: validator, PLATFORM: platform}


def _merged(*tables: dict[str, dict[str, frozenset[str]]]) -> dict[str, dict[str, frozenset[str]]]:
    merged: dict[str, dict[str, frozenset[str]]] = {}
    for table in tables:
        for role, steps in table.items():
            for status, targets in steps.items():
                merged.setdefault(role, {})[status] = merged.get(role, {}).get(status, frozenset()) | targets
    return merged


# --- the justice circuit (A3, mémoire de frais de justice) ------------------------------------
# The juridiction's agents (the recipient: its service centralisateur) take the mémoire in
# charge, ask for completion (SUSPENDUE, the provider answers COMPLETEE), refuse it with a
# reason (REJETEE), certify it (SERVICE_FAIT) and pay it (MISE_EN_PAIEMENT). No recycling: the
# juridiction is the one named on the decision, and a sent mémoire is never edited. A refused
# mémoire is abandoned, or duplicated into a new mémoire with a new number (backend/justice).
JUSTICE_PROCESSING = frozenset({"PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "SERVICE_FAIT", "MISE_EN_PAIEMENT"})
DUPLICATE, ABANDON = "DUPLIQUEE", "ABANDONNEE"
JUSTICE_TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    RECIPIENT: {
        "MISE_A_DISPOSITION": JUSTICE_PROCESSING,
        "COMPLETEE": JUSTICE_PROCESSING,
        "PRISE_EN_CHARGE": JUSTICE_PROCESSING - {"PRISE_EN_CHARGE"},
        "SUSPENDUE": frozenset({"REJETEE"}),
        "SERVICE_FAIT": frozenset({"MISE_EN_PAIEMENT"}),
        "MISE_EN_PAIEMENT": frozenset({"MISE_EN_PAIEMENT"}),
        "ENCAISSEE": frozenset({"MISE_EN_PAIEMENT"}),
    },
    SUPPLIER: {
        "SUSPENDUE": frozenset({"COMPLETEE"}),
        "REJETEE": frozenset({ABANDON, DUPLICATE}),
        "MISE_EN_PAIEMENT": frozenset({"ENCAISSEE"}),
        "ENCAISSEE": frozenset({"ENCAISSEE"}),
    },
    PLATFORM: {
        "DEPOSEE": frozenset({"MISE_A_DISPOSITION"}),
    },
}
# --- the works monthly circuit (A4 → MOE → A15 → MOA → A19 → payer) ----------------------------
# The titulaire's projet de décompte mensuel (A4) is the MOE's: within 7 days it accepts it, with
# the amounts corrected if need be (partial acceptance; a whole refusal for an amount error is
# not allowed, R.2192-34 CCP), asks for a completion, or refuses it for another reason. Past the 7
# days the platform marks it HORS_DELAI_MOE (Chorus Pro: ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE);
# the MOE may still answer, or the titulaire transmits it to the MOA. Accepting (or transmitting)
# files the état d'acompte (A15) for the MOA, who validates it (filing the A19 that the payer
# receives and processes as any invoice, in the simple circuit) or sends it back to the MOE
# (the A4 waits for the MOE again). The follow-up pieces are filed by the same change
# (_works_followup), in its transaction.
MOE_WAITING = frozenset({"MISE_A_DISPOSITION_MOE", "COMPLETEE_MOE"})  # the 7 days run
# A subcontractor's (A10) or co-contractor's (A13) monthly statement is validated first by the
# titulaire or mandataire (the validation circuit's levels, 15 days, tacit after), then is its MOE's.
VALIDATED_FOR_MOE = frozenset({"A10", "A13", "A14"})  # A14: a co-contractor's projet de décompte final
MOE_DECISIONS = frozenset({"PRISE_EN_COMPTE_MOE", "SUSPENDUE_MOE", "REFUSEE_MOE"})
WORKS_STEPS: dict[str, dict[str, frozenset[str]]] = {
    MOE: {status: MOE_DECISIONS for status in (*MOE_WAITING, "HORS_DELAI_MOE")},
    SUPPLIER: {"SUSPENDUE_MOE": frozenset({"COMPLETEE_MOE"}), "HORS_DELAI_MOE": frozenset({"TRANSMISE_MOA"})},
    MOA: {"MISE_A_DISPOSITION_MOA": frozenset({"PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"})},
    PLATFORM: {
        **{status: frozenset({"HORS_DELAI_MOE"}) for status in MOE_WAITING},
        # the MOA sent the état d'acompte back: the statement waits for its MOE again
        "PRISE_EN_COMPTE_MOE": frozenset({"MISE_A_DISPOSITION_MOE"}), "TRANSMISE_MOA": frozenset({"MISE_A_DISPOSITION_MOE"}),
        # a subcontractor's or co-contractor's statement, once its validator passed it
        **{passed: frozenset({"MISE_A_DISPOSITION_MOE"}) for passed in PASSED},
    },
}
# --- the works final circuit (A7/A14 → MOE → A17 → MOA → A20 → titulaire signs → A8 → payer) -----
# The projet de décompte final (A7; a co-contractor's A14 is validated by the mandataire first, as
# an A13) is its MOE's, with the monthly steps and 7 days (WORKS_STEPS). Accepting (or the titulaire
# transmitting it past the 7 days) files the MOE's projet de décompte général (A17) for the MOA: the
# balance is the final cumul − the last accepted monthly cumul. The MOA validates it (filing the
# décompte général, A20, that the titulaire signs: the DGD, A8, goes to the payer, processed as any
# invoice) or sends it back to the MOE. The titulaire may refuse to sign (RECLAMATION_TITULAIRE: a
# reason and a comment, its mémoire en réclamation). The MOA's silence past its delay (a deadline row,
# works_circuit.MOA_DAYS, CCAG Travaux 2021 art. 12.4.2) marks the A17 HORS_DELAI_MOA: the titulaire
# then files the tacit projet de décompte général (A22), which replaces the A17 (REMPLACEE_A22).
FINAL_STEPS: dict[str, dict[str, frozenset[str]]] = {
    MOA: {"HORS_DELAI_MOA": frozenset({"PRISE_EN_COMPTE_MOA", "REFUSEE_MOA"})},  # late, but still its to notify
    SUPPLIER: {"HORS_DELAI_MOA": frozenset({"REMPLACEE_A22"}),
               "A_SIGNER_TITULAIRE": frozenset({"SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE"})},
    PLATFORM: {"MISE_A_DISPOSITION_MOA": frozenset({"HORS_DELAI_MOA"})},
}
# --- the tacit procedure (A22 → MOA, 10 days → A23 → payer), CCAG Travaux 2021 art. 12.4.4 ----------
# The MOA may still notify the décompte général within TACIT_DAYS (validating the A22 files the A20
# the titulaire signs); past them (a deadline row: HORS_DELAI_MOA) the titulaire's projet is the DGD:
# the titulaire files the tacit DGD (A23) for the payer, and the A22 says so (DGD_TACITE).
TACIT_STEPS: dict[str, dict[str, frozenset[str]]] = {
    MOA: {"MISE_A_DISPOSITION_MOA": frozenset({"PRISE_EN_COMPTE_MOA"})},
    SUPPLIER: {"HORS_DELAI_MOA": frozenset({"DGD_TACITE"})},
    PLATFORM: {"MISE_A_DISPOSITION_MOA": frozenset({"HORS_DELAI_MOA"})},
}
# The MOA's delay runs on these pieces while at MISE_A_DISPOSITION_MOA.
MOA_CLOCK = frozenset({works_circuit.GENERAL_PROJECT, works_circuit.TACIT_PROJECT})

# On a works piece before the payer, its recipient acts as the market's MOE (A4, A7) or MOA (A15, A17,
# A20, A22). On the A20 the titulaire (its supplier) acts: it signs.
RECIPIENT_ROLE = {"A4": MOE, "A10": MOE, "A13": MOE, "A15": MOA, "A7": MOE, "A14": MOE, "A17": MOA, "A20": MOA, "A22": MOA}
WORKS_PIECES = frozenset({*RECIPIENT_ROLE, *works_circuit.PAYER_PIECES})
# Who must act next on a works piece at this status: pushed and told live.
WORKS_NEXT = {"MISE_A_DISPOSITION_MOE": MOE, "COMPLETEE_MOE": MOE, "MISE_A_DISPOSITION_MOA": MOA,
              "SUSPENDUE_MOE": SUPPLIER, "HORS_DELAI_MOE": SUPPLIER, "HORS_DELAI_MOA": SUPPLIER, "A_SIGNER_TITULAIRE": SUPPLIER}

# Circuit → transition table. TRANSITIONS (above) is the simple circuit; the validation
# circuit is the validation steps, then the simple circuit from MISE_A_DISPOSITION; the works
# monthly circuit is its steps, then the simple circuit for the A19 the payer receives.
CIRCUITS: dict[str, dict[str, dict[str, frozenset[str]]]] = {
    frameworks.SIMPLE: TRANSITIONS,
    frameworks.VALIDATION: _merged(TRANSITIONS, _validation_steps()),
    frameworks.JUSTICE: JUSTICE_TRANSITIONS,
    frameworks.WORKS_MONTHLY: _merged(TRANSITIONS, _validation_steps(), WORKS_STEPS),
    frameworks.WORKS_FINAL: _merged(TRANSITIONS, _validation_steps(), WORKS_STEPS, FINAL_STEPS),
    frameworks.WORKS_TACIT: _merged(TRANSITIONS, TACIT_STEPS),
}


def circuit_of(invoice: Invoice | dict) -> str:
    """The circuit an invoice follows: its framework's (simple when unknown or not run here)."""
    code = invoice["billing_framework"] if isinstance(invoice, dict) else invoice.billing_framework
    framework = frameworks.FRAMEWORKS.get(code or frameworks.DEFAULT)
    return framework.circuit if framework is not None and framework.circuit in CIRCUITS else frameworks.SIMPLE


def next_after_validation(passed: str, levels: int, framework: str | None = None) -> str:
    """After level n is passed: the next level waits when the invoice has one, else the recipient
    receives it (for a subcontractor's or co-contractor's monthly statement, its MOE)."""
    level = PASSED[passed]
    if level < levels:
        return f"A_VALIDER_{level + 1}"
    return "MISE_A_DISPOSITION_MOE" if framework in VALIDATED_FOR_MOE else "MISE_A_DISPOSITION"


def validator_of(invoice: Invoice, level: int) -> int | None:
    return invoice.validator_1 if level == 1 else invoice.validator_2 if level == 2 else None


def validation_levels(invoice: Invoice) -> int:
    return 2 if invoice.validator_2 else 1 if invoice.validator_1 else 0


TERMINAL = frozenset({"REJETEE", *REFUSED, "REFUSEE_MOE", "REFUSEE_MOA"})
# A works piece whose own circuit is over (the next piece carries on, or the titulaire claims).
WORKS_ENDED = frozenset({"REFUSEE_MOE", "REFUSEE_MOA", "SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22", "DGD_TACITE"})
PUSH_STATUSES = frozenset({"REJETEE", "SUSPENDUE", "A_RECYCLER", "MISE_EN_PAIEMENT"})
MAX_MANDATE = 50
MAX_COMMENT = 2000

class TransitionError(Exception):
    """A refused change: a stable code, a French message for the person, an HTTP status."""

    def __init__(self, code: str, message_fr: str, http_status: int) -> None:
        super().__init__(message_fr)
        self.code, self.message_fr, self.http_status = code, message_fr, http_status


NOT_FOUND = TransitionError("not_found", "Cette facture n'existe pas ou vous n'y avez pas accès.", 404)


@dataclass(frozen=True)
class Actor:
    role: str  # supplier | recipient | platform
    user_id: int | None = None
    # An API key acts for its structure, with no user: the API checked its scope already.
    # The history names the key, so that "who did this" has an answer for ERP changes too.
    api_structure_id: int | None = None
    api_key_id: int | None = None
    api_key_name: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role != PLATFORM and self.user_id is None and self.api_structure_id is None:
            raise ValueError("a supplier or recipient actor is a user or an API key's structure")

    @classmethod
    def platform(cls) -> Actor:
        return cls(PLATFORM)


def actor_for(user_id: int, structure_id: int | None, invoice: Invoice) -> Actor | None:
    """The actor a signed-in user is for this invoice, from the structure they act for."""
    if structure_id is not None and structure_id == invoice.recipient:
        return Actor(RECIPIENT_ROLE.get(invoice.billing_framework, RECIPIENT), user_id)
    if structure_id is not None and structure_id == invoice.supplier:
        return Actor(SUPPLIER, user_id)
    if structure_id is not None and structure_id in (invoice.validator_1, invoice.validator_2):
        return Actor(VALIDATOR, user_id)
    return None


@dataclass(frozen=True)
class Payment:
    date: date
    amount: Decimal


@dataclass(frozen=True)
class Routing:
    """What the supplier may change on an invoice to recycle: recipient, service code, engagement."""

    recipient_siret: str
    service_code: str = ""
    engagement: str = ""


# --- pure rules (no database) ---------------------------------------------------------------

def targets_from(status: str, role: str, circuit: str = frameworks.SIMPLE) -> frozenset[str]:
    return CIRCUITS[circuit].get(role, {}).get(status, frozenset())


def role_may_ever(role: str, target: str, circuit: str = frameworks.SIMPLE) -> bool:
    return any(target in targets for targets in CIRCUITS[circuit].get(role, {}).values())


def actions_for(status: str, role: str, *, remaining: Decimal | None = None, acknowledged: bool = False,
                circuit: str = frameworks.SIMPLE) -> list[str]:
    """The steps this role may take from this status (the UI buttons), in the usual order."""
    targets = set(targets_from(status, role, circuit))
    if status == "MISE_EN_PAIEMENT" and remaining is not None and remaining <= 0:
        targets.discard("MISE_EN_PAIEMENT")
    if acknowledged:
        targets.discard(ACKNOWLEDGE)
    if status in ("MISE_EN_PAIEMENT", "ENCAISSEE") and role == SUPPLIER and remaining is not None and remaining <= 0:
        targets.discard("ENCAISSEE")
    order = [*PROCESSING, "ENCAISSEE", "COMPLETEE", "DEPOSEE", "MISE_A_DISPOSITION", ACKNOWLEDGE, DUPLICATE, ABANDON,
             "PRISE_EN_COMPTE_MOE", "SUSPENDUE_MOE", "REFUSEE_MOE", "COMPLETEE_MOE", "TRANSMISE_MOA",
             "PRISE_EN_COMPTE_MOA", "REFUSEE_MOA", "HORS_DELAI_MOE", "MISE_A_DISPOSITION_MOE",
             "SIGNEE_TITULAIRE", "RECLAMATION_TITULAIRE", "REMPLACEE_A22", "DGD_TACITE", "HORS_DELAI_MOA",
             *(f"{step}_{n}" for n in VALIDATION_LEVELS for step in ("VALIDEE", "REFUSEE", "A_VALIDER")),
             *(f"ABSENCE_VALIDATION_{n}_HORS_DELAI" for n in VALIDATION_LEVELS)]
    return [t for t in order if t in targets]


def check_role(role: str, target: str, circuit: str = frameworks.SIMPLE) -> None:
    """422 for an unknown status, 403 when the role never takes this step."""
    if target not in STATUSES and target != ACKNOWLEDGE:
        raise TransitionError("unknown_status", f"Le statut « {target} » n'existe pas.", 422)
    if not role_may_ever(role, target, circuit):
        raise TransitionError("forbidden", "Vous n'avez pas le droit d'effectuer cette action sur cette facture.", 403)


def check_transition(status: str, role: str, target: str, circuit: str = frameworks.SIMPLE) -> None:
    """check_role, then 409 when the step is not possible from this status."""
    check_role(role, target, circuit)
    if target not in targets_from(status, role, circuit):
        if status in REFUSED:
            message = "Cette facture a été refusée par son valideur : son circuit est terminé."
        elif status in (ABANDON, DUPLICATE):
            message = f"Ce mémoire est {label(status).lower()} : son circuit est terminé."
        elif status in WORKS_ENDED:
            message = f"Cette pièce est « {label(status)} » : son circuit est terminé."
        elif status in TERMINAL and target != ACKNOWLEDGE:
            message = "Cette facture a été rejetée : son traitement est terminé."
        else:
            message = f"Une facture au statut « {label(status)} » ne peut pas passer au statut « {_target_label(target)} »."
        raise TransitionError("transition_refused", message, 409)


def _target_label(target: str) -> str:
    return "rejet pris en compte" if target == ACKNOWLEDGE else label(target)


def _invalid(code: str, message: str) -> TransitionError:
    return TransitionError(code, message, 422)


def validate_data(
    target: str,
    *,
    reason_code: str | None = None,
    comment: str = "",
    mandate_number: str | None = None,
    payment: Payment | None = None,
    amount_due: Decimal | None = None,
    already_paid: Decimal = Decimal(0),
) -> dict[str, Any]:
    """The reason and data a step needs; returns the details stored with the history row."""
    comment = (comment or "").strip()
    reason_code = (reason_code or "").strip().upper() or None
    if len(comment) > MAX_COMMENT:
        raise _invalid("comment_too_long", f"Le commentaire dépasse {MAX_COMMENT} caractères.")
    details: dict[str, Any] = {}
    if target == "RECLAMATION_TITULAIRE":  # the titulaire's mémoire en réclamation: its own reasons, not the reform's
        if reason_code not in works_circuit.CLAIM_REASONS:
            raise _invalid("reason_required" if reason_code is None else "reason_invalid",
                           "Choisissez le motif de votre réclamation : " + ", ".join(works_circuit.CLAIM_REASONS) + ".")
        if not comment:
            raise _invalid("comment_required", "Exposez votre réclamation (les montants contestés et pourquoi) : le maître "
                           "d'ouvrage la lira.")
        return {"claim": {"reason": reason_code, "label": works_circuit.CLAIM_REASONS[reason_code]}}
    if target == "REFUSEE_MOE" and reason_code in AMOUNT_REASONS:
        raise _invalid("amount_refusal_forbidden", "Un décompte ne se refuse pas pour une erreur de montant (article R.2192-34 du "
                       "code de la commande publique) : corrigez les montants et acceptez-le pour le reste.")
    if target in ("REFUSEE_MOE", "REFUSEE_MOA", "SUSPENDUE_MOE") and not comment:
        raise _invalid("comment_required", {"REFUSEE_MOE": "Indiquez le motif du refus : l'entreprise le lira.",
                                            "REFUSEE_MOA": "Dites au maître d'œuvre ce qu'il doit revoir.",
                                            "SUSPENDUE_MOE": "Dites à l'entreprise ce qu'elle doit compléter."}[target])
    if target == "REFUSEE_MOE" and reason_code is None:
        raise _invalid("reason_required", "Choisissez un motif : il est obligatoire pour refuser un décompte.")
    if target in REFUSED:
        if not comment:
            raise _invalid("comment_required", "Indiquez le motif du refus : le sous-traitant ou le cotraitant le lira.")
    elif target in ("SUSPENDUE", "REJETEE"):
        if reason_code is None:
            raise _invalid("reason_required", "Choisissez un motif : il est obligatoire pour suspendre ou rejeter une facture.")
        if not comment:
            raise _invalid("comment_required", "Ajoutez un commentaire qui explique le motif au fournisseur.")
    elif target == "A_RECYCLER":
        if not comment:
            raise _invalid("comment_required", "Indiquez au fournisseur ce qu'il doit corriger (destinataire, code service ou engagement).")
    if reason_code is not None and target not in ("SUSPENDUE", "REJETEE", "A_RECYCLER", "REFUSEE_MOE", *REFUSED):
        raise _invalid("reason_unexpected", "Un motif n'est demandé que pour une suspension, un rejet ou une facture à recycler.")
    if reason_code is not None and reason_code not in REASONS:
        raise _invalid("reason_invalid", f"Le motif « {reason_code} » ne fait pas partie de la liste des motifs.")
    allowed = REASONS_BY_STATUS.get(target, ())
    if reason_code is not None and reason_code not in allowed:
        raise _invalid("reason_not_allowed", f"Le motif « {reason_label(reason_code)} » ne s'emploie pas pour le statut "
                                             f"« {label(target)} » : choisissez l'un de ceux-ci : {', '.join(allowed)}.")
    if target == "MANDATEE":
        number = (mandate_number or "").strip()
        if not number:
            raise _invalid("mandate_required", "Indiquez le numéro de mandat.")
        if len(number) > MAX_MANDATE:
            raise _invalid("mandate_invalid", f"Le numéro de mandat dépasse {MAX_MANDATE} caractères.")
        details["mandate_number"] = number
    elif mandate_number:
        raise _invalid("mandate_unexpected", "Un numéro de mandat n'est demandé que pour une facture mandatée.")
    if target == "MISE_EN_PAIEMENT":
        details["payment"] = _validate_payment(payment, amount_due, already_paid)
    elif target == "ENCAISSEE":
        details["payment"] = _validate_payment(payment, amount_due, already_paid, collection=True)
    elif payment is not None:
        raise _invalid("payment_unexpected", "Un paiement ne s'enregistre qu'avec le statut « Mise en paiement » ou « Encaissée ».")
    return details


def _validate_payment(payment: Payment | None, amount_due: Decimal | None, already_paid: Decimal, *,
                      collection: bool = False) -> dict[str, Any]:
    if collection:  # the same checks, said of the money received
        try:
            return _validate_payment(payment, amount_due, already_paid)
        except TransitionError as exc:
            raise _invalid(exc.code.replace("payment", "collection"), _COLLECTION_WORDS.get(exc.code, exc.message_fr).format(
                amount_due=_euros(amount_due or Decimal(0)), remaining=_euros(max((amount_due or Decimal(0)) - already_paid, Decimal(0))),
            )) from None
    if payment is None or payment.date is None or payment.amount is None:
        raise _invalid("payment_required", "Indiquez la date et le montant du paiement.")
    if not isinstance(payment.date, date):
        raise _invalid("payment_invalid", "La date du paiement n'est pas valide.")
    if payment.date > paris_today():
        raise _invalid("payment_date_future", f"La date du paiement ({payment.date:%d/%m/%Y}) est dans le futur : indiquez le jour "
                                              "où le paiement a été envoyé, aujourd'hui au plus tard.")
    if isinstance(payment.amount, float) or isinstance(payment.amount, bool):
        raise _invalid("payment_invalid", "Le montant du paiement n'est pas valide.")
    try:
        amount = Decimal(str(payment.amount))
    except InvalidOperation:
        raise _invalid("payment_invalid", "Le montant du paiement n'est pas valide.") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise _invalid("payment_invalid", "Le montant du paiement doit avoir au plus deux décimales.")
    if amount <= 0:
        raise _invalid("payment_invalid", "Le montant du paiement doit être supérieur à zéro.")
    amount = amount.quantize(Decimal("0.01"))
    total = already_paid + amount
    if amount_due is not None and total > amount_due:
        remaining = max(amount_due - already_paid, Decimal(0))
        raise _invalid(
            "payment_exceeds",
            f"Le paiement ({_euros(amount)}) dépasse le reste à payer ({_euros(remaining)}).",
        )
    return {
        "date": payment.date.isoformat(), "amount": str(amount), "paid_total": str(total),
        "fully_paid": amount_due is not None and total == amount_due,
    }


_COLLECTION_WORDS = {
    "payment_required": "Indiquez la date à laquelle l'argent est arrivé et le montant encaissé.",
    "payment_invalid": "Le montant encaissé n'est pas valide : un nombre positif, deux décimales au plus.",
    "payment_date_future": "La date d'encaissement est dans le futur : indiquez le jour où l'argent est arrivé, aujourd'hui au plus tard.",
    "payment_exceeds": "Ce montant dépasse ce qui reste à encaisser ({remaining}) : le total encaissé ne peut pas dépasser "
                       "le montant dû ({amount_due}).",
}


def _euros(value: Decimal) -> str:
    whole, _, cents = f"{value:,.2f}".partition(".")
    return f"{whole.replace(',', ' ')},{cents} €"


# --- database --------------------------------------------------------------------------------

async def _authorize(invoice: Invoice, actor: Actor) -> None:
    """404 for an invoice the actor's user cannot see; 403 without the right on its side."""
    if actor.role == PLATFORM:
        return
    if actor.role == RECIPIENT and invoice.status in BEFORE_RECEPTION:
        raise NOT_FOUND  # still with its validator: the recipient has not received it
    side = _side(invoice, actor.role)
    if actor.user_id is None:
        if actor.api_structure_id != side:
            raise NOT_FOUND
        return
    parties = [s for s in (invoice.supplier, invoice.recipient, invoice.validator_1, invoice.validator_2) if s]
    rows = await Membership.select(Membership.structure, Membership.can_deposit, Membership.can_process).where(
        (Membership.user == actor.user_id)
        & (Membership.structure.is_in(parties))
        & (Membership.status == "active")
    )
    if not rows:
        raise NOT_FOUND
    if not any(r["structure"] == side and r[RIGHTS[actor.role]] for r in rows):
        raise TransitionError("forbidden", "Vous n'avez pas le droit d'effectuer cette action sur cette facture.", 403)


def _side(invoice: Invoice, role: str) -> int | None:
    """The structure a role acts for on this invoice; a validator, for the level waited for (else the first)."""
    if role == SUPPLIER:
        return invoice.supplier
    if role in (RECIPIENT, MOE, MOA):
        return invoice.recipient if role == RECIPIENT or RECIPIENT_ROLE.get(invoice.billing_framework) == role else None
    return validator_of(invoice, WAITING.get(invoice.status, 1))


async def paid_total(invoice_id: int, status: str = "MISE_EN_PAIEMENT") -> Decimal:
    """The sum of the payments (or, for ENCAISSEE, of the collections) recorded so far."""
    rows = await InvoiceHistory.select(InvoiceHistory.details).where(
        (InvoiceHistory.invoice == invoice_id) & (InvoiceHistory.status == status)
    ).output(load_json=True)
    total = Decimal(0)
    for row in rows:
        details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"] or "{}")
        total += Decimal(str((details.get("payment") or {}).get("amount", "0")))
    return total


async def is_acknowledged(invoice_id: int) -> bool:
    """A rejection is set by the recipient; a supplier row at REJETEE is the acknowledgement."""
    return await InvoiceHistory.exists().where(
        (InvoiceHistory.invoice == invoice_id) & (InvoiceHistory.status == "REJETEE") & (InvoiceHistory.actor_kind == SUPPLIER)
    )


async def allowed_actions(invoice: Invoice, actor: Actor) -> list[str]:
    """What this actor may do now with this invoice (for the buttons); empty when nothing."""
    try:
        await _authorize(invoice, actor)
    except TransitionError:
        return []
    remaining = None
    if invoice.status == "MISE_EN_PAIEMENT" and actor.role == RECIPIENT:
        remaining = Decimal(invoice.amount_due) - await paid_total(invoice.id)
    elif invoice.status in ("MISE_EN_PAIEMENT", "ENCAISSEE") and actor.role == SUPPLIER:
        remaining = Decimal(invoice.amount_due) - await paid_total(invoice.id, "ENCAISSEE")
    acknowledged = invoice.status == "REJETEE" and actor.role == SUPPLIER and await is_acknowledged(invoice.id)
    return actions_for(invoice.status, actor.role, remaining=remaining, acknowledged=acknowledged, circuit=circuit_of(invoice))


async def _check_routing(routing: Routing | None, invoice: Invoice) -> tuple[int, str, str]:
    """The recipient id, service code and engagement of a recycled invoice (422 when unusable)."""
    from backend.invoices import portal_rules

    if routing is None:
        return invoice.recipient, invoice.service_code, invoice.engagement
    siret = (routing.recipient_siret or "").strip()
    recipient = await Structure.objects().get((Structure.siret == siret) & (Structure.is_public == True))  # noqa: E712
    if recipient is None:
        raise _invalid("routing_invalid", portal_rules.MESSAGES["FCT-PORTAL-02"].format(siret=siret or "absent"))
    if not recipient.active:
        raise _invalid("routing_invalid", portal_rules.MESSAGES["FCT-PORTAL-03"].format(name=recipient.name, siret=siret))
    code, engagement = (routing.service_code or "").strip(), (routing.engagement or "").strip()
    fake = SimpleNamespace(buyer_reference=code, purchase_order=engagement)
    findings = await portal_rules.routing_findings(fake, recipient)
    if findings:
        raise _invalid("routing_invalid", " ".join(f.message for f in findings))
    return recipient.id, code, engagement


async def _checked_step(invoice_id: int, actor: Actor, target: str, expected_version: int | None) -> tuple[Invoice, str]:
    """The invoice and its circuit, once the actor may see it (404), may take this step at all
    (403), saw its current version (409) and may take the step from its status (409)."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None:
        raise NOT_FOUND
    await _authorize(invoice, actor)
    circuit = circuit_of(invoice)
    check_role(actor.role, target, circuit)
    if expected_version is not None and expected_version != invoice.version:
        raise _stale()
    check_transition(invoice.status, actor.role, target, circuit)
    return invoice, circuit


async def change_status(
    invoice_id: int,
    actor: Actor,
    target: str,
    *,
    expected_version: int | None,
    reason_code: str | None = None,
    comment: str = "",
    mandate_number: str | None = None,
    payment: Payment | None = None,
    routing: Routing | None = None,
    within: Callable[[], Awaitable[None]] | None = None,
    correction: dict[str, Any] | None = None,
) -> Invoice:
    """Move an invoice to `target` (or ACKNOWLEDGE a rejection); returns the invoice as saved.

    `within` runs inside the change's transaction (e.g. the attachments of a COMPLETEE
    answer): both are saved, or neither.

    `routing` is only for the supplier's recycling (A_RECYCLER → DEPOSEE → MISE_A_DISPOSITION).
    `correction` is only for the MOE accepting a works statement: the cumuls it corrects
    (field → amount), the others kept as asked.
    """
    invoice, circuit = await _checked_step(invoice_id, actor, target, expected_version)
    already_paid = await paid_total(invoice.id, target) if target in ("MISE_EN_PAIEMENT", "ENCAISSEE") else Decimal(0)
    if target == "MISE_EN_PAIEMENT" and invoice.status == "MISE_EN_PAIEMENT" and already_paid >= Decimal(invoice.amount_due):
        raise TransitionError("fully_paid", "Cette facture est déjà entièrement payée.", 409)
    if target == "ENCAISSEE" and already_paid >= Decimal(invoice.amount_due):
        raise TransitionError("fully_collected", "Le montant dû de cette facture est déjà entièrement encaissé.", 409)
    if target == ACKNOWLEDGE and await is_acknowledged(invoice.id):
        raise TransitionError("already_acknowledged", "Vous avez déjà pris connaissance de ce rejet.", 409)
    if target == DUPLICATE and within is None:  # the new mémoire is made with it (backend/justice)
        raise _invalid("justice_duplicate_elsewhere", "Un mémoire se duplique depuis sa page (« Dupliquer ») ou par POST /api/v1/justice/memoires/{id}/duplicate.")
    if routing is not None and target != "DEPOSEE":
        raise _invalid("routing_unexpected", "Le destinataire ne se modifie que pour recycler une facture.")
    details = validate_data(
        target, reason_code=reason_code, comment=comment, mandate_number=mandate_number, payment=payment,
        amount_due=Decimal(invoice.amount_due), already_paid=already_paid,
    )
    reason_code = (reason_code or "").strip().upper()
    comment = (comment or "").strip()
    if circuit in (frameworks.WORKS_MONTHLY, frameworks.WORKS_FINAL) and target in ("PRISE_EN_COMPTE_MOE", "TRANSMISE_MOA"):
        details.update(await _works_statement(invoice, correction if target == "PRISE_EN_COMPTE_MOE" else None, comment))
    elif correction is not None:
        raise _invalid("correction_unexpected", "Des montants ne se corrigent qu'en acceptant un projet de décompte mensuel ou final.")
    changes: dict[Any, Any] = {}
    if target == "DEPOSEE":
        recipient_id, service_code, engagement = await _check_routing(routing, invoice)
        details["recycled"] = {
            "before": {"recipient": invoice.recipient, "service_code": invoice.service_code, "engagement": invoice.engagement},
            "after": {"recipient": recipient_id, "service_code": service_code, "engagement": engagement},
        }
        changes = {Invoice.recipient: recipient_id, Invoice.service_code: service_code, Invoice.engagement: engagement}

    # (status, actor kind, actor user, reason, comment, details) of each history row
    if target == ACKNOWLEDGE:
        steps = [("REJETEE", actor, "", comment, {"acknowledged": True})]
        final = invoice.status
    elif target == "DEPOSEE":
        steps = [("DEPOSEE", actor, "", comment, details), ("MISE_A_DISPOSITION", Actor.platform(), "", "", {})]
        final = "MISE_A_DISPOSITION"
    elif target in PASSED:  # a level validated: the next level waits, or the recipient receives it
        final = next_after_validation(target, validation_levels(invoice), invoice.billing_framework)
        steps = [(target, actor, reason_code, comment, details), (final, Actor.platform(), "", "", {})]
    else:
        steps = [(target, actor, reason_code, comment, details)]
        final = target

    now = utcnow()
    new_version = invoice.version + 1
    async def write() -> list[int]:
        async with transaction():
            return await _write_change(invoice, final, new_version, now, changes, steps, target, within)

    event_ids = await retrying(write)
    outbox_worker.wake()
    await publish(event_ids)  # after the commit: live pages refresh (never raises)
    saved = await Invoice.objects().get(Invoice.id == invoice.id)
    assert saved is not None
    return saved


async def duplicated_within(invoice_id: int, actor: Actor, *, expected_version: int | None) -> list[int]:
    """A refused mémoire becomes DUPLIQUEE inside the CALLER's transaction: the one that creates its
    duplicate (backend/justice, through the API: the new mémoire's deposit), so both are saved or
    neither. Same checks and writes as change_status; returns the tracking event ids, which the
    caller publishes after its commit."""
    invoice, _ = await _checked_step(invoice_id, actor, DUPLICATE, expected_version)
    steps = [(DUPLICATE, actor, "", "", {})]
    return await _write_change(invoice, DUPLICATE, invoice.version + 1, utcnow(), {}, steps, DUPLICATE, None)


async def _write_change(invoice: Invoice, final: str, new_version: int, now, changes: dict, steps, target: str, within) -> list[int]:
    """The change's writes, inside its transaction; returns the tracking event ids."""
    updated = await Invoice.update({
        Invoice.status: final, Invoice.status_code: STATUSES[final].code_2026 or invoice.status_code,
        Invoice.version: new_version, Invoice.updated_at: now, **changes,
    }).where((Invoice.id == invoice.id) & (Invoice.version == invoice.version)).returning(Invoice.id)
    if len(updated) != 1:
        raise _stale()
    await note_committed("invoice", invoice.id)
    await _validation_clock(invoice, final, steps, now)
    await _payment_clock(invoice, final, steps, now)
    await _works_clock(invoice, final, steps, now)
    await _history(invoice.id, steps, now)
    await Outbox.insert(*_outbox_rows(invoice, steps, target, new_version, changes, now))
    followed = await _works_followup(invoice, target, steps, now)
    if within is not None:
        await within()
    return await _record_events(invoice, steps, new_version, changes) + followed


async def _history(invoice_id: int, steps, now) -> None:
    await InvoiceHistory.insert(*(
        InvoiceHistory(
            invoice=invoice_id, status=status, status_code=STATUSES[status].code_2026, actor_kind=who.role,
            actor=who.user_id, reason_code=reason, comment=text, details=_json(_with_key(extra, who)), created_at=now,
        )
        for status, who, reason, text, extra in steps
    ))


# --- the works monthly circuit's writes ----------------------------------------------------------

async def _works_statement(invoice: Invoice, correction: dict[str, Any] | None, comment: str) -> dict[str, Any]:
    """The statement the MOE accepts (as asked, or with the cumuls it corrects), checked by computing
    its état d'acompte from the last accepted one; stored in the history row's details."""
    works = works_circuit.works_data(invoice)
    asked = works_circuit.from_json(works.get("statement")) or works_circuit.Statement()
    if correction is not None:
        if not isinstance(correction, dict) or not set(correction) <= set(works_circuit.FIELDS):
            unknown = ", ".join(sorted(str(k) for k in (correction if isinstance(correction, dict) else {}) if k not in works_circuit.FIELDS))
            raise _invalid("correction_invalid", f"Montants corrigeables : {', '.join(works_circuit.FIELDS)}"
                           + (f" (inconnu : {unknown[:100]})." if unknown else "."))
    try:
        accepted = asked if not correction else works_circuit.statement_of({**works_circuit.as_json(asked), **correction})
        previous = await works_circuit.previous_statement(invoice.market, invoice.supplier)
        works_circuit.compute(accepted, previous, works_circuit.terms_of(works.get("terms")))
    except works_circuit.StatementError as exc:
        raise _invalid(exc.code, exc.message) from None
    corrected = works_circuit.corrected_fields(asked, accepted)
    if corrected and not comment:
        raise _invalid("comment_required", "Expliquez la correction à l'entreprise : elle la lira, et pourra la contester.")
    return {"statement": works_circuit.as_json(accepted),
            "corrected": {name: {"asked": f"{getattr(asked, name):.2f}", "accepted": f"{getattr(accepted, name):.2f}"}
                          for name in corrected}}


async def _works_clock(invoice: Invoice, final: str, steps, now) -> None:
    """The MOE's 7 days run while a statement waits for it (MISE_A_DISPOSITION_MOE, COMPLETEE_MOE)."""
    if invoice.status in MOE_WAITING:
        await works_circuit.cancel_deadlines(invoice.id, keep_overdue=steps[0][0] == "HORS_DELAI_MOE")
    if final in MOE_WAITING:
        due = await works_circuit.schedule_deadlines(invoice.id, now)
        await Invoice.update({Invoice.validation_due_at: due}).where(Invoice.id == invoice.id)
    elif invoice.status in MOE_WAITING | {"HORS_DELAI_MOE"} and final != "HORS_DELAI_MOE":
        await Invoice.update({Invoice.validation_due_at: None}).where(Invoice.id == invoice.id)
    if getattr(invoice, "billing_framework", None) in MOA_CLOCK and invoice.status in ("MISE_A_DISPOSITION_MOA", "HORS_DELAI_MOA") \
            and final != "HORS_DELAI_MOA":
        # The MOA answered (or the titulaire went on): its delay is over. (HORS_DELAI_MOA is set by the
        # deadline row itself, which must stay as it is to be marked done.)
        await works_circuit.cancel_moa_deadline(invoice.id)
        await Invoice.update({Invoice.validation_due_at: None}).where(Invoice.id == invoice.id)


async def _works_followup(invoice: Invoice, target: str, steps, now) -> list[int]:
    """The piece a works step files in the same transaction: the état d'acompte (A15) for the MOA
    when the MOE accepts or the titulaire transmits; the validated one (A19) for the payer when the
    MOA validates; the statement back to its MOE when the MOA sends the état d'acompte back."""
    circuit = circuit_of(invoice)
    if circuit in (frameworks.WORKS_FINAL, frameworks.WORKS_TACIT):
        return await _final_followup(invoice, target, steps, now)
    if circuit != frameworks.WORKS_MONTHLY:
        return []
    who, details = steps[0][1], steps[0][4]
    platform = Actor.platform()
    if target in ("PRISE_EN_COMPTE_MOE", "TRANSMISE_MOA"):
        piece = await works_circuit.file_etat(invoice, details, by_titulaire=target == "TRANSMISE_MOA")
        return await _filed(piece, [("DEPOSEE", who, "", "", {"source": invoice.id}),
                                    ("MISE_A_DISPOSITION_MOA", platform, "", "", {})], now)
    if target == "PRISE_EN_COMPTE_MOA":
        payer = await works_circuit.payer_of(invoice)
        piece = await works_circuit.file_validated(invoice, reception_due_by(payer, now))
        await received(piece.id, piece.payment_due_by)
        return await _filed(piece, [("DEPOSEE", who, "", "", {"source": invoice.id}),
                                    ("MISE_A_DISPOSITION", platform, "", "", {})], now)
    if target == "REFUSEE_MOA":
        return await _sent_back(invoice, steps, now)
    return []


async def _sent_back(invoice: Invoice, steps, now) -> list[int]:
    """The MOA sent the état d'acompte (or the projet de décompte général) back: the statement it was
    filed from waits for its MOE again, with the MOA's comment."""
    source = await Invoice.objects().get(Invoice.id == works_circuit.works_data(invoice).get("source"))
    if source is None or source.status not in ("PRISE_EN_COMPTE_MOE", "TRANSMISE_MOA"):
        return []
    back = [("MISE_A_DISPOSITION_MOE", Actor.platform(), "", steps[0][3], {"sent_back_by": invoice.id})]
    return await _write_change(source, "MISE_A_DISPOSITION_MOE", source.version + 1, now, {}, back, "MISE_A_DISPOSITION_MOE", None)


async def _final_followup(invoice: Invoice, target: str, steps, now) -> list[int]:
    """The pieces the final circuit and the tacit procedure file, in the step's transaction:
    A7/A14 accepted (or transmitted) → A17 for the MOA, its delay from the MOE's receipt of the A7;
    A17 or A22 validated by the MOA → A20 for the titulaire to sign; A17 sent back → the A7 to its MOE;
    A20 signed → A8 for the payer; A17 replaced → A22 for the MOA, 10 days; A22 past them → A23 for the payer."""
    framework, who, details = invoice.billing_framework, steps[0][1], steps[0][4]
    platform = Actor.platform()
    source_step = ("DEPOSEE", who, "", "", {"source": invoice.id})
    if framework in works_circuit.FINAL_STATEMENTS and target in ("PRISE_EN_COMPTE_MOE", "TRANSMISE_MOA"):
        piece = await works_circuit.file_etat(invoice, details, by_titulaire=target == "TRANSMISE_MOA",
                                              framework=works_circuit.GENERAL_PROJECT)
        received_at = await InvoiceHistory.select(InvoiceHistory.created_at).where(
            (InvoiceHistory.invoice == invoice.id) & (InvoiceHistory.status == "MISE_A_DISPOSITION_MOE")).order_by(InvoiceHistory.id).first()
        return await _filed_for_moa(piece, [source_step, ("MISE_A_DISPOSITION_MOA", platform, "", "", {})],
                                    works_circuit.moa_due_at(received_at["created_at"] if received_at else now, piece.billing_framework), now)
    if framework in MOA_CLOCK and target == "PRISE_EN_COMPTE_MOA":
        piece = await works_circuit.file_following(invoice, works_circuit.GENERAL, status="A_SIGNER_TITULAIRE")
        return await _filed(piece, [source_step, ("A_SIGNER_TITULAIRE", platform, "", "", {})], now)
    if framework == works_circuit.GENERAL_PROJECT and target == "REFUSEE_MOA":
        return await _sent_back(invoice, steps, now)
    if framework == works_circuit.GENERAL_PROJECT and target == "REMPLACEE_A22":
        piece = await works_circuit.file_following(invoice, works_circuit.TACIT_PROJECT, status="MISE_A_DISPOSITION_MOA")
        return await _filed_for_moa(piece, [source_step, ("MISE_A_DISPOSITION_MOA", platform, "", "", {})],
                                    works_circuit.moa_due_at(now, piece.billing_framework), now)
    paid = {(works_circuit.GENERAL, "SIGNEE_TITULAIRE"): works_circuit.DGD,
            (works_circuit.TACIT_PROJECT, "DGD_TACITE"): works_circuit.TACIT_DGD}.get((framework, target))
    if paid is not None:
        payer = await works_circuit.payer_of(invoice)
        piece = await works_circuit.file_following(invoice, paid, status="MISE_A_DISPOSITION", payment_due_by=reception_due_by(payer, now))
        await received(piece.id, piece.payment_due_by)
        return await _filed(piece, [source_step, ("MISE_A_DISPOSITION", platform, "", "", {})], now)
    return []


async def _filed_for_moa(piece: Invoice, steps, due, now) -> list[int]:
    """A projet de décompte général (A17, A22) for the MOA: its delay runs (a deadline row)."""
    await works_circuit.schedule_moa_deadline(piece.id, due, piece.billing_framework)
    await Invoice.update({Invoice.validation_due_at: due}).where(Invoice.id == piece.id)
    return await _filed(piece, steps, now)


async def _filed(piece: Invoice, steps, now) -> list[int]:
    """A new works piece: its history, its clocks, its notifications and live events."""
    await _works_clock(SimpleNamespace(id=piece.id, status=""), piece.status, steps, now)
    await _history(piece.id, steps, now)
    before = SimpleNamespace(**{name: getattr(piece, name) for name in (
        "id", "number", "supplier", "recipient", "validator_1", "validator_2", "type_code", "billing_framework")}, status="")
    await Outbox.insert(*_outbox_rows(before, steps, steps[-1][0], piece.version, {}, now))
    return await _record_events(before, steps, piece.version, {})


async def file_works_statement(piece_id: int, actor: Actor) -> list[int]:
    """A projet de décompte mensuel (A4; A10, A13 at A_VALIDER_1), just saved at MISE_A_DISPOSITION_MOE by
    backend/works/pieces.py in its transaction: its history, the MOE's 7 days, push and events."""
    piece = await Invoice.objects().get(Invoice.id == piece_id)
    assert piece is not None and piece.status in ("MISE_A_DISPOSITION_MOE", "A_VALIDER_1")
    if piece.status == "A_VALIDER_1":  # a subcontractor's or co-contractor's: its validator first (15 days)
        await _history(piece.id, [("DEPOSEE", actor, "", "", {}), ("A_VALIDER_1", Actor.platform(), "", "", {})], utcnow())
        return await deposited_for_validation(piece.id)
    return await _filed(piece, [("DEPOSEE", actor, "", "", {}), ("MISE_A_DISPOSITION_MOE", Actor.platform(), "", "", {})], utcnow())


async def works_moa_overdue(invoice_id: int) -> None:
    """The MOA's delay on a projet de décompte général is over without its décompte général (A17: 30
    days, A22: 10 days, CCAG Travaux 2021 art. 12.4.2 and 12.4.4): the platform marks it HORS_DELAI_MOA,
    and the titulaire may go on with the tacit procedure. Runs in the deadline row's transaction."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or invoice.status != "MISE_A_DISPOSITION_MOA" or invoice.billing_framework not in MOA_CLOCK:
        return
    await _deadline_step(invoice, "HORS_DELAI_MOA", works_circuit.moa_days(invoice.billing_framework))


async def works_overdue(invoice_id: int) -> None:
    """7 days without the MOE's answer: the platform marks the statement HORS_DELAI_MOE (the MOE may
    still answer; the titulaire may now transmit it to the MOA). Runs in the deadline row's transaction."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or invoice.status not in MOE_WAITING:
        return
    await _deadline_step(invoice, "HORS_DELAI_MOE", works_circuit.DAYS)


async def _validation_clock(invoice: Invoice, final: str, steps, now) -> None:
    """The 15-day validation deadline (and its reminder) follows the level waited for."""
    if invoice.status in WAITING:
        tacit = steps[0][0].startswith("ABSENCE_VALIDATION_")  # run by that very deadline row: keep it
        await validation.cancel_deadlines(invoice.id, WAITING[invoice.status], keep_tacit=tacit)
    if final in WAITING:
        due = await validation.schedule_deadlines(invoice.id, WAITING[final], now)
        await Invoice.update({Invoice.validation_due_at: due}).where(Invoice.id == invoice.id)
    elif invoice.status in WAITING:
        await Invoice.update({Invoice.validation_due_at: None}).where(Invoice.id == invoice.id)


async def deposited_for_validation(invoice_id: int) -> list[int]:
    """A deposited A9/A12 invoice now waits for its first validator (the deposit wrote its history
    and status): the deadlines, the validator's push and webhooks, the live events. Called in the
    deposit's transaction, last (it records events); returns the event ids."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    assert invoice is not None and invoice.status == "A_VALIDER_1"
    now = utcnow()
    due = await validation.schedule_deadlines(invoice.id, 1, now)
    await Invoice.update({Invoice.validation_due_at: due}).where(Invoice.id == invoice.id)
    steps = [("A_VALIDER_1", Actor.platform(), "", "", {})]
    before = SimpleNamespace(**{name: getattr(invoice, name) for name in (
        "id", "number", "supplier", "recipient", "validator_1", "validator_2", "type_code")}, status="DEPOSEE")
    await Outbox.insert(*_outbox_rows(before, steps, "A_VALIDER_1", invoice.version, {}, now))
    return await _record_events(before, steps, invoice.version, {})


async def tacit_validation(invoice_id: int, level: int) -> None:
    """15 days of silence: the platform validates the level (ABSENCE_VALIDATION_n_HORS_DELAI) and the
    invoice goes on. Runs inside the deadline row's transaction (its handler), so the step and the
    row's "done" mark commit together; nothing happens when the level was answered meanwhile."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or invoice.status != f"A_VALIDER_{level}":
        return
    target = f"ABSENCE_VALIDATION_{level}_HORS_DELAI"
    then = next_after_validation(target, validation_levels(invoice), invoice.billing_framework)
    await _deadline_step(invoice, target, VALIDATION_DAYS, then=then)


async def _deadline_step(invoice: Invoice, target: str, days: int, *, then: str | None = None) -> None:
    """A deadline passed: the platform takes `target` (and `then`, in the same change), inside the
    deadline row's transaction, so the step and the row's "done" mark commit together."""
    check_transition(invoice.status, PLATFORM, target, circuit_of(invoice))
    platform = Actor.platform()
    steps = [(target, platform, "", "", {"days": days}), *([(then, platform, "", "", {})] if then else [])]
    await _write_change(invoice, then or target, invoice.version + 1, utcnow(), {}, steps, target, None)
    outbox_worker.wake()  # live pages read the events on their next poll of the table


def reception_due_by(recipient: Structure, now) -> date:
    """The payment deadline of an invoice received now by this structure (the deposit stores it)."""
    return payment_delays.due_by(payment_delays.paris_day(now), payment_delays.delay_days(recipient.payment_delay_days))


async def received(invoice_id: int, due: date) -> None:
    """Reception (mise à disposition): the payment delay runs. Called in the deposit's transaction."""
    await payment_delays.schedule_overdue(invoice_id, due)


async def _payment_clock(invoice: Invoice, final: str, steps, now) -> None:
    """The payment deadline follows the change: ended by a rejection, interrupted by the first
    suspension, reopened when the supplier completes it, done once paid in full."""
    if invoice.payment_due_by is None:
        if final == "MISE_A_DISPOSITION":  # an invoice received before payment delays were tracked
            recipient = await Structure.objects().get(Structure.id == invoice.recipient)
            due = reception_due_by(recipient, now)
            await Invoice.update({Invoice.payment_due_by: due}).where(Invoice.id == invoice.id)
            await received(invoice.id, due)
        return
    payment = next((extra.get("payment") for status, _, _, _, extra in steps if status == "MISE_EN_PAIEMENT"), None)
    if payment and payment.get("fully_paid"):
        await Invoice.update({Invoice.paid_in_full_on: date.fromisoformat(payment["date"]),
                              Invoice.payment_clock_stopped: False}).where(Invoice.id == invoice.id)
        await payment_delays.cancel_overdue(invoice.id)
    elif final in payment_delays.CLOCK_ENDED:
        await payment_delays.cancel_overdue(invoice.id)
    elif final == "SUSPENDUE" and not await _suspended_before(invoice.id):
        # The one interruption the law allows (R.2192-27); a later suspension leaves the clock running.
        await Invoice.update({Invoice.payment_clock_stopped: True}).where(Invoice.id == invoice.id)
        await payment_delays.cancel_overdue(invoice.id)
    elif invoice.status == "SUSPENDUE" and invoice.payment_clock_stopped:
        interrupted = await InvoiceHistory.select(InvoiceHistory.created_at).where(
            (InvoiceHistory.invoice == invoice.id) & (InvoiceHistory.status == "SUSPENDUE")
        ).order_by(InvoiceHistory.id).first()
        due = payment_delays.after_interruption(
            invoice.payment_due_by, payment_delays.paris_day(interrupted["created_at"]), payment_delays.paris_day(now))
        await Invoice.update({Invoice.payment_due_by: due, Invoice.payment_clock_stopped: False}).where(Invoice.id == invoice.id)
        await payment_delays.schedule_overdue(invoice.id, due)


async def _suspended_before(invoice_id: int) -> bool:
    return await InvoiceHistory.exists().where(
        (InvoiceHistory.invoice == invoice_id) & (InvoiceHistory.status == "SUSPENDUE"))


def _with_key(details: dict, who: Actor) -> dict:
    if who.api_key_id is None:
        return details
    return {**details, "api_key": {"id": who.api_key_id, "name": who.api_key_name}}


def _audience(invoice: Invoice, status: str, previous: str, recipient: int) -> int:
    """Who, beside the supplier, hears of a step: the validator while validation runs (the
    recipient does not see the invoice before it is put at its disposal), else the recipient."""
    level = WAITING.get(status) or REFUSED.get(status) or PASSED.get(status) or WAITING.get(previous)
    if level and status != "MISE_A_DISPOSITION":
        return validator_of(invoice, level) or recipient
    return recipient


async def _record_events(invoice: Invoice, steps, version: int, changes: dict) -> list[int]:
    """One tracking event per history row, for the live pages of both sides."""
    recipient = changes.get(Invoice.recipient, invoice.recipient)
    ids = []
    previous = invoice.status
    for status, who, reason, _text, extra in steps:
        ids.append(await record_event(
            "invoice.status_changed", invoice_id=invoice.id, supplier_id=invoice.supplier,
            recipient_id=_audience(invoice, status, previous, recipient),
            payload={"status": status, "status_code": STATUSES[status].code_2026, "label": label(status),
                     "reason": reason or "", "version": version, "actor_kind": who.role,
                     "acknowledged": bool(extra.get("acknowledged"))},
        ))
        if status == "MISE_A_DISPOSITION" and _now_received(invoice, previous):  # the recipient receives it now
            ids.append(await record_event(
                "invoice.received", invoice_id=invoice.id, supplier_id=invoice.supplier, recipient_id=recipient,
                payload={"number": invoice.number, "status": status, "status_code": STATUSES[status].code_2026,
                         "label": label(status), "version": version},
            ))
        previous = status
    return ids


def _stale() -> TransitionError:
    return TransitionError(
        "stale_version", "La facture a été modifiée entre-temps par quelqu'un d'autre : rechargez-la avant de recommencer.", 409,
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _now_received(invoice, previous: str) -> bool:
    """The recipient receives the invoice at this MISE_A_DISPOSITION (it did not at the deposit):
    after its validation, or, for the MOA's validated état d'acompte (A19), as it is filed."""
    return previous in PASSED or getattr(invoice, "billing_framework", "") in works_circuit.PAYER_PIECES


WORKS_PUSH = {
    "MISE_A_DISPOSITION_MOE": ("Décompte mensuel n°\u00a0{number} à vérifier",
                               f"Vous avez {works_circuit.DAYS} jours pour l'accepter ou corriger ses montants."),
    "COMPLETEE_MOE": ("Décompte mensuel n°\u00a0{number} complété", "L'entreprise a répondu : il attend votre décision."),
    "MISE_A_DISPOSITION_MOA": ("État d'acompte n°\u00a0{number} à valider", "Le maître d'œuvre l'a établi : validez-le ou renvoyez-le."),
    "SUSPENDUE_MOE": ("Décompte mensuel n°\u00a0{number} à compléter", "Le maître d'œuvre attend un complément."),
    "HORS_DELAI_MOE": ("Décompte mensuel n°\u00a0{number} : pas de réponse du maître d'œuvre",
                       "Le délai de 7 jours est passé : vous pouvez le transmettre au maître d'ouvrage."),
}
# The same steps on a piece of the final circuit, said of it.
FINAL_PUSH = {
    **{status: (title.replace("Décompte mensuel", "Décompte final"), body) for status, (title, body) in WORKS_PUSH.items()},
    "MISE_A_DISPOSITION_MOA": ("Projet de décompte général n°\u00a0{number} à valider",
                               "Notifiez le décompte général à l'entreprise dans le délai."),
    "HORS_DELAI_MOA": ("Décompte n°\u00a0{number} : pas de décompte général du maître d'ouvrage",
                       "Le délai est passé : vous pouvez poursuivre par la procédure tacite."),
    "A_SIGNER_TITULAIRE": ("Décompte général n°\u00a0{number} à signer",
                           "Signez-le, ou refusez de le signer en exposant votre réclamation."),
}


def _works_rows(invoice, status: str, payload: dict, now) -> list[Outbox]:
    """A works piece waits for someone: their people who keep « Pièce de travaux à traiter » (works.requested) get a push."""
    role = WORKS_NEXT.get(status)
    if role is None:
        return []
    title, body = (FINAL_PUSH if getattr(invoice, "billing_framework", None) in works_circuit.FINAL_PIECES else WORKS_PUSH)[status]
    structure = invoice.supplier if role == SUPPLIER else invoice.recipient
    push = {**payload, "event": WORKS_EVENT, "audience": {"structure_id": structure}, "title": title.format(number=invoice.number),
            "comment": body, "url": f"/works/pieces/{invoice.id}", "tag": f"works-{invoice.id}"}
    return [Outbox(event_type=WORKS_EVENT, channel="push", invoice=invoice.id, payload=_json(push), created_at=now, next_attempt_at=now)]


def _validation_rows(invoice: Invoice, status: str, previous: str, payload: dict, recipient: int, now) -> list[Outbox]:
    """A level waits: the validator's people get a push. Validation over: the recipient receives the invoice."""
    if status in WAITING:
        push = {**payload, "event": VALIDATION_EVENT, "audience": {"structure_id": payload["validator_id"]},
                "title": f"Facture n°\u00a0{invoice.number} à valider", "url": f"/invoices/{invoice.id}",
                "comment": f"Vous avez {VALIDATION_DAYS} jours pour l'accepter ou la refuser ; sans réponse, elle sera validée tacitement."}
        return [Outbox(event_type=VALIDATION_EVENT, channel="push", invoice=invoice.id, payload=_json(push),
                       created_at=now, next_attempt_at=now)]
    if status == "MISE_A_DISPOSITION" and _now_received(invoice, previous):
        received = {"event": "invoice.received", "invoice_id": invoice.id, "number": invoice.number,
                    "supplier_id": invoice.supplier, "recipient_id": recipient, "audience": {"structure_id": recipient},
                    "status": status, "status_code": STATUSES[status].code_2026, "version": payload["version"],
                    "occurred_at": now.isoformat()}
        return [Outbox(event_type="invoice.received", channel="webhook", invoice=invoice.id, payload=_json(received),
                       created_at=now, next_attempt_at=now)]
    return []


def _outbox_rows(invoice: Invoice, steps, target: str, version: int, changes: dict, now) -> list[Outbox]:
    recipient = changes.get(Invoice.recipient, invoice.recipient)
    base = {
        "invoice_id": invoice.id, "number": invoice.number, "supplier_id": invoice.supplier,
        "recipient_id": recipient, "version": version, "occurred_at": now.isoformat(),
    }
    if getattr(invoice, "billing_framework", None) in WORKS_PIECES:
        base["billing_framework"] = invoice.billing_framework  # a works piece: which one, for the ERPs
    rows: list[Outbox] = []
    if target == ACKNOWLEDGE:
        payload = {**base, "event": "invoice.rejection_acknowledged", "status": invoice.status,
                   "status_code": invoice.status_code, "actor_kind": SUPPLIER}
        return [Outbox(event_type="invoice.rejection_acknowledged", channel="webhook", invoice=invoice.id,
                       payload=_json(payload), created_at=now, next_attempt_at=now)]
    previous = invoice.status
    for status, who, reason, comment, details in steps:
        payload = {
            **base, "event": "invoice.status_changed", "status": status, "status_code": STATUSES[status].code_2026,
            "status_label": label(status), "previous_status": previous, "actor_kind": who.role,
            "reason_code": reason, "reason_label": reason_label(reason) if reason else "", "comment": comment,
            "details": details,
        }
        audience = _audience(invoice, status, previous, recipient)
        if audience != recipient:  # a validation step: the validator's webhooks hear it, not the recipient's
            payload["validator_id"] = audience
        rows.append(Outbox(event_type="invoice.status_changed", channel="webhook", invoice=invoice.id,
                           payload=_json(payload), created_at=now, next_attempt_at=now))
        rows += _validation_rows(invoice, status, previous, payload, recipient, now)
        rows += _works_rows(invoice, status, payload, now)
        # Every change the supplier sees may be pushed: the push handler picks the members who
        # want it (PUSH_STATUSES by default, the others on request), never the author.
        push = {**payload, "audience": {"structure_id": invoice.supplier}, "actor_user_id": who.user_id}
        push["title"] = status_sentence(status, invoice.number, invoice.type_code, getattr(invoice, "billing_framework", None))
        rows.append(Outbox(event_type="invoice.status_changed", channel="push", invoice=invoice.id,
                           payload=_json(push), created_at=now, next_attempt_at=now))
        previous = status
    return rows
