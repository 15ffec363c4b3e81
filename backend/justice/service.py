"""Mémoires de frais de justice (framework A3): capture, sending, duplicate after refusal.

A mémoire is captured as a form (kept as typed in MemoireDraft.form): the juridiction, the
decision that ordered the mission (kind, reference, date, magistrate or officer), the mission
(dates, place), the lines (fees, travel, expenses, with quantities and units), the
attachments (the decision, receipts). Sending turns it into the same Factur-X EN 16931
PDF/A-3 as any capture (BT-23 = A3, the juridiction's service centralisateur in BT-10, the
decision and mission said in the note BT-22) and deposits it through the normal pipeline;
the deposit writes the Memoire row in its own transaction. From there it is an invoice:
the lifecycle's JUSTICE circuit, history, live pages, push, messages, API.

Rules said here, to people in French and to programs by code:
* justice_too_late: a mémoire is sent within one year of the end of the mission;
* a sent mémoire is never edited (its draft is gone; the JUSTICE circuit has no recycling);
* a refused mémoire is abandoned (ABANDONNEE) or duplicated (DUPLIQUEE): the duplicate is a
  new draft, prefilled, sent under a new number; both mémoires name each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import msgspec

from backend.directory import juridictions
from backend.directory.tables import Structure
from backend.invoices import capture, draft_files
from backend.invoices.deposit import Upload, attachment_type, deposit
from backend.invoices.generation import Problem
from backend.invoices.reissue import amount_text
from backend.invoices.tables import DepositItem, Invoice
from backend.justice.tables import JusticeSetting, Memoire, MemoireDraft, MemoireDraftAttachment
from backend.lib import heavy
from backend.lib.common import paris_today, utcnow
from backend.lib.formats import date_fr
from backend.processing import lifecycle

FRAMEWORK = "A3"
DECISION_KINDS = {"requisition": "Réquisition", "ordonnance": "Ordonnance", "proces_verbal": "Procès-verbal"}
LINE_KINDS = {"honoraires": "Honoraires", "deplacement": "Frais de déplacement", "frais": "Frais et débours"}
UNITS = {"HUR": "heure", "DAY": "jour", "KMT": "km", "C62": "unité", "E48": "forfait"}
VAT_RATES = ("20", "10", "5.5", "0")
TOP_FIELDS = ("juridiction_siret", "number", "decision_kind", "decision_reference", "decision_date", "decision_author",
              "mission_start", "mission_end", "mission_place", "note")
LINE_FIELDS = ("kind", "description", "quantity", "unit_code", "unit_price", "vat_rate")
MAX_LINES = 50
DEADLINE_YEARS = 1
PAYMENT_DAYS = 30
EXEMPTION = "VATEX-EU-79-C"  # a 0 % line: débours (art. 267 II-2° du CGI), the usual case for expenses


class JusticeError(Exception):
    """A refusal with its stable code, French message and HTTP status."""

    def __init__(self, code: str, message: str, http_status: int = 422, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status, self.problems = code, message, http_status, problems or []


# --- pure rules ---------------------------------------------------------------------------------

def send_deadline(mission_end: date) -> date:
    """The last day a mémoire may be sent: one year after the end of the mission (28 February
    for a mission ended on a 29 February)."""
    try:
        return mission_end.replace(year=mission_end.year + DEADLINE_YEARS)
    except ValueError:
        return mission_end.replace(year=mission_end.year + DEADLINE_YEARS, day=28)


def too_late_message(mission_end: date) -> str:
    return (f"La mission s'est terminée le {date_fr(mission_end)} : un mémoire de frais de justice s'envoie dans l'année "
            f"qui suit la fin de la mission, au plus tard le {date_fr(send_deadline(mission_end))}. Ce délai est dépassé : "
            "ce mémoire ne peut plus être envoyé.")


def is_too_late(mission_end: date, today: date) -> bool:
    return today > send_deadline(mission_end)


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def check_memoire(form: dict, today: date) -> list[Problem]:
    """What the justice part of the form lacks, field by field, in French (the one-year limit
    included, field mission_end)."""
    problems: list[Problem] = []
    add = lambda name, message: problems.append(Problem(name, message))  # noqa: E731
    if form.get("decision_kind") not in DECISION_KINDS:
        add("decision_kind", "Choisissez la nature de la décision : réquisition, ordonnance ou procès-verbal.")
    if not form.get("decision_reference"):
        add("decision_reference", "Indiquez la référence de la décision (n° de parquet, d'instruction, de procès-verbal…).")
    elif len(form["decision_reference"]) > 100:
        add("decision_reference", "La référence de la décision dépasse 100 caractères.")
    if not form.get("decision_author"):
        add("decision_author", "Indiquez le magistrat ou l'officier qui a pris la décision.")
    elif len(form["decision_author"]) > 200:
        add("decision_author", "Le nom du magistrat ou de l'officier dépasse 200 caractères.")
    decision, start, end = (_date(form.get(n, "")) for n in ("decision_date", "mission_start", "mission_end"))
    if decision is None:
        add("decision_date", "Indiquez la date de la décision.")
    elif decision > today:
        add("decision_date", "La date de la décision est dans le futur.")
    if start is None:
        add("mission_start", "Indiquez la date de début de la mission.")
    if end is None:
        add("mission_end", "Indiquez la date de fin de la mission.")
    if start and end and end < start:
        add("mission_end", "La fin de la mission précède son début.")
    if decision and start and start < decision:
        add("mission_start", "La mission commence avant la décision qui l'ordonne.")
    if end and end > today:
        add("mission_end", "La mission n'est pas terminée : le mémoire s'envoie une fois la mission achevée.")
    elif end and is_too_late(end, today):
        add("mission_end", too_late_message(end))
    if not form.get("mission_place"):
        add("mission_place", "Indiquez le lieu de la mission.")
    elif len(form["mission_place"]) > 200:
        add("mission_place", "Le lieu de la mission dépasse 200 caractères.")
    for index, line in enumerate(form.get("lines") or []):
        if line.get("kind") not in LINE_KINDS:
            add(f"lines[{index}].kind", f"Ligne {index + 1} : choisissez honoraires, déplacement ou frais.")
    return problems


def note_of(form: dict, vat_on_debits: bool) -> str:
    """BT-22: the decision and the mission, as the juridiction reads them on the PDF."""
    kind = DECISION_KINDS.get(form.get("decision_kind", ""), "Décision")
    decision, start, end = (_date(form.get(n, "")) for n in ("decision_date", "mission_start", "mission_end"))
    parts = [f"Mémoire de frais de justice. {kind} n° {form.get('decision_reference', '')}"
             + (f" du {date_fr(decision)}" if decision else "") + f", {form.get('decision_author', '')}.",
             "Mission" + (f" du {date_fr(start)} au {date_fr(end)}" if start and end else "") + f", {form.get('mission_place', '')}."]
    if vat_on_debits:
        parts.append("Option pour le paiement de la taxe d'après les débits.")
    if form.get("note"):
        parts.append(form["note"])
    return " ".join(parts)[:2000]


def invoice_form(form: dict, juridiction: dict | None, vat_on_debits: bool) -> dict:
    """The mémoire as the ordinary capture's form (backend/invoices/capture), framework A3."""
    lines = []
    for row in form.get("lines") or []:
        if not any(row.get(k) for k in ("description", "quantity", "unit_price")):
            continue
        kind = LINE_KINDS.get(row.get("kind", ""), "")
        zero = _is_zero(row.get("vat_rate", ""))
        lines.append({"description": f"{kind} : {row.get('description', '')}" if kind and row.get("description") else row.get("description", ""),
                      "quantity": row.get("quantity", ""), "unit_code": row.get("unit_code") or "C62",
                      "unit_price": row.get("unit_price", ""), "vat_rate": row.get("vat_rate", ""),
                      "exemption_code": EXEMPTION if zero else "", "exemption_reason": ""})
    return {name: "" for name in capture.TOP_FIELDS} | {
        "recipient_siret": juridiction["siret"] if juridiction else "", "service_code": juridiction["service_code"] if juridiction else "",
        "billing_framework": FRAMEWORK, "supply_nature": "services", "type_code": "380", "number": form.get("number", ""),
        "issue_date": paris_today().isoformat(), "note": note_of(form, vat_on_debits), "lines": lines,
        # BT-9: the State's délai global de paiement, 30 days (the juridiction's clock runs from reception).
        "due_date": (paris_today() + timedelta(days=PAYMENT_DAYS)).isoformat(),
    }


def _is_zero(rate: str) -> bool:
    try:
        return Decimal((rate or "").replace(",", ".")) == 0
    except (InvalidOperation, ArithmeticError):
        return False


def blank_line() -> dict:
    return {"kind": "honoraires", "description": "", "quantity": "1", "unit_code": "HUR", "unit_price": "", "vat_rate": "20"}


def form_from_post(data: dict[str, str]) -> dict:
    form = {name: (data.get(name) or "").strip()[:300] for name in TOP_FIELDS}
    form["note"] = (data.get("note") or "").strip()[:1000]
    lines = []
    for index in range(MAX_LINES):
        if not any(data.get(f"line-{index}-{name}") is not None for name in LINE_FIELDS):
            break
        lines.append({name: (data.get(f"line-{index}-{name}") or "").strip()[:300] for name in LINE_FIELDS})
    while len(lines) > 1 and not any(lines[-1][k] for k in ("description", "unit_price")):
        lines.pop()
    form["lines"] = lines or [blank_line()]
    return form


def decoded(stored: str | dict | None) -> dict:
    form = msgspec.json.decode(stored) if isinstance(stored, str) else dict(stored or {})
    form.setdefault("lines", [blank_line()])
    return form


# --- settings, drafts ---------------------------------------------------------------------------

async def vat_on_debits(structure_id: int) -> bool:
    row = await JusticeSetting.select(JusticeSetting.vat_on_debits).where(JusticeSetting.structure == structure_id).first()
    return bool(row and row["vat_on_debits"])


async def set_vat_on_debits(structure_id: int, value: bool) -> None:
    if await JusticeSetting.exists().where(JusticeSetting.structure == structure_id):
        await JusticeSetting.update({JusticeSetting.vat_on_debits: value}).where(JusticeSetting.structure == structure_id)
    else:
        await JusticeSetting.insert(JusticeSetting(structure=structure_id, vat_on_debits=value))


async def blank_form(structure_id: int) -> dict:
    return {name: "" for name in TOP_FIELDS} | {"number": await suggest_number(structure_id), "decision_kind": "ordonnance",
                                               "lines": [blank_line()]}


async def suggest_number(structure_id: int) -> str:
    """The structure's next mémoire number: MJ<year>-0001, then the last one plus one."""
    last = await Invoice.select(Invoice.number).where(
        (Invoice.supplier == structure_id) & (Invoice.billing_framework == FRAMEWORK)).order_by(Invoice.id, ascending=False).first()
    if last and (match := _TRAILING_DIGITS.match(last["number"])):
        prefix, digits = match.groups()
        return f"{prefix}{int(digits) + 1:0{len(digits)}d}"
    return f"MJ{paris_today().year}-0001"


_TRAILING_DIGITS = re.compile(r"^(.*?)(\d+)$")


async def new_draft(structure_id: int, user_id: int, form: dict | None = None, duplicated_from: int | None = None) -> int:
    draft = MemoireDraft(structure=structure_id, user=user_id, form=msgspec.json.encode(form or await blank_form(structure_id)).decode(),
                         duplicated_from=duplicated_from)
    await draft.save()
    return draft.id


async def draft_of(structure_id: int, draft_id: int) -> MemoireDraft:
    draft = await MemoireDraft.objects().get((MemoireDraft.id == draft_id) & (MemoireDraft.structure == structure_id))
    if draft is None:
        raise JusticeError("not_found", "Ce brouillon de mémoire n'existe pas ou a déjà été envoyé.", 404)
    return draft


async def save_draft(draft_id: int, form: dict) -> None:
    await MemoireDraft.update({MemoireDraft.form: msgspec.json.encode(form).decode(), MemoireDraft.updated_at: utcnow()}).where(
        MemoireDraft.id == draft_id)


async def drafts(structure_id: int) -> list[dict]:
    rows = await MemoireDraft.select().where(MemoireDraft.structure == structure_id).order_by(MemoireDraft.updated_at, ascending=False).limit(50)
    return [r | {"form": decoded(r["form"])} for r in rows]


# The photos and files chosen on the form are kept with the draft, as an invoice draft's.
DRAFT_FILES = draft_files.Holder(MemoireDraftAttachment, MemoireDraft)


async def draft_attachments(draft_id: int) -> list[dict]:
    return await draft_files.listed(draft_id, DRAFT_FILES)


async def keep_files(settings, draft_id: int, uploads: list[Upload]) -> list[Problem]:
    """The files just chosen join the draft (before anything is checked); why any was not, as problems."""
    return [Problem("attachment", refusal) for refusal in await draft_files.add(settings, draft_id, uploads, DRAFT_FILES)]


async def remove_file(draft_id: int, attachment_id: int) -> None:
    await draft_files.remove(draft_id, attachment_id, DRAFT_FILES)


# --- sending ------------------------------------------------------------------------------------

@dataclass
class Duplicating:
    """Who duplicates a refused mémoire through the API, and the version they read (409 if it changed)."""

    actor: lifecycle.Actor
    version: int | None = None


@dataclass
class Sent:
    invoice_id: int | None
    deposit_id: int | None
    problems: list[Problem] = field(default_factory=list)


async def send(settings, supplier: Structure, user_id: int | None, form: dict, uploads: list[Upload], *,
               duplicated_from: int | None = None, duplicating: Duplicating | None = None,
               caller: str, channel: str = "capture") -> Sent:
    """Checks the mémoire (justice rules, then the invoice's), builds its Factur-X and deposits
    it; the Memoire row is written in the deposit's transaction. Problems: nothing is written.
    `duplicating` (the API's duplicate): the refused mémoire `duplicated_from` becomes DUPLIQUEE
    in that same transaction (a draft's was already, when the draft was made)."""
    from backend.invoices.generation import AttachmentError, build_facturx  # loads the PDF renderer on first use

    today = paris_today()
    juridiction = await juridictions.by_siret(form.get("juridiction_siret", ""))
    problems = check_memoire(form, today)
    if juridiction is None:
        problems.insert(0, Problem("juridiction_siret", "Choisissez la juridiction nommée sur la décision."))
    debits = await vat_on_debits(supplier.id)
    recipient = await Structure.objects().get(Structure.siret == juridiction["siret"]) if juridiction else None
    invoice, invoice_problems = capture.to_invoice(invoice_form(form, juridiction, debits), supplier, recipient)
    problems += [p for p in invoice_problems if p.field != "recipient_siret"]
    if problems:
        return Sent(None, None, problems)
    assert invoice is not None
    files = [(u.filename, u.data, attachment_type(u.data)) for u in uploads]
    try:
        pdf = await heavy.run(caller, build_facturx, invoice, files)
    except AttachmentError as exc:
        return Sent(None, None, [Problem("attachment", str(exc))])
    end, start, decision = (_date(form[n]) for n in ("mission_end", "mission_start", "decision_date"))

    async def write_memoire(invoice_id: int) -> list[int]:
        events = []
        if duplicating is not None and duplicated_from is not None:
            events = await lifecycle.duplicated_within(duplicated_from, duplicating.actor, expected_version=duplicating.version)
        await Memoire.insert(Memoire(
            invoice=invoice_id, decision_kind=form["decision_kind"], decision_reference=form["decision_reference"][:100],
            decision_date=decision, decision_author=form["decision_author"][:200], mission_start=start, mission_end=end,
            mission_place=form["mission_place"][:200], vat_on_debits=debits, duplicated_from=duplicated_from,
        ))
        if duplicated_from is not None:
            await Memoire.update({Memoire.duplicate: invoice_id}).where(Memoire.invoice == duplicated_from)
        return events

    deposit_id = await deposit(settings, supplier, user_id, [Upload(f"{invoice.number}.pdf", pdf)], uploads,
                               channel=channel, caller=caller, memoire=write_memoire)
    item = await DepositItem.objects().where(DepositItem.deposit == deposit_id).first()
    return Sent(item.invoice if item.accepted else None, deposit_id)


async def send_draft(settings, supplier: Structure, user_id: int, draft: MemoireDraft, form: dict, uploads: list[Upload]) -> Sent:
    """Saves the form and keeps the files it carries with the draft first, so a refused send keeps
    both; sends the draft's files (those kept earlier too)."""
    await save_draft(draft.id, form)
    if refusals := await keep_files(settings, draft.id, uploads):
        return Sent(None, None, refusals)
    uploads = await draft_files.uploads_of(settings, draft.id, DRAFT_FILES)
    sent = await send(settings, supplier, user_id, form, uploads, duplicated_from=draft.duplicated_from, caller=f"user:{user_id}")
    if sent.invoice_id is not None:
        await MemoireDraft.delete().where(MemoireDraft.id == draft.id)
    return sent


# --- after a refusal ----------------------------------------------------------------------------

async def duplicable(invoice_id: int, supplier_id: int) -> Invoice:
    """The supplier's refused mémoire, before its duplicate is built (the status change itself is
    checked again in the duplicate's transaction)."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or invoice.billing_framework != FRAMEWORK or invoice.supplier != supplier_id:
        raise JusticeError("not_found", "Ce mémoire n'existe pas ou n'est pas visible avec cette clé.", 404)
    if invoice.status == lifecycle.DUPLICATE:
        raise JusticeError("justice_already_duplicated", "Ce mémoire a déjà été dupliqué : envoyez ou complétez son duplicata.", 409)
    if invoice.status != "REJETEE":
        raise JusticeError("justice_not_refused", "Seul un mémoire refusé par la juridiction se duplique.", 409)
    return invoice


async def duplicate(invoice_id: int, actor: lifecycle.Actor, expected_version: int | None) -> int:
    """The refused mémoire becomes "dupliqué après refus" and a new draft, prefilled with it under a
    new number, is made in the same transaction; returns the draft's id."""
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None or invoice.billing_framework != FRAMEWORK:
        raise lifecycle.NOT_FOUND
    made: list[int] = []

    async def make_draft() -> None:
        made.append(await new_draft(invoice.supplier, actor.user_id, await form_of(invoice), duplicated_from=invoice.id))

    await lifecycle.change_status(invoice.id, actor, lifecycle.DUPLICATE, expected_version=expected_version, within=make_draft)
    return made[0]


async def form_of(invoice: Invoice) -> dict:
    """A sent mémoire as a capture form, under a new number (for its duplicate)."""
    memoire = await Memoire.objects().get(Memoire.invoice == invoice.id)
    recipient = await Structure.objects().get(Structure.id == invoice.recipient)
    data = msgspec.json.decode(invoice.data) if isinstance(invoice.data, str) else dict(invoice.data or {})
    lines = []
    for line in (data.get("lines") or [])[:MAX_LINES]:
        name = line.get("name") or ""
        kind = next((k for k, text in LINE_KINDS.items() if name.startswith(f"{text} : ")), "honoraires")
        lines.append({"kind": kind, "description": name.removeprefix(f"{LINE_KINDS[kind]} : ")[:300],
                      "quantity": amount_text(line.get("quantity")) or "1", "unit_code": line.get("unit") if line.get("unit") in UNITS else "C62",
                      "unit_price": amount_text(line.get("net_price")), "vat_rate": amount_text(line.get("vat_rate")) or "0"})
    number = await suggest_number(invoice.supplier)
    form = {name: "" for name in TOP_FIELDS} | {"juridiction_siret": recipient.siret if recipient else "",
                                               "number": "" if number == invoice.number else number, "lines": lines or [blank_line()]}
    if memoire is not None:
        form |= {"decision_kind": memoire.decision_kind, "decision_reference": memoire.decision_reference,
                 "decision_date": memoire.decision_date.isoformat(), "decision_author": memoire.decision_author,
                 "mission_start": memoire.mission_start.isoformat(), "mission_end": memoire.mission_end.isoformat(),
                 "mission_place": memoire.mission_place}
    return form


# --- reading ------------------------------------------------------------------------------------

async def memoire_view(invoice: Invoice) -> dict | None:
    """What the mémoire adds to its invoice page and API answer: decision, mission, links."""
    row = await Memoire.objects().get(Memoire.invoice == invoice.id)
    if row is None:
        return None
    links = {}
    for name, other in (("duplicated_from", row.duplicated_from), ("duplicate", row.duplicate)):
        if other:
            target = await Invoice.select(Invoice.id, Invoice.number).where(Invoice.id == other).first()
            links[name] = target
    draft = None
    if invoice.status == lifecycle.DUPLICATE and not row.duplicate:
        draft = await MemoireDraft.select(MemoireDraft.id).where(MemoireDraft.duplicated_from == invoice.id).first()
    return {"decision_kind": row.decision_kind, "decision_kind_label": DECISION_KINDS.get(row.decision_kind, row.decision_kind),
            "decision_reference": row.decision_reference, "decision_date": row.decision_date,
            "decision_author": row.decision_author, "mission_start": row.mission_start, "mission_end": row.mission_end,
            "mission_place": row.mission_place, "vat_on_debits": row.vat_on_debits,
            "send_deadline": send_deadline(row.mission_end),
            "duplicated_from": links.get("duplicated_from"), "duplicate": links.get("duplicate"),
            "duplicate_draft_id": draft["id"] if draft else None}


async def memoires_of(structure_id: int, side: str, limit: int = 100) -> list[dict]:
    """The structure's mémoires, newest first: sent (side "supplier") or received ("recipient")."""
    column = Invoice.supplier if side == "supplier" else Invoice.recipient
    return await Invoice.select(
        Invoice.id, Invoice.number, Invoice.status, Invoice.status_code, Invoice.total_incl_vat, Invoice.deposited_at,
        Invoice.supplier.name, Invoice.recipient.name,
    ).where((column == structure_id) & (Invoice.billing_framework == FRAMEWORK)).order_by(Invoice.id, ascending=False).limit(limit)
