"""Questions: a thread a supplier starts with a public structure of the directory, without an invoice.

"Which service code?", "which engagement number?": asked from the structure's directory
page by a member of a supplier structure who may consult or deposit, read and answered by
the agents of the public structure (its members with the consult right). It is the
invoice thread's machinery (backend/messages/service.py) on another anchor: the same
message, attachment and read-marker tables, limits, unread counts, outbox rows (push and
webhook `message.created`, with no invoice) and live event (`question-<id>`). Nothing is
ever edited or deleted.

A structure with no agent in Facteur cannot be asked: nobody would read the question.
Everyone outside the two structures gets "not found", on every route.
"""

from __future__ import annotations

from backend.accounts.tables import Membership
from backend.directory.tables import Structure
from backend.invoices.deposit import Upload
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.messages import service
from backend.messages.service import RECIPIENT, SUPPLIER, Anchor, MessageError, Participant, attachment_row
from backend.messages.tables import Message, MessageAttachment, MessageThread
from backend.processing.tables import Outbox
from backend.settings import Settings
from backend.tracking.events import publish, record_event

MAX_SUBJECT = 200
LIST_LIMIT = 50

NOT_FOUND = MessageError("not_found", "Cette question n'existe pas ou vous n'y avez pas accès.", 404)
NO_RIGHT = MessageError("forbidden", "Vous n'avez pas le droit de consulter les questions de cette structure.", 403)
UNKNOWN_STRUCTURE = MessageError("structure_not_found", "Cette structure n'est pas une structure publique de l'annuaire.", 404)
NO_AGENT = MessageError(
    "no_agent", "Cette structure n'a encore aucun agent inscrit sur Facteur : personne ne pourrait lire votre question. "
    "Contactez-la par ses moyens habituels.", 409)
NOT_A_SUPPLIER = MessageError(
    "not_a_supplier", "Seul un membre d'une entreprise (structure fournisseur) peut poser une question à une structure publique.", 403)
NO_ASK_RIGHT = MessageError(
    "forbidden", "Vous n'avez pas le droit de consulter ni de déposer des factures pour votre structure : "
    "demandez ce droit à son gestionnaire pour poser une question.", 403)


def anchor_of(thread: MessageThread) -> Anchor:
    return Anchor("thread", thread.id, thread.supplier, thread.recipient)


def clean_subject(subject: str | None) -> str:
    text = " ".join((subject or "").split())
    if not text:
        raise MessageError("subject_required", "Indiquez l'objet de votre question.", 422)
    if len(text) > MAX_SUBJECT:
        raise MessageError("subject_too_long", f"L'objet dépasse {MAX_SUBJECT} caractères ({len(text)}) : raccourcissez-le.", 422)
    return text


# --- who may ask whom ---------------------------------------------------------------------------

async def agent_count(structure_id: int) -> int:
    """The public structure's members who would read a question (active, with the consult right)."""
    return await Membership.count().where(
        (Membership.structure == structure_id) & (Membership.status == "active") & (Membership.can_consult == True))  # noqa: E712


def ask_refusal(current) -> MessageError | None:
    """Why the signed-in user may not ask for their active structure, or None."""
    active = current.active
    if not active:
        return NOT_A_SUPPLIER
    if active["structure"].get("is_public"):
        return NOT_A_SUPPLIER
    if not (active.get("can_consult") or active.get("can_deposit")):
        return NO_ASK_RIGHT
    return None


async def public_structure(siret: str | None) -> Structure:
    raw = (siret or "").replace(" ", "")
    structure = await Structure.objects().get((Structure.siret == raw) & (Structure.is_public == True)) if raw else None  # noqa: E712
    if structure is None:
        raise UNKNOWN_STRUCTURE
    return structure


async def directory_panel(current, structure: Structure) -> dict:
    """What the directory page shows about asking this structure a question."""
    agents = await agent_count(structure.id)
    refusal = ask_refusal(current)
    asked = []
    if refusal is None:
        asked = await questions_of(current.structure_id, other_structure_id=structure.id, limit=5)
    return {"agents": agents, "refusal": refusal.message_fr if refusal else None, "asked": asked,
            "max_subject": MAX_SUBJECT, "max_body": service.MAX_BODY, "max_attachments": service.MAX_ATTACHMENTS}


# --- asking and answering ----------------------------------------------------------------------

async def ask(settings: Settings, current, recipient_siret: str | None, subject: str | None, body: str | None,
              files: list[Upload] | None = None) -> int:
    """Start a question from the active (supplier) structure; returns the question's id.

    Everything is checked before anything is written; then one transaction writes the
    thread, its first message, the recipient's unread marker, the outbox rows and the event.
    """
    structure = await public_structure(recipient_siret)  # first: a refusal is shown on this structure's page
    refusal = ask_refusal(current)
    if refusal is not None:
        raise refusal
    title = clean_subject(subject)
    text = service.clean_body(body)
    files = files or []
    types = service.check_files(files, settings.max_file_size)
    if not await agent_count(structure.id):
        raise NO_AGENT
    who = Participant(current.id, current.structure_id, SUPPLIER)
    digests = await service.store_files(settings, files)
    now = utcnow()
    async with transaction():
        thread = MessageThread(supplier=current.structure_id, recipient=structure.id, subject=title, started_by=current.id, created_at=now)
        await thread.save()
        _, event_id = await _write(thread, who, text, files, types, digests, now)
    await publish([event_id])  # after the commit; never raises
    return thread.id


async def answer(settings: Settings, question_id: int, user_id: int, preferred_structure_id: int | None, body: str | None,
                 files: list[Upload] | None = None) -> int:
    """A message in an existing question, from either side; returns the message id."""
    thread = await _thread(question_id)
    who = await _participant(thread, user_id, preferred_structure_id)
    text = service.clean_body(body)
    files = files or []
    types = service.check_files(files, settings.max_file_size)
    digests = await service.store_files(settings, files)
    now = utcnow()
    async with transaction():
        message_id, event_id = await _write(thread, who, text, files, types, digests, now)
    await publish([event_id])
    return message_id


async def _write(thread: MessageThread, who: Participant, text: str, files, types, digests, now) -> tuple[int, int]:
    """Message, files, marker, outbox rows and event, inside the caller's transaction: (message id, event id)."""
    anchor = anchor_of(thread)
    message_id = await service.insert_message(anchor, who, text, files, types, digests, now)
    author_name = await _structure_name(who.structure_id)
    await Outbox.insert(*outbox_rows(thread, who, author_name, message_id, text, len(files), now))
    event_id = await record_event(
        service.EVENT, invoice_id=0,  # 0: no invoice (the event log has no foreign keys)
        supplier_id=thread.supplier, recipient_id=thread.recipient,
        payload={"question_id": thread.id, "message_id": message_id, "author_side": who.side,
                 "audience_structure_id": anchor.other_side(who.side), "subject": thread.subject, "occurred_at": now.isoformat()},
    )
    return message_id, event_id


def outbox_rows(thread: MessageThread, who: Participant, author_name: str, message_id: int, text: str, file_count: int, now) -> list[Outbox]:
    """Push and webhook rows: `message.created` like an invoice's message, with `question` instead of an invoice."""
    excerpt = service.excerpt_of(text)
    base = {
        "event": service.EVENT, "question": {"id": thread.id, "subject": thread.subject},
        "supplier_id": thread.supplier, "recipient_id": thread.recipient, "message_id": message_id, "author_side": who.side,
        "actor_user_id": who.user_id,  # the push handler does not notify the author's own devices
        "author_structure_id": who.structure_id, "attachments": file_count, "occurred_at": now.isoformat(),
        "audience": {"structure_id": anchor_of(thread).other_side(who.side)}, "url": f"/questions/{thread.id}",
    }
    subject = thread.subject if len(thread.subject) <= 80 else thread.subject[:79].rstrip() + "…"
    push = {**base, "title": f"Question\u00a0: {subject}", "body": f"{author_name}\u00a0: {excerpt}", "tag": f"question-{thread.id}"}
    webhook = {**base, "body_excerpt": excerpt}
    return [
        Outbox(event_type=service.EVENT, channel=channel, invoice=None, payload=service._json(payload), created_at=now, next_attempt_at=now)
        for channel, payload in (("push", push), ("webhook", webhook))
    ]


# --- reading ------------------------------------------------------------------------------------

async def _thread(question_id: int) -> MessageThread:
    thread = await MessageThread.objects().get(MessageThread.id == question_id)
    if thread is None:
        raise NOT_FOUND
    return thread


async def _participant(thread: MessageThread, user_id: int, preferred_structure_id: int | None) -> Participant:
    return await service.participant(anchor_of(thread), user_id, preferred_structure_id,
                                     not_found=NOT_FOUND, no_right=NO_RIGHT, supplier_may_deposit=True)


async def check_access(question_id: int, current) -> Participant:
    """The side the user reads and writes for; 404 outside the two structures, 403 without the right."""
    return await _participant(await _thread(question_id), current.id, current.structure_id)


async def _structure_name(structure_id: int) -> str:
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    return row["name"] if row else ""


async def question_context(question_id: int, current, *, mark: bool = True, error: str | None = None, draft: str = "") -> dict:
    """The question page: its subject and sides, and the `thread` the shared template shows.

    404 outside the two structures, 403 for a member without the right.
    """
    thread = await _thread(question_id)
    who = await _participant(thread, current.id, current.structure_id)
    links = {"dom_id": f"q{thread.id}", "live": f"question-{thread.id}",
             "url": f"/questions/{thread.id}/messages", "files_url": f"/questions/{thread.id}/attachments"}
    shown = await service.read_thread(anchor_of(thread), who, mark=mark, error=error, draft=draft)
    other = await Structure.select(Structure.name, Structure.siret).where(Structure.id == anchor_of(thread).other_side(who.side)).first()
    return {"question": {"id": thread.id, "subject": thread.subject, "created_at": thread.created_at, "side": who.side,
                         "other_name": other["name"] if other else "", "other_siret": other["siret"] if other else ""},
            "thread": {**links, **shown}}


# The structure's questions by their newest message (one step down message_thread_id per
# question): the few questions of a structure, not its messages, are read.
_LATEST_SQL = (
    "SELECT t.id AS id, (SELECT MAX(m.id) FROM message m WHERE m.thread = t.id) AS latest "
    "FROM message_thread t WHERE (t.supplier = {} OR t.recipient = {})"
)


async def questions_of(structure_id: int | None, *, other_structure_id: int | None = None, unread_only: bool = False,
                       limit: int = LIST_LIMIT) -> list[dict]:
    """The structure's questions (asked or received), unread first, then by newest message, with unread counts."""
    if structure_id is None:
        return []
    unread = await service.unread_by_question(structure_id)
    if unread_only and not unread:
        return []  # the notifications page, refreshed on every live event: usually nothing to read
    sql, args = _LATEST_SQL, [structure_id, structure_id]
    if other_structure_id is not None:
        sql += " AND (t.supplier = {} OR t.recipient = {})"
        args += [other_structure_id, other_structure_id]
    if unread_only:
        sql += f" AND t.id IN ({', '.join('{}' for _ in unread)})"
        args += sorted(unread)
    order = sorted(await MessageThread.raw(sql, *args), key=lambda r: (r["id"] not in unread, -(r["latest"] or 0)))[:limit]
    if not order:
        return []
    ids = [r["id"] for r in order]
    threads = {t["id"]: t for t in await MessageThread.select(
        MessageThread.id, MessageThread.subject, MessageThread.supplier, MessageThread.recipient,
        MessageThread.supplier.name, MessageThread.recipient.name,
    ).where(MessageThread.id.is_in(ids))}
    latest_ids = [r["latest"] for r in order if r["latest"]]
    latest = {m["thread"]: m for m in await Message.select(Message.thread, Message.id, Message.body, Message.created_at).where(
        Message.id.is_in(latest_ids))} if latest_ids else {}
    shaped = []
    for question_id in ids:
        t = threads[question_id]
        side = SUPPLIER if t["supplier"] == structure_id else RECIPIENT
        shaped.append({
            "id": question_id, "subject": t["subject"], "side": side, "unread": unread.get(question_id, 0),
            "latest": latest.get(question_id), "other_name": t["recipient.name"] if side == SUPPLIER else t["supplier.name"],
        })
    return shaped


async def attachment_for(question_id: int, attachment_id: int, user_id: int, preferred_structure_id: int | None) -> dict:
    """The attachment row (with its file's digest) when the user may read the question; 404 otherwise."""
    thread = await _thread(question_id)
    await _participant(thread, user_id, preferred_structure_id)
    return await attachment_row(attachment_id, MessageAttachment.thread == thread.id)
