"""Capture (saisie) on the phone: drafts saved as typed, totals while typing, then a Factur-X.

The form is kept as the user typed it (strings) in InvoiceDraft.form, so a draft can be
resumed on another device exactly as it was left. Only "Valider et envoyer" turns it into
a CapturedInvoice, a Factur-X EN 16931 PDF, and a deposit through the normal pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from backend.lib.common import paris_today, utcnow
from backend.directory.tables import Service, Structure
from backend.invoices.generation import Address, Buyer, CapturedInvoice, InvoiceLine, Problem, Seller, check_invoice, draft_totals
from backend.invoices.generation.model import EXEMPTION_REASONS, FRANCHISE_CODE
from backend.invoices.tables import Invoice, InvoiceDraft

# exemption_code: the VATEX code chosen for a 0 % line; exemption_reason: the free text of
# forms made before the list (drafts and pages kept on a device), read when no code is given.
LINE_FIELDS = ("description", "quantity", "unit_code", "unit_price", "vat_rate", "exemption_code", "exemption_reason")
TOP_FIELDS = ("recipient_siret", "recipient_name", "service_code", "engagement", "billing_framework", "supply_nature", "type_code",
              "preceding_invoice_number", "number", "issue_date", "due_date", "note",
              "validator_siret", "validator_2_siret")  # A9/A12: who validates (not in the CII; given to the deposit)
MAX_LINES = 200
VAT_RATES = ("20", "10", "5.5", "2.1", "0")
# What the invoice bills: it picks B (biens), S (services) or M (les deux) in the reform's BT-23 code.
SUPPLY_NATURES = {"services": "Services", "goods": "Biens", "mixed": "Biens et services"}
UNITS = {"C62": "unité", "HUR": "heure", "DAY": "jour", "KGM": "kg", "MTR": "mètre", "MTK": "m²", "LTR": "litre", "E48": "forfait",
         "KMT": "km"}


def form_from_post(data: dict[str, str]) -> dict:
    """The draft as typed: top fields and the rows of lines (empty trailing rows dropped)."""
    form = {name: data.get(name, "").strip()[:300] for name in TOP_FIELDS}
    lines = []
    for index in range(MAX_LINES):
        row = {name: data.get(f"line-{index}-{name}", "").strip()[:300] for name in LINE_FIELDS}
        if not any(data.get(f"line-{index}-{name}") is not None for name in LINE_FIELDS):
            break
        lines.append(row)
    while len(lines) > 1 and not any(lines[-1][k] for k in ("description", "quantity", "unit_price")):
        lines.pop()
    form["lines"] = lines or [blank_line()]
    return form


def blank_line(franchise: bool = False) -> dict:
    """A new line: 20 %, or for a structure under the VAT franchise 0 % with that reason."""
    if franchise:
        return {"description": "", "quantity": "1", "unit_code": "C62", "unit_price": "", "vat_rate": "0",
                "exemption_code": FRANCHISE_CODE, "exemption_reason": ""}
    return {"description": "", "quantity": "1", "unit_code": "C62", "unit_price": "", "vat_rate": "20",
            "exemption_code": "", "exemption_reason": ""}


async def under_franchise(structure_id: int) -> bool:
    """The structure's profile says it is under the VAT franchise (art. 293 B du CGI)."""
    row = await Structure.select(Structure.vat_franchise).where(Structure.id == structure_id).first()
    return bool(row and row["vat_franchise"])


def exemption_code(row: dict) -> str:
    """The line's VATEX code: the one chosen, else the one whose mention was typed (older forms)."""
    code = (row.get("exemption_code") or "").strip()
    if code:
        return code
    typed = (row.get("exemption_reason") or "").strip().casefold()
    return next((c for c, text in EXEMPTION_REASONS.items() if typed and text.casefold() == typed), "")


def decoded(stored: str | dict | None) -> dict:
    """A draft's form from its JSON column (text on SQLite, decoded on PostgreSQL)."""
    form = msgspec.json.decode(stored) if isinstance(stored, str) else dict(stored or {})
    form.setdefault("lines", [blank_line()])
    for line in form["lines"]:  # drafts typed before the list of reasons: their mention, as a code
        if isinstance(line, dict) and "exemption_code" not in line:
            line["exemption_code"] = exemption_code(line)
    return form


def live_totals(form: dict):
    rows = [{"quantity": r["quantity"], "unit_price": r["unit_price"], "vat_rate": r["vat_rate"],
             "vat_category": _category(r), "description": r["description"],
             "exemption_reason": EXEMPTION_REASONS.get(exemption_code(r), ""), "exemption_reason_code": exemption_code(r)}
            for r in form["lines"]]
    return draft_totals(rows, already_paid=form.get("billing_framework") == "A2")


def _category(row: dict) -> str | None:
    return "E" if _is_zero(row.get("vat_rate", "")) else None


def _is_zero(rate: str) -> bool:
    try:
        return Decimal(rate.replace(",", ".")) == 0
    except ArithmeticError:
        return False


async def blank_form(structure_id: int) -> dict:
    return {name: "" for name in TOP_FIELDS} | {
        "billing_framework": "A1", "supply_nature": "services", "type_code": "380", "issue_date": paris_today().isoformat(),
        "number": await suggest_number(structure_id), "lines": [blank_line(await under_franchise(structure_id))],
    }


async def new_draft(structure_id: int, user_id: int) -> int:
    draft = InvoiceDraft(structure=structure_id, user=user_id, form=msgspec.json.encode(await blank_form(structure_id)).decode())
    await draft.save()
    return draft.id


# --- the ready draft: "Nouvelle facture" with no network --------------------------------------
# A draft is made by the server, so a phone with no signal cannot start one. Each person
# therefore has, per structure, one blank draft made in advance while online: the capture
# page names it and the service worker stores its page, so that offline "Nouvelle facture"
# opens it and the offline capture (local copy, queued send) works as for any draft. It is
# "ready" while never saved (created_at == updated_at, set together) and still blank; the
# first save (autosave, a line, a recipient) makes it an ordinary draft, and the next visit
# online prepares another. Ready drafts are not listed: there is nothing in them to resume.

def is_ready(draft: dict | InvoiceDraft) -> bool:
    row = draft if isinstance(draft, dict) else draft.to_dict()
    form = decoded(row["form"])
    untouched = row["created_at"] == row["updated_at"]
    blank = not form.get("recipient_siret") and all(not (line.get("description") or line.get("unit_price")) for line in form["lines"])
    return untouched and blank


async def ready_draft(structure_id: int, user_id: int) -> int:
    """This person's ready draft for the structure, made now if needed; its number and date
    are brought up to date at each call (another invoice may have taken the number)."""
    untouched = await InvoiceDraft.select().where(
        (InvoiceDraft.structure == structure_id) & (InvoiceDraft.user == user_id) & (InvoiceDraft.created_at == InvoiceDraft.updated_at)
    ).order_by(InvoiceDraft.id, ascending=False)
    ready = [d for d in untouched if is_ready(d)]
    now = utcnow()
    form = await blank_form(structure_id)
    encoded = msgspec.json.encode(form).decode()
    if not ready:
        draft = InvoiceDraft(structure=structure_id, user=user_id, form=encoded, created_at=now, updated_at=now)
        await draft.save()
        return draft.id
    if extra := [d["id"] for d in ready[1:]]:  # two tabs opened together made two: one is enough
        await InvoiceDraft.delete().where(InvoiceDraft.id.is_in(extra))
    if decoded(ready[0]["form"]) != form:  # most visits: same number, same day, nothing to write
        # Only while still untouched: a save that arrived since must not be overwritten.
        await InvoiceDraft.update({InvoiceDraft.form: encoded, InvoiceDraft.created_at: now, InvoiceDraft.updated_at: now}).where(
            (InvoiceDraft.id == ready[0]["id"]) & (InvoiceDraft.created_at == InvoiceDraft.updated_at)
        )
    return ready[0]["id"]


async def save_draft(draft_id: int, form: dict) -> None:
    await InvoiceDraft.update({InvoiceDraft.form: msgspec.json.encode(form).decode(), InvoiceDraft.updated_at: utcnow()}).where(
        InvoiceDraft.id == draft_id
    )


_TRAILING_DIGITS = re.compile(r"^(.*?)(\d+)$")


async def suggest_number(structure_id: int) -> str:
    """The next number of the structure's sequence: the last invoice's number plus one."""
    last = await Invoice.select(Invoice.number).where(Invoice.supplier == structure_id).order_by(Invoice.id, ascending=False).first()
    if last and (match := _TRAILING_DIGITS.match(last["number"])):
        prefix, digits = match.groups()
        return f"{prefix}{int(digits) + 1:0{len(digits)}d}"
    return f"F{paris_today().year}-0001"


@dataclass
class Recipient:
    structure: Structure
    services: list[dict]


async def recipient_of(form: dict) -> Recipient | None:
    siret = form.get("recipient_siret", "")
    if not siret:
        return None
    structure = await Structure.objects().get((Structure.siret == siret) & (Structure.is_public == True))  # noqa: E712
    if structure is None:
        return None
    services = await Service.select(Service.code, Service.name, Service.requires_engagement).where(
        (Service.structure == structure.id) & (Service.active == True)  # noqa: E712
    ).order_by(Service.code)
    return Recipient(structure, services)


def _address(structure: Structure) -> dict:
    return {"line1": structure.address_line1 or "", "postal_code": structure.postal_code or "", "city": structure.city or "", "country": structure.country or "FR"}


def to_invoice(form: dict, supplier: Structure, recipient: Structure | None) -> tuple[CapturedInvoice | None, list[Problem]]:
    """The CapturedInvoice, or the French problems (by field) that stop it."""
    if recipient is None:
        return None, [Problem("recipient_siret", "Choisissez l'entité publique destinataire dans l'annuaire.")]
    raw = {
        "number": form.get("number") or "", "issue_date": form.get("issue_date") or "",
        "type_code": form.get("type_code") or "380", "billing_framework": form.get("billing_framework") or "A1",
        "supply_nature": form.get("supply_nature") or "services",
        "service_code": form.get("service_code") or None, "engagement": form.get("engagement") or None,
        "due_date": form.get("due_date") or None, "note": form.get("note") or None,
        "preceding_invoice_number": form.get("preceding_invoice_number") or None if form.get("type_code") == "381" else None,
        "seller": {"name": supplier.name, "siret": supplier.siret, "address": _address(supplier),
                   "vat_id": supplier.vat_number or None, "iban": supplier.iban or None, "bic": supplier.bic or None,
                   "email": supplier.contact_email or None},
        "buyer": {"name": recipient.name, "siret": recipient.siret, "address": _address(recipient)},
        "lines": [_line(row) for row in form["lines"] if any(row[k] for k in ("description", "quantity", "unit_price"))],
    }
    try:
        invoice = msgspec.convert(raw, CapturedInvoice, strict=False)
    except msgspec.ValidationError as exc:
        return None, [Problem(_field_of(str(exc)), _french(str(exc)))]
    return invoice, _reason_to_choose(check_invoice(invoice))


def _reason_to_choose(problems: list[Problem]) -> list[Problem]:
    """A 0 % line without a reason: one request to choose it in the list, not the model's two
    (mention, code), which speak of what the list fills in by itself."""
    unchosen = {p.field.rsplit(".", 1)[0] for p in problems if p.field.endswith(".exemption_reason_code") and p.message.startswith("Indiquez")}
    if not unchosen:
        return problems
    kept = [p for p in problems if p.field.rsplit(".", 1)[0] not in unchosen or not p.message.startswith("Indiquez")]
    return kept + [Problem(f"{where}.exemption_code", f"Ligne {int(where[6:-1]) + 1} : choisissez le motif d'exonération de TVA (taux 0 %).")
                   for where in sorted(unchosen)]


def _line(row: dict) -> dict:
    line = {"description": row["description"], "quantity": row["quantity"].replace(",", ".") or "0",
            "unit_price": row["unit_price"].replace(",", ".") or "0", "vat_rate": row["vat_rate"].replace(",", ".") or "0",
            "unit_code": row.get("unit_code") or "C62"}
    if _is_zero(row["vat_rate"]):
        code = exemption_code(row)
        line |= {"vat_category": "E", "exemption_reason_code": code or None,
                 "exemption_reason": EXEMPTION_REASONS.get(code) or row.get("exemption_reason") or None}
    return line


_PATH = re.compile(r"at `\$\.([^`]+)`")


def _field_of(message: str) -> str:
    match = _PATH.search(message)
    return match.group(1) if match else "form"


_LONGEST = re.compile(r"length <= ([0-9]+)")


def _french(message: str) -> str:
    """msgspec's decoding errors, said in French for the few shapes a form can produce."""
    field = _field_of(message)
    labels = {"number": "Le numéro de facture", "issue_date": "La date d'émission", "due_date": "La date d'échéance",
              "engagement": "Le numéro d'engagement", "seller.address.line1": "L'adresse de votre structure (profil)",
              "seller.address.city": "La ville de votre structure (profil)", "seller.address.postal_code": "Le code postal de votre structure (profil)",
              "buyer.address": "L'adresse de l'entité destinataire (annuaire)", "seller.name": "La raison sociale de votre structure (profil)",
              "lines": "Les lignes", "supply_nature": "La nature de ce qui est facturé (biens, services)"}
    label = next((v for k, v in labels.items() if field.startswith(k)), "Ce champ")
    if "length" in message and ">=" in message:
        return f"{label} est obligatoire."
    if longest := _LONGEST.search(message):
        return f"{label} dépasse {longest.group(1)} caractères : raccourcissez-le."
    if "pattern" in message:
        return f"{label} contient des caractères non acceptés (lettres, chiffres, + - _ / seulement)."
    if "date" in message.lower():
        return f"{label} n'est pas une date valide."
    return f"{label} n'est pas valide."
