"""Spaces (espaces) and rights per space (habilitations): the data, and the rules read from it.

A structure's gestionnaire activates the spaces the structure uses; each member holds, in each
active space, **consultation** (read) or **modification** (read and act), or nothing. Every route
of the app declares the space it belongs to, next to the route, in its `opt` (on the handler, or
once on its Router):

    @get("/works", opt=space("travaux"))            # reads need consultation, writes modification
    @post("/x", opt=space("emises", level=CONSULTATION))   # a POST that only reads (a search)
    Router(..., opt=space(ACCOUNT))                # not a space: any signed-in person

One app-wide guard (`backend/accounts/space_guard.py`) checks it. A route that declares nothing
is refused (404), and the access-matrix test (tests/integration/test_space_access.py), generated
from the route table, fails naming it.

Storage: `StructureSpaces.spaces` (the active codes, comma-separated; no row = the default spaces
of the structure's side) and `Membership.space_rights` ("emises:modification,recues:consultation";
NULL = the rights its older flags `can_deposit`/`can_process`/`can_consult` map to, the same mapping
the migration `accounts_spaces_rights_data` wrote, so rows written by code that does not know spaces
yet keep their access). Writing space rights also sets those flags (`legacy_flags`), which the
lifecycle, notification and ticket services still read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONSULTATION, MODIFICATION = "consultation", "modification"
LEVELS = (CONSULTATION, MODIFICATION)
LEVEL_LABELS = {CONSULTATION: "Consultation", MODIFICATION: "Modification"}
_RANK = {None: 0, "": 0, CONSULTATION: 1, MODIFICATION: 2}

COMPANY, PUBLIC = "company", "public"


@dataclass(frozen=True)
class Space:
    code: str
    label: str
    description: str
    sides: tuple[str, ...]  # the sides whose structures have it active by default
    home: str  # its entry in the navigation


SPACES: tuple[Space, ...] = (
    Space("emises", "Factures émises", "saisir, déposer et suivre les factures envoyées aux entités publiques",
          (COMPANY,), "/invoices"),
    Space("recues", "Factures reçues", "recevoir et traiter les factures des fournisseurs", (PUBLIC,), "/invoices"),
    Space("travaux", "Factures de travaux", "marchés de travaux, dossiers de facturation et leurs pièces",
          (COMPANY, PUBLIC), "/works"),
    Space("a_valider", "Factures à valider", "factures des sous-traitants et cotraitants à accepter ou refuser",
          (COMPANY,), "/validations"),
    Space("justice", "Mémoires de justice", "mémoires de frais de justice (cadre A3)", (COMPANY, PUBLIC), "/justice"),
    Space("tickets_emis", "Tickets émis", "poser une question à une entité publique ou au support",
          (COMPANY, PUBLIC), "/tickets"),
    Space("tickets_recus", "Tickets reçus", "répondre aux tickets adressés à la structure", (PUBLIC,), "/tickets/received"),
)
BY_CODE = {s.code: s for s in SPACES}
CODES = tuple(BY_CODE)

# Route declarations that are not a space. Each says who the route is for; the route checks it itself.
PUBLIC_ROUTE = "public"  # anyone, signed in or not (login, sign-up, static files, health)
ACCOUNT = "account"  # any signed-in person, whatever their structure (account, directory, notifications)
MANAGER = "manager"  # a gestionnaire of the structure in the path (members, profile, keys, webhooks, spaces)
API = "api"  # /api/v1: a key of a structure and its scopes (deposit, read, process, directory)
OPERATOR = "operator"  # the platform's support team
# The invoice workspace shared by both sides: "Factures émises" for a company, "Factures reçues"
# for a public structure (the active structure decides the side, as everywhere in the app).
INVOICES = "invoices"
# Questions to a public structure: "Tickets reçus" for its agents, "Tickets émis" for the asker.
TICKETS = "tickets"
NOT_SPACES = (PUBLIC_ROUTE, ACCOUNT, MANAGER, API, OPERATOR)
DECLARATIONS = (*CODES, INVOICES, TICKETS, *NOT_SPACES)

# What an API key's scope stands for in the spaces (the keys keep their scopes; the structure of
# the key must have the space active).
SCOPE_SPACES = {"deposit": ("emises",), "read": ("emises", "recues"), "process": ("recues",)}


def space(code: str, *, level: str | None = None) -> dict[str, Any]:
    """The `opt` of a route (or Router): its space, and the level it needs when not the method's."""
    if code not in DECLARATIONS:
        raise ValueError(f"unknown space {code!r}: one of {DECLARATIONS}")
    if level is not None and level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return {"space": code, **({"space_level": level} if level else {})}


def required_level(method: str, opt: dict) -> str:
    """Reads need consultation, anything that writes modification, unless the route says otherwise."""
    return opt.get("space_level") or (CONSULTATION if method in ("GET", "HEAD") else MODIFICATION)


def side_of(is_public: bool) -> str:
    return PUBLIC if is_public else COMPANY


def resolve(declared: str, is_public: bool) -> str:
    """The space a route's declaration means for the active structure."""
    if declared == INVOICES:
        return "recues" if is_public else "emises"
    if declared == TICKETS:
        return "tickets_recus" if is_public else "tickets_emis"
    return declared


def default_spaces(is_public: bool) -> tuple[str, ...]:
    side = side_of(is_public)
    return tuple(s.code for s in SPACES if side in s.sides)


def parse_active(stored: str | None, is_public: bool) -> tuple[str, ...]:
    """The structure's active spaces: the stored list, or its side's defaults when none is stored."""
    if stored is None:
        return default_spaces(is_public)
    return tuple(code for code in CODES if code in stored.split(","))


def format_active(codes) -> str:
    return ",".join(code for code in CODES if code in set(codes))


def parse_rights(stored: str) -> dict[str, str]:
    rights = {}
    for part in stored.split(","):
        code, _, level = part.partition(":")
        if code in BY_CODE and level in LEVELS:
            rights[code] = level
    return rights


def format_rights(rights: dict[str, str]) -> str:
    return ",".join(f"{code}:{rights[code]}" for code in CODES if rights.get(code) in LEVELS)


def legacy_rights(can_deposit: bool, can_consult: bool, can_process: bool, is_manager: bool) -> dict[str, str]:
    """The rights a membership's older flags map to (migration and rows without space rights).

    Nobody loses access: saisie + dépôt is modification in "Factures émises" (and in "Factures
    à valider", which the validator's deposit right governed), traitement is modification in
    "Factures reçues", consultation is consultation everywhere else; a gestionnaire modifies all."""
    if is_manager:
        return {code: MODIFICATION for code in CODES}
    read = CONSULTATION if can_consult else None
    acts = can_deposit or can_process
    rights = {
        "emises": MODIFICATION if can_deposit else read,
        "recues": MODIFICATION if can_process else read,
        "a_valider": MODIFICATION if can_deposit else read,
        "travaux": MODIFICATION if acts else read,
        "justice": MODIFICATION if acts else read,
        # Any member could open a ticket, and the agents who could consult answered them.
        "tickets_emis": MODIFICATION if (can_consult or acts) else None,
        "tickets_recus": MODIFICATION if can_consult else None,
    }
    return {code: level for code, level in rights.items() if level}


def legacy_flags(rights: dict[str, str]) -> dict[str, bool]:
    """The older flags that follow from space rights (still read by the lifecycle and audiences)."""
    return {
        "can_deposit": rights.get("emises") == MODIFICATION or rights.get("a_valider") == MODIFICATION,
        "can_process": rights.get("recues") == MODIFICATION,
        "can_consult": bool(rights),
    }


def stored_rights(row: dict) -> dict[str, str]:
    """A membership row's rights as stored (its space rights, or what its flags map to)."""
    if row.get("space_rights") is not None:
        return parse_rights(row["space_rights"])
    return legacy_rights(bool(row.get("can_deposit")), bool(row.get("can_consult")), bool(row.get("can_process")),
                         bool(row.get("is_manager")))


def effective(row: dict, active: tuple[str, ...]) -> dict[str, str]:
    """What a member may do, space by space: their rights in the structure's active spaces; a
    gestionnaire modifies in every active space."""
    if row.get("is_manager"):
        return {code: MODIFICATION for code in active}
    rights = stored_rights(row)
    return {code: rights[code] for code in active if code in rights}


def allows(granted: str | None, needed: str) -> bool:
    return _RANK[granted] >= _RANK[needed] > 0


def clean_rights(form: dict[str, str], active: tuple[str, ...]) -> dict[str, str]:
    """Rights read from a form's `space_<code>` fields, kept to the active spaces and known levels."""
    return {code: form[f"space_{code}"] for code in active if form.get(f"space_{code}") in LEVELS}
