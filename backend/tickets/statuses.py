"""The ticket's status machine, as data: which action goes from which statuses to which, and who
may take it. `backend/tickets/service.py::act` is the one function that applies it.

Tickets are not invoices: they have their own statuses, kept here, not in processing/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

BROUILLON, OUVERT, EN_COURS, INFO_DEMANDEE, REPONDU, CLOS = "BROUILLON", "OUVERT", "EN_COURS", "INFO_DEMANDEE", "REPONDU", "CLOS"

LABELS = {
    BROUILLON: "Brouillon",
    OUVERT: "En attente de prise en charge",
    EN_COURS: "Pris en charge",
    INFO_DEMANDEE: "Informations demandées",
    REPONDU: "Répondu",
    CLOS: "Clôturé",
}

AUTHOR, RECEIVER = "author", "receiver"
SYSTEM = "system"  # a step Facteur takes by itself (the automatic closing), never offered to anyone

# A "Répondu" ticket the author neither reopens nor closes is closed this long after the answer
# (backend/tickets/expiry.py), the author warned by e-mail WARNING_BEFORE it.
AUTO_CLOSE_AFTER = timedelta(days=15)
WARNING_BEFORE = timedelta(days=2)


@dataclass(frozen=True)
class Action:
    code: str
    label: str  # the button
    done: str  # the history line and the confirmation
    role: str  # AUTHOR | RECEIVER | SYSTEM
    sources: frozenset[str]
    target: str
    body_required: bool = False
    needs_assignee: bool = False  # the receiver must have taken the ticket first
    waits_for: str = ""  # "author" | "receiver" | "assignee": who is notified (push and e-mail)


ACTIONS: dict[str, Action] = {a.code: a for a in (
    Action("submit", "Envoyer", "Ticket envoyé", AUTHOR, frozenset({BROUILLON}), OUVERT, body_required=True, waits_for=RECEIVER),
    Action("assign", "Prendre en charge", "Pris en charge", RECEIVER, frozenset({OUVERT, EN_COURS}), EN_COURS),
    Action("answer", "Répondre", "Réponse envoyée", RECEIVER, frozenset({EN_COURS}), REPONDU,
           body_required=True, needs_assignee=True, waits_for=AUTHOR),
    Action("ask_info", "Demander des informations", "Informations demandées", RECEIVER, frozenset({EN_COURS}), INFO_DEMANDEE,
           body_required=True, needs_assignee=True, waits_for=AUTHOR),
    Action("transfer", "Transférer au support", "Transféré au support de la plateforme", RECEIVER, frozenset({OUVERT, EN_COURS}),
           OUVERT, needs_assignee=True, waits_for=RECEIVER),
    Action("close", "Clôturer", "Clôturé", RECEIVER, frozenset({EN_COURS, INFO_DEMANDEE, REPONDU}), CLOS, needs_assignee=True),
    Action("complete", "Compléter", "Informations complétées", AUTHOR, frozenset({INFO_DEMANDEE}), EN_COURS,
           body_required=True, waits_for="assignee"),
    Action("reopen", "Rouvrir", "Rouvert", AUTHOR, frozenset({REPONDU, CLOS}), OUVERT, body_required=True, waits_for=RECEIVER),
    Action("author_close", "Clôturer", "Clôturé par l'auteur", AUTHOR, frozenset({OUVERT, EN_COURS, INFO_DEMANDEE, REPONDU}), CLOS),
    Action("auto_close", "Clôture automatique", "Clôturé automatiquement, sans suite de l'auteur 15 jours après la réponse",
           SYSTEM, frozenset({REPONDU}), CLOS),
)}

# The author's tabs: what waits for them, what waits for the receiver, what is over, drafts.
AUTHOR_TABS = {
    "actions": ("Actions requises", (INFO_DEMANDEE, REPONDU)),
    "en_cours": ("En cours", (OUVERT, EN_COURS)),
    "clotures": ("Clôturés", (CLOS,)),
    "brouillons": ("Brouillons", (BROUILLON,)),
}
# A receiver's tabs (a structure's agents, or the support team's queue).
RECEIVER_TABS = {
    "a_traiter": ("À prendre en charge", (OUVERT,)),
    "en_cours": ("En cours", (EN_COURS,)),
    "en_attente": ("En attente de l'auteur", (INFO_DEMANDEE, REPONDU)),
    "clotures": ("Clôturés", (CLOS,)),
}


def label(status: str) -> str:
    return LABELS.get(status, status)


def available(status: str, role: str) -> list[Action]:
    """The actions a person of `role` may take on a ticket at `status` (the page's buttons)."""
    return [a for a in ACTIONS.values() if a.role == role and status in a.sources]
