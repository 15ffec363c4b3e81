"""A deposit (flux): validate every file, apply the portal rules, store, and record it all at once.

Order matters for "nothing half-written": files are validated first (no I/O), the
accepted ones are written to the content-addressed store, then one database transaction
records the deposit, its report and the invoices. A crash before the commit leaves only
unreferenced blobs, never an invoice without its file.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from collections.abc import Awaitable, Callable

import anyio
import msgspec

from backend.lib.common import utcnow
from backend.lib.db import insert_rows, is_unique_violation, retrying, transaction
from backend.lib import heavy
from backend.lib.effects import note_committed
from backend.directory.tables import Structure
from backend.invoices import portal_rules, storage
from backend.invoices.statuses import STATUSES
from backend.invoices.tables import Attachment, Deposit, DepositItem, Invoice, InvoiceHistory
from backend.invoices.validation import Finding, ValidationResult, incomplete_profile_finding, validate_bytes
from backend.invoices.zipflux import is_zip, open_flux
from backend.lib.uploads import Upload  # noqa: F401 — what deposit() takes, re-exported for its callers
from backend.processing.reasons import deposit_refusal
from backend.processing import frameworks, lifecycle
from backend.processing import worker as outbox_worker
from backend.processing.tables import Outbox
from backend.settings import Settings
from backend.tracking.events import publish, record_event

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 10
ATTACHMENT_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
MEDIA_TYPES = {"facturx-pdf": "application/pdf", "cii-xml": "application/xml", "ubl-xml": "application/xml"}


@dataclass
class Item:
    """One invoice file of the flux and everything learnt about it."""

    position: int
    filename: str
    data: bytes | None
    result: ValidationResult | None = None
    findings: list[Finding] = field(default_factory=list)
    routing: portal_rules.Routing | None = None

    @property
    def accepted(self) -> bool:
        return self.data is not None and not any(f.severity == "fatal" for f in self.findings)


class DepositRefused(Exception):
    """The request itself is unusable (no file at all): a 4xx for the caller."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _expand(uploads: list[Upload], settings: Settings) -> list[Item]:
    """ZIP fluxes become their entries; everything else is one item."""
    items: list[Item] = []
    for upload in uploads:
        if not is_zip(upload.data):
            items.append(Item(len(items), upload.filename, upload.data))
            continue
        flux = open_flux(upload.data, settings.max_file_size, settings.max_flux_size)
        if flux.refusal:
            items.append(Item(len(items), upload.filename, None, findings=[flux.refusal]))
        for entry in flux.entries:
            items.append(Item(len(items), entry.name, entry.data, findings=list(entry.findings)))
    return items


async def _validate(item: Item, settings: Settings, strict_fr: bool, caller: str | None) -> None:
    if item.data is None:
        return
    check = partial(validate_bytes, item.data, item.filename, strict_fr=strict_fr, max_size=settings.max_file_size)
    if len(item.data) >= heavy.LARGE_FILE:  # bounded with the other heavy work, so it cannot crowd the process
        item.result = await heavy.run(caller, check)
    else:
        item.result = await anyio.to_thread.run_sync(check)  # XSD and XSLT are CPU-bound
    item.findings += item.result.findings


async def _apply_portal_rules(items: list[Item], depositor: Structure, validators: portal_rules.Validators | None = None,
                              memoire: bool = False) -> None:
    seen: set[tuple[str, int]] = set()
    for item in items:
        if item.result is not None and item.result.profile in portal_rules.INCOMPLETE_PROFILES:
            # Said even when the file has other faults: the first thing to change is the profile.
            item.findings.append(incomplete_profile_finding(item.result.profile))
            continue
        if not item.accepted or item.result is None or item.result.invoice is None:
            continue
        findings, routing = await portal_rules.check(item.result.invoice, depositor, validators, memoire=memoire)
        key = (item.result.invoice.number or "", routing.year or 0)
        if not findings and key in seen:  # the same number twice in one flux
            findings = [portal_rules.finding("FCT-PORTAL-10", "BT-1", number=key[0], year=key[1])]
        seen.add(key)
        item.findings += findings
        item.routing = routing


def _attachment_findings(attachments: list[Upload], invoice_count: int, max_size: int) -> list[Finding]:
    def refuse(message: str, name: str | None = None) -> Finding:
        return Finding(rule="FCT-PORTAL-14", severity="fatal", stage="portal", message=message, location=name)

    if not attachments:
        return []
    if invoice_count != 1:
        return [refuse("Les pièces jointes ne peuvent accompagner qu'une seule facture : déposez chaque facture avec ses pièces séparément.")]
    if len(attachments) > MAX_ATTACHMENTS:
        return [refuse(f"Trop de pièces jointes ({len(attachments)}) : {MAX_ATTACHMENTS} au plus par facture.")]
    # Names first: Chorus Pro refuses a name longer than 50 characters (FCT-PORTAL-20).
    findings = portal_rules.attachment_name_findings([a.filename for a in attachments if a.filename])
    for a in attachments:
        if len(a.data) > max_size:
            findings.append(refuse(f"La pièce jointe « {a.filename} » dépasse {max_size // (1024 * 1024)} Mo.", a.filename))
        elif attachment_type(a.data) is None:
            findings.append(refuse(f"La pièce jointe « {a.filename} » n'est ni un PDF, ni une image JPEG ou PNG.", a.filename))
    return findings


def attachment_type(data: bytes) -> str | None:
    return next((media for magic, media in ATTACHMENT_TYPES.items() if data.startswith(magic)), None)


def deposit_state(accepted: int, total: int) -> str:
    if accepted == total and total:
        return "IN_INTEGRE"
    return "IN_INTEGRE_PARTIEL" if accepted else "IN_REJETE"


async def deposit(
    settings: Settings,
    depositor: Structure,
    user_id: int | None,
    uploads: list[Upload],
    attachments: list[Upload] | None = None,
    *,
    channel: str = "web",
    strict_fr: bool = False,
    idempotency_key: str | None = None,
    caller: str | None = None,
    validators: portal_rules.Validators | None = None,
    memoire: Callable[[int], Awaitable[list[int] | None]] | None = None,
) -> int:
    """Validate and record a flux; returns the deposit id (its report is in DepositItem rows).
    `caller` (an API key, a user) is whom the bounds on heavy work count large files against.
    `memoire`: the file is a mémoire de frais de justice captured by backend/justice (A3 is taken
    only then, to a juridiction); it is called with the new invoice's id in the deposit's
    transaction, to write what the mémoire adds (decision, mission), so both are saved or neither;
    it returns the tracking events it recorded (a duplicate's refused mémoire), published after the commit."""
    if not uploads:
        raise DepositRefused("no_file", "Aucun fichier n'a été envoyé : choisissez au moins une facture.")
    attachments = attachments or []
    items = _expand(uploads, settings)
    for item in items:
        await _validate(item, settings, strict_fr, caller)
    await _apply_portal_rules(items, depositor, validators, memoire is not None)
    if attachment_findings := _attachment_findings(attachments, len(items), settings.max_file_size):
        items[0].findings += attachment_findings
    for attempt in (1, 2):
        try:
            return await retrying(lambda: _record(settings, depositor, user_id, items, attachments, channel, idempotency_key, memoire))
        except Exception as exc:  # a concurrent deposit took the same number: check again, once
            if attempt == 2 or not is_unique_violation(exc):
                raise
            for item in items:
                item.findings = [f for f in item.findings if f.stage != "portal"]
            await _apply_portal_rules(items, depositor, validators, memoire is not None)
    raise AssertionError("unreachable")


async def _record(settings, depositor, user_id, items, attachments, channel, idempotency_key=None, memoire=None) -> int:
    digests = {}
    for item in items:
        if item.accepted:
            digests[item.position] = await storage.write_blob(settings, item.data)
    stored_attachments = [(a, await storage.write_blob(settings, a.data)) for a in attachments] if any(i.accepted for i in items) else []
    accepted = sum(1 for i in items if i.accepted)
    received: list[tuple[int, Item]] = []
    to_validate: list[int] = []
    memoire_events: list[int] = []
    async with transaction():
        # Rows written with SQL built once per process (db.insert_rows): Piccolo built each insert
        # anew, about 4 ms of CPU per deposited invoice, more than the statements' round trips.
        [deposit_id] = await insert_rows(Deposit, dict(
            structure=depositor.id, user=user_id, channel=channel, state=deposit_state(accepted, len(items)),
            file_count=len(items), accepted_count=accepted, rejected_count=len(items) - accepted,
            idempotency_key=idempotency_key,
        ))
        await note_committed("deposit", deposit_id)
        for item in items:
            invoice_id = None
            file_id = None
            if item.accepted:
                file_id = await storage.file_row(digests[item.position], len(item.data), MEDIA_TYPES[item.result.format])
                invoice_id = await _create_invoice(deposit_id, depositor, user_id, item, file_id)
                if memoire is not None:
                    memoire_events += await memoire(invoice_id) or []
                if item.routing.validators[0] is not None:  # the validator first; the recipient after
                    to_validate.append(invoice_id)
                else:
                    received.append((invoice_id, item))
                    await insert_rows(Outbox, _received_webhook(invoice_id, depositor.id, item))
                for upload, digest in stored_attachments:
                    await _attach(invoice_id, upload, digest)
            await insert_rows(DepositItem, dict(
                deposit=deposit_id, position=item.position, filename=item.filename[:255], file=file_id,
                format=item.result.format if item.result else "unsupported",
                profile=item.result.profile if item.result else None,
                accepted=item.accepted, status_code=_status_code(item),
                invoice=invoice_id,
                invoice_number=_report_number(item),
                findings=msgspec.json.encode(item.findings).decode(),
            ))
        # Last, as record_event asks: from here to the commit, event writers go one at a time.
        event_ids = memoire_events + [await _received_event(invoice_id, depositor.id, item) for invoice_id, item in received]
        for invoice_id in to_validate:
            event_ids += await lifecycle.deposited_for_validation(invoice_id)
    await publish(event_ids)  # after the commit: both sides' live lists show the new invoice
    if event_ids or to_validate:
        outbox_worker.wake()  # the recipient's webhooks hear of it now
    return deposit_id


def _status_code(item: Item) -> str:
    """200 Déposée; else 213 Rejetée, or 501 Irrecevable for a file not readable as an invoice."""
    if item.accepted:
        return STATUSES["DEPOSEE"].code_2026
    return deposit_refusal([f.rule for f in item.findings if f.severity == "fatal"])[0]


def _report_number(item: Item) -> str:
    """The number as the report shows it; a refused over-long one is marked as shortened."""
    number = (item.result.invoice.number or "") if item.result and item.result.invoice else ""
    return number if len(number) <= 100 else number[:99] + "…"


async def _received_event(invoice_id: int, supplier_id: int, item: Item) -> int:
    status = "MISE_A_DISPOSITION"
    return await record_event(
        "invoice.received", invoice_id=invoice_id, supplier_id=supplier_id, recipient_id=item.routing.recipient.id,
        payload={"number": (item.result.invoice.number or "")[:100], "status": status,
                 "status_code": STATUSES[status].code_2026, "label": STATUSES[status].label, "version": 1},
    )


def _received_webhook(invoice_id: int, supplier_id: int, item: Item) -> dict:
    """The outbox row of the recipient's "invoice.received" webhooks, written with the invoice."""
    now, status = utcnow(), "MISE_A_DISPOSITION"
    recipient_id = item.routing.recipient.id
    payload = {
        "event": "invoice.received", "invoice_id": invoice_id, "number": (item.result.invoice.number or "")[:100],
        "supplier_id": supplier_id, "recipient_id": recipient_id, "audience": {"structure_id": recipient_id},
        "status": status, "status_code": STATUSES[status].code_2026, "version": 1, "occurred_at": now.isoformat(),
    }
    return dict(event_type="invoice.received", channel="webhook", invoice=invoice_id,
                payload=msgspec.json.encode(payload).decode(), created_at=now, next_attempt_at=now)


def _certificate_number() -> str:
    return f"AD{utcnow():%Y%m%d}-{secrets.token_hex(4).upper()}"


async def _create_invoice(deposit_id: int, depositor: Structure, user_id: int | None, item: Item, file_id: int) -> int:
    inv = item.result.invoice
    totals = inv.totals
    validator_1, validator_2 = item.routing.validators
    # A subcontractor's or co-contractor's invoice waits for its validator (the lifecycle's
    # validation circuit): the recipient receives it, and its payment delay runs, only after.
    status = "A_VALIDER_1" if validator_1 is not None else "MISE_A_DISPOSITION"
    payment_due_by = lifecycle.reception_due_by(item.routing.recipient, utcnow()) if validator_1 is None else None
    [invoice_id] = await insert_rows(Invoice, dict(
        supplier=depositor.id, recipient=item.routing.recipient.id, deposit=deposit_id, original_file=file_id,
        original_name=item.filename[:255], format=item.result.format, profile=item.result.profile,
        number=inv.number[:100], number_year=item.routing.year, type_code=(inv.type_code or "380")[:3],
        issue_date=date.fromisoformat(inv.issue_date), due_date=_date_or_none(inv.due_date),
        currency=(inv.currency or "EUR")[:3], service_code=(inv.buyer_reference or "")[:100],
        engagement=(inv.purchase_order or "")[:50], billing_framework=_framework(inv.business_process),
        seller_siret=inv.seller.siret or "", buyer_siret=inv.buyer.siret or "",
        seller_name=(inv.seller.name or "")[:255], buyer_name=(inv.buyer.name or "")[:255],
        total_excl_vat=_value(totals.tax_exclusive), total_vat=_value(totals.tax),
        total_incl_vat=_value(totals.tax_inclusive), amount_due=_value(totals.payable),
        data=msgspec.json.encode(inv).decode(), status=status,
        status_code=STATUSES[status].code_2026, certificate_number=_certificate_number(),
        payment_due_by=payment_due_by, validator_1=validator_1, validator_2=validator_2,
    ))
    await insert_rows(InvoiceHistory, *(  # one statement for both rows
        dict(invoice=invoice_id, status=status, status_code=STATUSES[status].code_2026, actor_kind=actor_kind, actor=actor)
        for status, actor_kind, actor in (("DEPOSEE", "supplier", user_id), (status, "platform", None))
    ))
    if validator_1 is None:
        await lifecycle.received(invoice_id, payment_due_by)  # the payment delay runs from now
    return invoice_id


async def _attach(invoice_id: int, upload: Upload, digest: str) -> None:
    media_type = attachment_type(upload.data) or "application/octet-stream"
    file_id = await storage.file_row(digest, len(upload.data), media_type)
    await Attachment.insert(Attachment(invoice=invoice_id, file=file_id, filename=upload.filename[:255], media_type=media_type, role="supporting"))


def _value(amount) -> object:
    return amount.value if amount is not None and amount.value is not None else 0


def _date_or_none(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _framework(business_process: str | None) -> str:
    """BT-23 carries the Chorus Pro billing framework (A1, A2, …) when the supplier set one;
    an accepted file names an enabled one (portal rule FCT-PORTAL-17)."""
    return frameworks.code_of(business_process) or frameworks.DEFAULT
