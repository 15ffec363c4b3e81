"""Ticket categories and sub-categories: data, with French labels and stable codes.

The (category, sub-category) pair decides where a ticket goes: `STRUCTURE` tickets go to the
agents of a public structure chosen from the directory; `SUPPORT` tickets go to the platform's
support team. Codes are what the API and the database hold; labels are what people read.
"""

from __future__ import annotations

from dataclasses import dataclass

STRUCTURE, SUPPORT = "structure", "support"


@dataclass(frozen=True)
class Subcategory:
    code: str
    label: str
    route: str  # STRUCTURE | SUPPORT


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    subcategories: tuple[Subcategory, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("factures_emises", "Factures émises", (
        Subcategory("question_entite_publique", "Question pour une entité publique", STRUCTURE),
        Subcategory("suivi_paiement", "Suivi du paiement d'une facture", STRUCTURE),
        Subcategory("anomalie_facture", "Anomalie sur une facture émise", SUPPORT),
    )),
    Category("compte_connexion", "Compte et connexion", (
        Subcategory("acces_compte", "Accès au compte, mot de passe", SUPPORT),
        Subcategory("double_authentification", "Double authentification", SUPPORT),
    )),
    Category("depot_formats", "Dépôt et formats", (
        Subcategory("fichier_refuse", "Fichier refusé au dépôt", SUPPORT),
        Subcategory("format_facturx", "Factur-X, CII, UBL", SUPPORT),
        Subcategory("api", "API et logiciels de facturation", SUPPORT),
    )),
    Category("structures_utilisateurs", "Gestion des structures et utilisateurs", (
        Subcategory("creation_structure_publique", "Demande de création de structure publique", SUPPORT),
        Subcategory("rattachement", "Rattachement à une structure", SUPPORT),
        Subcategory("annuaire", "Correction de l'annuaire", SUPPORT),
    )),
)

_BY_PAIR = {(c.code, s.code): (c, s) for c in CATEGORIES for s in c.subcategories}


def find(category: str | None, subcategory: str | None) -> tuple[Category, Subcategory] | None:
    return _BY_PAIR.get((category or "", subcategory or ""))


def route_of(category: str, subcategory: str) -> str | None:
    """STRUCTURE or SUPPORT for a known pair, None otherwise."""
    found = find(category, subcategory)
    return found[1].route if found else None


def labels(category: str, subcategory: str) -> tuple[str, str]:
    found = find(category, subcategory)
    return (found[0].label, found[1].label) if found else (category, subcategory)


def as_data() -> list[dict]:
    """The list the form and the API show."""
    return [{"code": c.code, "label": c.label,
             "subcategories": [{"code": s.code, "label": s.label, "route": s.route} for s in c.subcategories]}
            for c in CATEGORIES]
