"""Messages (sollicitations): the thread of an invoice between its supplier and its recipient.

The same machinery serves questions (backend/messages/questions.py), threads a supplier
starts with a public structure without an invoice: an `Anchor` says what a thread hangs on
(the `invoice` or `thread` column), and posting, read markers and reading are written once.

Who may read and write: an active member, with the consult right, of the invoice's
supplier or recipient structure; anyone else gets "not found" (nothing leaks). A user
writes for one side: the structure they act for when it is a side of the invoice,
otherwise the side they belong to.

Posting follows the deposit's order for "nothing half-written": input checked first (no
I/O), files written to the content-addressed store, then one transaction inserts the
message, its attachments, the author's read marker, the outbox rows that notify the other
side (push and webhook) and the tracking event; the event is published after the commit.

Unread counts: a message is addressed to its `audience` (the other side when it was
written) and raises that structure's `latest_incoming` on the (invoice, structure) marker;
opening the thread moves `last_read_message` up to it. Only invoices the structure is
still a side of are counted (a recycled invoice changes recipient).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from backend.accounts.tables import Membership
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.directory.tables import Structure
from backend.invoices import storage
from backend.invoices.deposit import MAX_ATTACHMENTS, Upload, attachment_type
from backend.invoices.tables import Invoice
from backend.messages.tables import Message, MessageAttachment, MessageRead
from backend.processing.tables import Outbox
from backend.settings import Settings
from backend.tracking.events import publish, record_event

log = logging.getLogger(__name__)

SUPPLIER, RECIPIENT = "supplier", "recipient"
MAX_BODY = 5000
EXCERPT = 140
EVENT = "message.created"


class MessageError(Exception):
    """A refused read or post: a stable code, a French message, an HTTP status."""

    def __init__(self, code: str, message_fr: str, http_status: int) -> None:
        super().__init__(message_fr)
        self.code, self.message_fr, self.http_status = code, message_fr, http_status


NOT_FOUND = MessageError("not_found", "Cette facture n'existe pas ou vous n'y avez pas accès.", 404)
NO_CONSULT = MessageError("forbidden", "Vous n'avez pas le droit de consulter les messages de cette facture.", 403)


@dataclass(frozen=True)
class Anchor:
    """What a thread hangs on: an invoice, or a question (MessageThread), with its two sides."""

    column: str  # "invoice" | "thread": the column set on message, message_attachment and message_read
    id: int
    supplier: int
    recipient: int

    def other_side(self, side: str) -> int:
        return self.recipient if side == SUPPLIER else self.supplier


def invoice_anchor(invoice: Invoice) -> Anchor:
    return Anchor("invoice", invoice.id, invoice.supplier, invoice.recipient)


@dataclass(frozen=True)
class Participant:
    """A user reading or writing a thread, and the side (structure) they do it for."""

    user_id: int
    structure_id: int
    side: str  # supplier | recipient


def other_side(invoice: Invoice, side: str) -> int:
    return invoice.recipient if side == SUPPLIER else invoice.supplier


async def participant(
    invoice: Invoice | Anchor, user_id: int, preferred_structure_id: int | None, *,
    not_found: MessageError = NOT_FOUND, no_right: MessageError = NO_CONSULT, supplier_may_deposit: bool = False,
) -> Participant:
    """404 for a user outside both structures, 403 for a member without the consult right.

    `supplier_may_deposit`: on the supplier side, the deposit right is enough (a question
    is asked by whoever may consult or deposit for the company).
    """
    rows = await Membership.select(Membership.structure, Membership.can_consult, Membership.can_deposit).where(
        (Membership.user == user_id)
        & (Membership.structure.is_in([invoice.supplier, invoice.recipient]))
        & (Membership.status == "active")
    )
    if not rows:
        raise not_found

    def allowed(row: dict) -> bool:
        return row["can_consult"] or (supplier_may_deposit and row["can_deposit"] and row["structure"] == invoice.supplier)

    # The structure the user acts for wins; otherwise a side where they may consult.
    rows.sort(key=lambda r: (r["structure"] != preferred_structure_id, not allowed(r), r["structure"] != invoice.supplier))
    chosen = rows[0]
    if not allowed(chosen):
        raise no_right
    side = SUPPLIER if chosen["structure"] == invoice.supplier else RECIPIENT
    return Participant(user_id, chosen["structure"], side)


async def _invoice(invoice_id: int) -> Invoice:
    invoice = await Invoice.objects().get(Invoice.id == invoice_id)
    if invoice is None:
        raise NOT_FOUND
    return invoice


# --- input --------------------------------------------------------------------------------------

def clean_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise MessageError("body_required", "Écrivez votre message avant de l'envoyer.", 422)
    if len(text) > MAX_BODY:
        raise MessageError("body_too_long", f"Le message dépasse {MAX_BODY} caractères ({len(text)}) : raccourcissez-le.", 422)
    return text


def check_files(files: list[Upload], max_size: int) -> list[str]:
    """The media type of each file; the deposit's limits (count, size, PDF/JPEG/PNG only)."""
    if len(files) > MAX_ATTACHMENTS:
        raise MessageError("too_many_attachments", f"Trop de pièces jointes ({len(files)}) : {MAX_ATTACHMENTS} au plus par message.", 422)
    types = []
    for upload in files:
        if len(upload.data) > max_size:
            raise MessageError("attachment_too_large", f"La pièce jointe « {upload.filename} » dépasse {max_size // (1024 * 1024)} Mo.", 413)
        media_type = attachment_type(upload.data)
        if media_type is None:
            raise MessageError("attachment_type", f"La pièce jointe « {upload.filename} » n'est ni un PDF, ni une image JPEG ou PNG.", 415)
        types.append(media_type)
    return types


# --- posting ------------------------------------------------------------------------------------

async def post_message(
    settings: Settings, invoice_id: int, user_id: int, preferred_structure_id: int | None, body: str | None,
    files: list[Upload] | None = None,
) -> int:
    """Record a message (and its files) and notify the other side; returns the message id."""
    invoice = await _invoice(invoice_id)
    who = await participant(invoice, user_id, preferred_structure_id)
    text = clean_body(body)
    files = files or []
    types = check_files(files, settings.max_file_size)
    digests = await store_files(settings, files)
    now = utcnow()
    async with transaction():
        message_id = await insert_message(invoice_anchor(invoice), who, text, files, types, digests, now)
        await Outbox.insert(*outbox_rows(invoice, who, message_id, text, len(files), now))
        event_id = await _record_event(invoice, who, message_id, now)
    await publish([event_id])  # after the commit; never raises (a lost publish is recovered on resume)
    return message_id


async def store_files(settings: Settings, files: list[Upload]) -> list[str]:
    """The files' digests, written to the store before the commit (a rollback leaves only unused blobs)."""
    return [await storage.write_blob(settings, f.data) for f in files]


async def insert_message(anchor: Anchor, who: Participant, text: str, files: list[Upload], types: list[str],
                         digests: list[str], now) -> int:
    """The message, its attachments and the other side's unread marker; inside the caller's transaction."""
    audience = anchor.other_side(who.side)
    message = Message(**{anchor.column: anchor.id}, author=who.user_id, author_structure=who.structure_id, side=who.side,
                      audience=audience, body=text, created_at=now)
    await message.save()
    for upload, digest, media_type in zip(files, digests, types):
        file_id = await storage.file_row(digest, len(upload.data), media_type)
        await MessageAttachment.insert(MessageAttachment(
            **{anchor.column: anchor.id}, message=message.id, file=file_id, filename=_filename(upload.filename),
            media_type=media_type, size=len(upload.data), created_at=now))
    await _mark_incoming(anchor, audience, message.id)
    return message.id


def excerpt_of(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _filename(raw: str) -> str:
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()  # some browsers send a full path
    return (name or "piece-jointe")[:255]


def outbox_rows(invoice: Invoice, who: Participant, message_id: int, text: str, file_count: int, now) -> list[Outbox]:
    audience = other_side(invoice, who.side)
    excerpt = excerpt_of(text)
    base = {
        "event": EVENT, "invoice_id": invoice.id, "number": invoice.number, "supplier_id": invoice.supplier,
        "recipient_id": invoice.recipient, "message_id": message_id, "author_side": who.side,
        "actor_user_id": who.user_id,  # the push handler does not notify the author's own devices
        "author_structure_id": who.structure_id, "attachments": file_count, "occurred_at": now.isoformat(),
        "audience": {"structure_id": audience}, "url": f"/invoices/{invoice.id}#messages",
    }
    who_wrote = "Le destinataire" if who.side == RECIPIENT else "Le fournisseur"
    push = {**base, "title": f"Nouveau message sur la facture n°\u00a0{invoice.number}", "body": f"{who_wrote}\u00a0: {excerpt}"}
    webhook = {**base, "body_excerpt": excerpt}
    return [
        Outbox(event_type=EVENT, channel=channel, invoice=invoice.id, payload=_json(payload), created_at=now, next_attempt_at=now)
        for channel, payload in (("push", push), ("webhook", webhook))
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def _record_event(invoice: Invoice, who: Participant, message_id: int, now) -> int:
    return await record_event(
        EVENT, invoice_id=invoice.id, supplier_id=invoice.supplier, recipient_id=invoice.recipient,
        payload={"message_id": message_id, "author_side": who.side, "audience_structure_id": other_side(invoice, who.side),
                 "number": invoice.number, "occurred_at": now.isoformat()},
    )


# --- read markers and unread counts --------------------------------------------------------------

# Both upserts only ever raise their column (CASE = portable MAX): whatever order concurrent
# writers and readers commit in, a marker never goes back and an unread message is never lost.
# `@col` is the anchor's column ("invoice" or "thread"), each with its unique (col, structure) index.
_UPSERT_INCOMING = (
    "INSERT INTO message_read (@col, structure, last_read_message, latest_incoming) VALUES ({}, {}, 0, {}) "
    "ON CONFLICT (@col, structure) DO UPDATE SET latest_incoming = CASE "
    "WHEN excluded.latest_incoming > message_read.latest_incoming THEN excluded.latest_incoming "
    "ELSE message_read.latest_incoming END"
)
_MARK_READ = (
    "UPDATE message_read SET last_read_message = latest_incoming, read_at = {} "
    "WHERE @col = {} AND structure = {} AND latest_incoming > last_read_message"
)
_ANCHOR_COLUMNS = ("invoice", "thread")


def _sql(template: str, column: str) -> str:
    if column not in _ANCHOR_COLUMNS:  # never user input; a column name cannot be a bound parameter
        raise ValueError(column)
    return template.replace("@col", column)


async def _mark_incoming(anchor: Anchor, structure_id: int, message_id: int) -> None:
    """A message addressed to the structure: its thread is unread until it opens it again."""
    await MessageRead.raw(_sql(_UPSERT_INCOMING, anchor.column), anchor.id, structure_id, message_id)


async def _marker(invoice_id: int, structure_id: int, column: str = "invoice") -> dict:
    row = await MessageRead.select(MessageRead.last_read_message, MessageRead.latest_incoming).where(
        (getattr(MessageRead, column) == invoice_id) & (MessageRead.structure == structure_id)).first()
    return row or {"last_read_message": 0, "latest_incoming": 0}


async def mark_read(invoice_id: int, structure_id: int, column: str = "invoice") -> int:
    """The structure has seen the thread (of an invoice, or the question `invoice_id` with
    column="thread"); returns how many messages were unread.

    Writes only when something was unread: opening a read thread costs no write transaction.
    """
    marker = await _marker(invoice_id, structure_id, column)
    if marker["latest_incoming"] <= marker["last_read_message"]:
        return 0
    unread = await Message.count().where(
        (getattr(Message, column) == invoice_id) & (Message.audience == structure_id) & (Message.id > marker["last_read_message"]))
    async with transaction():
        await MessageRead.raw(_sql(_MARK_READ, column), utcnow(), invoice_id, structure_id)
    return unread


# Unread threads come from the partial index message_read_unread, then each one counts its
# messages through message_audience_invoice_id (a correlated subquery: the planner cannot
# estimate how few threads are unread, and would otherwise scan every message). The join on
# invoice keeps only invoices the structure is still a side of (recycling changes recipient).
_UNREAD_SQL = (
    "SELECT r.invoice AS invoice, (SELECT COUNT(*) FROM message m WHERE m.audience = r.structure "
    "AND m.invoice = r.invoice AND m.id > r.last_read_message) AS unread "
    "FROM message_read r JOIN invoice i ON i.id = r.invoice "
    "WHERE r.structure = {} AND r.latest_incoming > r.last_read_message AND (i.supplier = {} OR i.recipient = {})"
)


async def unread_by_invoice(structure_id: int, invoice_ids: list[int] | None = None) -> dict[int, int]:
    """{invoice id: unread messages for this structure}; only invoices with unread messages appear."""
    sql, args = _UNREAD_SQL, [structure_id, structure_id, structure_id]
    if invoice_ids is not None:
        ids = sorted({int(i) for i in invoice_ids})
        if not ids:
            return {}
        sql += f" AND r.invoice IN ({', '.join('{}' for _ in ids)})"
        args += ids
    rows = await Message.raw(sql, *args)
    return {row["invoice"]: row["unread"] for row in rows if row["unread"]}


# A question's two sides never change: no join needed to keep only the structure's own.
_UNREAD_QUESTIONS_SQL = (
    "SELECT r.thread AS thread, (SELECT COUNT(*) FROM message m WHERE m.audience = r.structure "
    "AND m.thread = r.thread AND m.id > r.last_read_message) AS unread "
    "FROM message_read r WHERE r.structure = {} AND r.thread IS NOT NULL AND r.latest_incoming > r.last_read_message"
)


async def unread_by_question(structure_id: int) -> dict[int, int]:
    """{question id: unread messages for this structure}; only questions with unread messages appear."""
    rows = await Message.raw(_UNREAD_QUESTIONS_SQL, structure_id)
    return {row["thread"]: row["unread"] for row in rows if row["unread"]}


async def unread_count_for_structure(structure_id: int | None) -> int:
    """Unread messages addressed to the structure, all invoices and questions together (the badge)."""
    if structure_id is None:
        return 0
    rows = await Message.raw(f"SELECT COALESCE(SUM(t.unread), 0) AS unread FROM ({_UNREAD_SQL}) t", structure_id, structure_id, structure_id)
    questions = await Message.raw(f"SELECT COALESCE(SUM(t.unread), 0) AS unread FROM ({_UNREAD_QUESTIONS_SQL}) t", structure_id)
    return sum(int(r[0]["unread"]) for r in (rows, questions) if r)


async def unread_threads(structure_id: int, limit: int = 50) -> list[dict]:
    """The invoices with unread messages for the structure, newest message first (the notifications page)."""
    unread = await unread_by_invoice(structure_id)
    if not unread:
        return []
    # The other side by its registered name (the directory's, or its own profile's), as on the
    # invoice page: the name a file gives may be misspelt or another company's trading name.
    invoices = await Invoice.select(Invoice.id, Invoice.number, Invoice.supplier, Invoice.supplier.name.as_alias("supplier_name"),
                                    Invoice.recipient.name.as_alias("recipient_name")).where(Invoice.id.is_in(list(unread)))
    latest = {}
    for row in await Message.select(Message.invoice, Message.id, Message.body, Message.created_at).where(
            (Message.audience == structure_id) & Message.invoice.is_in(list(unread))).order_by(Message.id, ascending=False):
        latest.setdefault(row["invoice"], row)
    threads = [{**inv, "unread": unread[inv["id"]], "latest": latest.get(inv["id"]),
                "other_name": inv["recipient_name"] if inv["supplier"] == structure_id else inv["supplier_name"]} for inv in invoices]
    threads.sort(key=lambda t: t["latest"]["id"] if t["latest"] else 0, reverse=True)
    return threads[:limit]


# --- reading a thread ---------------------------------------------------------------------------

async def messages_of(invoice_id: int, column: str = "invoice") -> list[dict]:
    """The thread in order (of an invoice, or of a question with column="thread"), with author
    names, structure names and attachments."""
    rows = await Message.select(
        Message.id, Message.side, Message.body, Message.created_at, Message.author_structure,
        Message.author.first_name, Message.author.last_name, Message.author_structure.name,
    ).where(getattr(Message, column) == invoice_id).order_by(Message.id)
    files = await MessageAttachment.select(
        MessageAttachment.id, MessageAttachment.message, MessageAttachment.filename, MessageAttachment.media_type, MessageAttachment.size,
    ).where(getattr(MessageAttachment, column) == invoice_id).order_by(MessageAttachment.id)
    by_message: dict[int, list[dict]] = {}
    for f in files:
        by_message.setdefault(f["message"], []).append(f)
    return [{
        "id": r["id"], "side": r["side"], "body": r["body"], "created_at": r["created_at"],
        "author_name": f"{r['author.first_name']} {r['author.last_name']}".strip(),
        "structure_name": r["author_structure.name"], "attachments": by_message.get(r["id"], []),
    } for r in rows]


async def thread_context(invoice: Invoice, current, *, mark: bool = True, error: str | None = None, draft: str = "",
                         error_code: str | None = None) -> dict:
    """The `thread` key of the invoice page; opening the thread marks it read for the viewer's side.

    `current` is the signed-in CurrentUser. A member without the consult right gets a thread
    that says so and shows nothing.
    """
    links = {"invoice_id": invoice.id, "dom_id": str(invoice.id), "live": f"invoice-{invoice.id}",
             "url": f"/invoices/{invoice.id}/messages", "files_url": f"/invoices/{invoice.id}/messages/attachments"}
    try:
        who = await participant(invoice, current.id, current.structure_id)
    except MessageError as exc:
        return {"thread": {**links, "visible": False, "reason": exc.message_fr}}
    thread = await read_thread(invoice_anchor(invoice), who, mark=mark, error=error, draft=draft)
    return {"thread": {**links, **thread, "error_code": error_code if error else None}}


async def read_thread(anchor: Anchor, who: Participant, *, mark: bool = True, error: str | None = None, draft: str = "") -> dict:
    """What the thread template shows (its links aside); opening it marks it read for the viewer's side."""
    marker = (await _marker(anchor.id, who.structure_id, anchor.column))["last_read_message"]
    messages = await messages_of(anchor.id, anchor.column)
    unread_before = sum(1 for m in messages if m["id"] > marker and m["side"] != who.side)
    if mark and unread_before:
        await mark_read(anchor.id, who.structure_id, anchor.column)
    first_unread = next((m["id"] for m in messages if m["id"] > marker and m["side"] != who.side), None)
    return {
        "visible": True, "side": who.side, "messages": messages,
        "unread_before": unread_before, "first_unread": first_unread, "error": error, "draft": draft,
        "max_body": MAX_BODY, "max_attachments": MAX_ATTACHMENTS,
        "other_name": await _structure_name(anchor.other_side(who.side)),
    }


async def _structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    return row["name"] if row else ""


async def attachment_for(invoice_id: int, attachment_id: int, user_id: int, preferred_structure_id: int | None) -> dict:
    """The attachment row (with its file's digest) when the user may read the thread; 404 otherwise."""
    invoice = await _invoice(invoice_id)
    await participant(invoice, user_id, preferred_structure_id)
    return await attachment_row(attachment_id, MessageAttachment.invoice == invoice.id)


async def attachment_row(attachment_id: int, of_thread) -> dict:
    """An attachment of the thread `of_thread` selects (an invoice's or a question's), with its file's digest; 404 otherwise."""
    row = await MessageAttachment.select(
        MessageAttachment.id, MessageAttachment.filename, MessageAttachment.media_type, MessageAttachment.file.sha256,
    ).where((MessageAttachment.id == attachment_id) & of_thread).first()
    if row is None:
        raise NOT_FOUND
    return row


__all__ = [
    "MessageError", "Participant", "post_message", "thread_context", "mark_read", "unread_by_invoice",
    "unread_count_for_structure", "unread_threads", "attachment_for", "attachment_row", "Anchor", "insert_message", "read_thread",
    "unread_by_question",
]
