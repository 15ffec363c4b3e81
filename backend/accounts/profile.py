"""A supplier structure's profile: legal name, address, VAT number, IBAN/BIC, contact, and
whether it is under the VAT franchise (franchise en base, CGI art. 293 B).

These fields feed invoice generation later, so they are checked here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.memberships import require_manager
from backend.accounts.service import email_error, normalize_email
from backend.lib.common import utcnow
from backend.directory import identifiers as ids
from backend.directory.search import search_key_for
from backend.directory.tables import Structure
from backend.invoices.generation.glyphs import unprintable_error

TEXT_FIELDS = {
    "name": ("La raison sociale", 255, True),
    "address_line1": ("L'adresse", 255, False),
    "address_line2": ("Le complément d'adresse", 255, False),
    "postal_code": ("Le code postal", 16, False),
    "city": ("La ville", 128, False),
}
FIELDS = (*TEXT_FIELDS, "vat_number", "iban", "bic", "contact_email")


# --- What a supplier needs before its first invoice, in the order the guide asks for it ---
# A new supplier should not learn that the address is required only after typing a whole
# invoice: the home page, the capture page and the profile's guide all read these steps.

@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    fields: tuple[str, ...]
    done: bool


def values_of(structure: Structure | dict) -> dict:
    return structure if isinstance(structure, dict) else structure.to_dict()


def invoicing_steps(structure: Structure | dict) -> list[Step]:
    """The profile's steps to invoicing, each done or not (a Structure or a row as a dict)."""
    def has(*names: str) -> bool:
        values = values_of(structure)
        return all((values.get(name) or "").strip() for name in names)

    return [
        Step("name", "Raison sociale", "le nom imprimé en tête de chaque facture", ("name",), has("name")),
        Step("address", "Adresse", "obligatoire sur toute facture : adresse, code postal et ville",
             ("address_line1", "address_line2", "postal_code", "city"), has("address_line1", "postal_code", "city")),
        # Under the VAT franchise (art. 293 B) there is no VAT to invoice, hence no number needed.
        Step("vat", "N° de TVA intracommunautaire", "obligatoire sur une facture avec TVA", ("vat_number",),
             has("vat_number") or bool(values_of(structure).get("vat_franchise"))),
        Step("bank", "Coordonnées bancaires", "l'IBAN où l'entité publique vous paiera par virement", ("iban", "bic"), has("iban")),
    ]


def missing_for_invoicing(structure: Structure | dict) -> list[Step]:
    return [step for step in invoicing_steps(structure) if not step.done]


async def unfinished_steps(structure_id: int | None) -> list[Step]:
    """Every step (done or not) while a supplier structure still lacks one; else nothing
    (complete, or a public structure, which does not invoice)."""
    structure = await Structure.objects().get(Structure.id == structure_id) if structure_id else None
    if structure is None or structure.is_public:
        return []
    steps = invoicing_steps(structure)
    return steps if not all(step.done for step in steps) else []


async def editable_structure(user_id: int, structure_id: int) -> Structure:
    await require_manager(user_id, structure_id)
    return await Structure.objects().get(Structure.id == structure_id)


def form_of(structure: Structure) -> dict[str, str]:
    form = {name: getattr(structure, name) or "" for name in FIELDS}
    form["vat_franchise"] = "1" if structure.vat_franchise else ""
    return form


def _errors(data: dict[str, str], siren: str) -> dict[str, str]:
    errors: dict[str, str | None] = {}
    for name, (label, max_len, required) in TEXT_FIELDS.items():
        value = data.get(name, "").strip()
        if required and not value:
            errors[name] = f"{label} est obligatoire."
        elif len(value) > max_len:
            errors[name] = f"{label} est trop long ({max_len} caractères au plus)."
        else:  # printed on every invoice: never a character the PDF would show as a box
            errors[name] = unprintable_error(label, value)
    if data.get("postal_code", "").strip() and not errors.get("postal_code"):
        errors["postal_code"] = ids.postal_code_error(data["postal_code"])
    errors["vat_number"] = ids.vat_error(data.get("vat_number", ""), siren)
    errors["iban"] = ids.iban_error(data.get("iban", ""))
    errors["bic"] = ids.bic_error(data.get("bic", ""))
    contact = normalize_email(data.get("contact_email", ""))
    errors["contact_email"] = email_error(contact) if contact else None
    return {k: v for k, v in errors.items() if v}


async def update(structure: Structure, data: dict[str, str]) -> dict[str, str]:
    """Save the profile, or return the French errors by field and save nothing."""
    errors = _errors(data, structure.siren)
    if errors:
        return errors
    values = {getattr(Structure, name): data.get(name, "").strip() for name in TEXT_FIELDS}
    values |= {
        Structure.vat_number: ids.clean_vat(data.get("vat_number", "")),
        Structure.iban: ids.clean_iban(data.get("iban", "")),
        Structure.bic: ids.clean_bic(data.get("bic", "")),
        Structure.postal_code: ids.clean_postal_code(data.get("postal_code", "")),
        Structure.contact_email: normalize_email(data.get("contact_email", "")),
        Structure.vat_franchise: bool(data.get("vat_franchise")),  # a checkbox: absent when unticked
        Structure.search_key: search_key_for(data.get("name", ""), ids.clean_postal_code(data.get("postal_code", "")), data.get("city", "")),
        Structure.updated_at: utcnow(),
    }
    await Structure.update(values).where(Structure.id == structure.id)
    return {}
