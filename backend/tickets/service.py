"""Tickets: open (or keep as a draft), read, and move through the status machine of statuses.py.

Who sees a ticket: its author (the person, or the API keys of the structure that opened it
through the API), its receiver (the active members with the consult right of the public
structure it goes to, that structure's API keys, or the support operators when it goes to
the support team). Everyone else gets "not found", on every route.

Every step goes through `act` (the draft's first sending through `save`): checks first (no
I/O), files written to the store, then one transaction updates the ticket (on its version:
two concurrent steps cannot both apply), appends the history entry with its files, writes
the outbox rows (push and e-mail to whoever the step waits for, webhook) and the live event,
published after the commit. Text, file limits and the error type are the messages domain's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from backend.invoices import storage
from backend.invoices.deposit import Upload
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.lib.effects import note_committed
from backend.messages import questions
from backend.messages import service as messages
from backend.messages.service import MessageError as TicketError
from backend.processing import deadlines
from backend.processing.tables import Outbox
from backend.settings import Settings
from backend.tickets import categories, statuses
from backend.tickets.statuses import AUTHOR, RECEIVER
from backend.tickets.tables import SupportOperator, Ticket, TicketAttachment, TicketEntry
from backend.tracking.events import publish, record_event

EVENT = "ticket.updated"
AUTO_CLOSE, CLOSE_WARNING = "ticket_auto_close", "ticket_close_warning"  # deadline kinds (backend/tickets/expiry.py)
EFFECT = "ticket"  # effects.note_committed's kind: an API retry after a crash answers from the ticket
MAIL_CHANNEL = "ticket_mail"
PAGE_LIMIT = 50

NOT_FOUND = TicketError("not_found", "Ce ticket n'existe pas ou vous n'y avez pas accès.", 404)
NO_STRUCTURE = TicketError("no_structure", "Rattachez-vous d'abord à une structure : un ticket est ouvert au nom de l'une d'elles.", 403)
UNKNOWN_CATEGORY = TicketError("category_invalid", "Choisissez une catégorie et une sous-catégorie de la liste.", 422)
RECIPIENT_REQUIRED = TicketError("recipient_required", "Choisissez dans l'annuaire la structure publique à qui poser la question.", 422)


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in person (for their active structure), or a structure's API key."""

    user_id: int | None
    key_id: int | None
    structure_id: int | None
    label: str
    is_operator: bool = False


async def is_operator(user_id: int | None) -> bool:
    return bool(user_id) and await SupportOperator.exists().where(SupportOperator.user == user_id)


async def operator_ids() -> list[int]:
    rows = await SupportOperator.select(SupportOperator.user).where(SupportOperator.user.is_active == True)  # noqa: E712
    return sorted(r["user"] for r in rows)


async def actor_of(current) -> Actor:
    """The signed-in person (backend.lib.web.CurrentUser) as a ticket actor."""
    structure = current.active["structure"]["name"] if current.active else ""
    label = f"{current.display_name} ({structure})" if structure else current.display_name
    return Actor(current.id, None, current.structure_id, label, await is_operator(current.id))


def actor_of_key(principal) -> Actor:
    """An API key (backend.api.auth.ApiPrincipal): it acts for its structure."""
    return Actor(None, principal.key_id, principal.structure_id, f"API ({principal.key_name or 'clé'})")


# --- who may see and do what ----------------------------------------------------------------------

async def roles_of(ticket: Ticket, actor: Actor) -> set[str]:
    """AUTHOR and/or RECEIVER; empty for everyone else (who must get 404)."""
    roles = set()
    if actor.user_id is not None and ticket.author == actor.user_id:
        roles.add(AUTHOR)
    if actor.key_id is not None and ticket.author_key is not None and ticket.author_structure == actor.structure_id:
        roles.add(AUTHOR)
    if ticket.status != statuses.BROUILLON and await _is_receiver(ticket, actor):
        roles.add(RECEIVER)
    return roles


async def _is_receiver(ticket: Ticket, actor: Actor) -> bool:
    return await _receives(ticket.receiver_structure, actor)


async def _receives(structure_id: int | None, actor: Actor) -> bool:
    """Whether the actor receives the tickets of this structure (None: the support team's)."""
    if structure_id is None:
        return actor.is_operator
    if actor.key_id is not None:
        return actor.structure_id == structure_id
    return await Membership.exists().where(
        (Membership.user == actor.user_id) & (Membership.structure == structure_id)
        & (Membership.status == "active") & (Membership.can_consult == True))  # noqa: E712


async def _ticket(ticket_id: int) -> Ticket:
    ticket = await Ticket.objects().get(Ticket.id == ticket_id)
    if ticket is None:
        raise NOT_FOUND
    return ticket


async def visible_ticket(ticket_id: int, actor: Actor) -> tuple[Ticket, set[str]]:
    ticket = await _ticket(ticket_id)
    roles = await roles_of(ticket, actor)
    if not roles:
        raise NOT_FOUND
    return ticket, roles


async def transferred_away(ticket_id: int, actor: Actor) -> bool:
    """True when the actor cannot see the ticket because their structure transferred it to the
    support team: they are told so (« Ce ticket a été transféré au support »), and nothing more."""
    rows = await TicketEntry.select(TicketEntry.transferred_from).where(
        (TicketEntry.ticket == ticket_id) & (TicketEntry.action == "transfer") & TicketEntry.transferred_from.is_not_null())
    for structure_id in {r["transferred_from"] for r in rows}:
        if await _receives(structure_id, actor):
            return True
    return False


# --- input ----------------------------------------------------------------------------------------

@dataclass
class TicketInput:
    category: str | None
    subcategory: str | None
    recipient_siret: str | None
    subject: str | None
    body: str | None


async def _receiver_of(data: TicketInput) -> int | None:
    """The receiving structure's id, or None for the support team; refusals in French."""
    route = categories.route_of(data.category or "", data.subcategory or "")
    if route is None:
        raise UNKNOWN_CATEGORY
    if route == categories.SUPPORT:
        return None
    if not (data.recipient_siret or "").strip():
        raise RECIPIENT_REQUIRED
    structure = await questions.public_structure(data.recipient_siret)
    if not await questions.agent_count(structure.id):
        raise questions.NO_AGENT
    return structure.id


def _draft_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if len(text) > messages.MAX_BODY:
        messages.clean_body(text)  # raises the messages' "too long" refusal
    return text


async def _store(settings: Settings, files: list[Upload]) -> tuple[list[str], list[str]]:
    types = messages.check_files(files, settings.max_file_size)
    return types, await messages.store_files(settings, files)


async def _attach(ticket_id: int, entry_id: int | None, files: list[Upload], types: list[str], digests: list[str], now) -> None:
    for upload, digest, media_type in zip(files, digests, types):
        file_id = await storage.file_row(digest, len(upload.data), media_type)
        await TicketAttachment.insert(TicketAttachment(
            ticket=ticket_id, entry=entry_id, file=file_id, filename=messages._filename(upload.filename),
            media_type=media_type, size=len(upload.data), created_at=now))


# --- drafts and sending ---------------------------------------------------------------------------

async def save(settings: Settings, actor: Actor, data: TicketInput, files: list[Upload] | None = None, *,
               submit: bool, ticket_id: int | None = None) -> int:
    """Create or update a draft (`submit=False`), or send it (`submit=True`); returns the ticket id.

    A draft keeps whatever is typed (category and subject are still required, so that the
    Brouillons tab can say what it is); sending checks everything the receiver needs.
    """
    if actor.structure_id is None:
        raise NO_STRUCTURE
    draft = await _own_draft(ticket_id, actor) if ticket_id is not None else None
    receiver = await _receiver_of(data)
    subject = questions.clean_subject(data.subject)
    body = messages.clean_body(data.body) if submit else _draft_body(data.body)
    files = files or []
    if draft is not None:
        already = await TicketAttachment.count().where(TicketAttachment.ticket == draft.id)
        if already + len(files) > messages.MAX_ATTACHMENTS:
            raise TicketError("too_many_attachments", f"Trop de pièces jointes ({already + len(files)}) : "
                              f"{messages.MAX_ATTACHMENTS} au plus par message.", 422)
    types, digests = await _store(settings, files)
    now = utcnow()
    values = {Ticket.category: data.category, Ticket.subcategory: data.subcategory, Ticket.receiver_structure: receiver,
              Ticket.subject: subject, Ticket.draft_body: "" if submit else body, Ticket.updated_at: now}
    async with transaction():
        if draft is None:
            rows = await Ticket.insert(Ticket(
                author=actor.user_id, author_structure=actor.structure_id, author_key=actor.key_id, status=statuses.BROUILLON,
                created_at=now, **{column._meta.name: value for column, value in values.items()}))
            ticket_id = rows[0]["id"]
        else:
            ticket_id = draft.id
            await Ticket.update(values).where(Ticket.id == draft.id)
        await _attach(ticket_id, None, files, types, digests, now)
        await note_committed(EFFECT, ticket_id)
        if not submit:
            return ticket_id
        ticket = await Ticket.objects().get(Ticket.id == ticket_id)
        event_id = await _apply(ticket, actor, statuses.ACTIONS["submit"], body, [], [], [], now)
    await publish([event_id])
    return ticket_id


async def _own_draft(ticket_id: int, actor: Actor) -> Ticket:
    ticket = await _ticket(ticket_id)
    if AUTHOR not in await roles_of(ticket, actor):
        raise NOT_FOUND
    if ticket.status != statuses.BROUILLON:
        raise TicketError("not_a_draft", "Ce ticket est déjà envoyé : il ne se modifie plus, ajoutez plutôt un message.", 409)
    return ticket


async def discard_draft(ticket_id: int, actor: Actor) -> None:
    """A draft is the author's only: deleting it leaves no trace (nothing was sent)."""
    draft = await _own_draft(ticket_id, actor)
    async with transaction():
        await TicketAttachment.delete().where(TicketAttachment.ticket == draft.id)
        await Ticket.delete().where(Ticket.id == draft.id)


# --- the one change function ----------------------------------------------------------------------

async def act(settings: Settings, ticket_id: int, actor: Actor, action_code: str, body: str | None = None,
              files: list[Upload] | None = None, *, version: int | None = None) -> Ticket:
    """Apply one action of the status machine; returns the ticket as it is now."""
    ticket, roles = await visible_ticket(ticket_id, actor)
    action = statuses.ACTIONS.get(action_code or "")
    if action is None or action.code == "submit" or action.role == statuses.SYSTEM:
        raise TicketError("action_invalid", "Cette action n'existe pas pour un ticket.", 422)
    _check(ticket, roles, actor, action, version)
    text = messages.clean_body(body) if action.body_required else _draft_body(body)
    files = files or []
    types, digests = await _store(settings, files)
    now = utcnow()
    async with transaction():
        event_id = await _apply(ticket, actor, action, text, files, types, digests, now)
        await note_committed(EFFECT, ticket.id)
    await publish([event_id])
    return await _ticket(ticket_id)


def _check(ticket: Ticket, roles: set[str], actor: Actor, action: statuses.Action, version: int | None) -> None:
    if action.role not in roles:
        who = "à l'auteur du ticket" if action.role == AUTHOR else "à qui reçoit le ticket"
        raise TicketError("forbidden", f"« {action.label} » est réservé {who}.", 403)
    waiting = ticket.status in statuses.ACTIONS["assign"].sources  # "take it first" says more than "not from this status"
    if action.needs_assignee and waiting and not _is_assignee(ticket, actor):
        raise TicketError("not_assigned", "Prenez d'abord ce ticket en charge : seule la personne qui l'a pris en charge y répond.", 409)
    if ticket.status not in action.sources:
        raise TicketError("transition_not_allowed",
                          f"Impossible de faire « {action.label} » : le ticket est « {statuses.label(ticket.status)} ».", 409)
    if action.needs_assignee and not _is_assignee(ticket, actor):
        raise TicketError("not_assigned", "Prenez d'abord ce ticket en charge : seule la personne qui l'a pris en charge y répond.", 409)
    if action.code == "transfer" and ticket.receiver_structure is None:
        raise TicketError("transition_not_allowed", "Ce ticket est déjà traité par le support de la plateforme.", 409)
    if version is not None and version != ticket.version:
        raise TicketError("version_conflict", "Le ticket a changé entre-temps : rechargez-le avant d'agir.", 409)


def _is_assignee(ticket: Ticket, actor: Actor) -> bool:
    if actor.key_id is not None:
        return ticket.assignee_key == actor.key_id
    return ticket.assignee is not None and ticket.assignee == actor.user_id


async def _apply(ticket: Ticket, actor: Actor, action: statuses.Action, text: str, files, types, digests, now) -> int:
    """Ticket, history entry, files, outbox rows and event, in the caller's transaction; returns the event id."""
    changes = {Ticket.status: action.target, Ticket.version: ticket.version + 1, Ticket.updated_at: now}
    if action.code == "assign":
        changes |= {Ticket.assignee: actor.user_id, Ticket.assignee_key: actor.key_id}
    if action.code == "transfer":
        changes |= {Ticket.receiver_structure: None, Ticket.assignee: None, Ticket.assignee_key: None}
    updated = await Ticket.update(changes).where((Ticket.id == ticket.id) & (Ticket.version == ticket.version)).returning(Ticket.id)
    if not updated:
        raise TicketError("version_conflict", "Le ticket a changé entre-temps : rechargez-le avant d'agir.", 409)
    role = action.role
    rows = await TicketEntry.insert(TicketEntry(
        ticket=ticket.id, action=action.code, from_status=ticket.status, to_status=action.target, actor=actor.user_id,
        actor_key=actor.key_id, actor_role=role, actor_label=_shown_label(ticket, actor, role), body=text, created_at=now,
        transferred_from=ticket.receiver_structure if action.code == "transfer" else None))
    entry_id = rows[0]["id"]
    if action.code == "submit":  # the draft's files belong to its first message
        await TicketAttachment.update({TicketAttachment.entry: entry_id}).where(
            (TicketAttachment.ticket == ticket.id) & TicketAttachment.entry.is_null())
    await _attach(ticket.id, entry_id, files, types, digests, now)
    after = await Ticket.objects().get(Ticket.id == ticket.id)
    await Outbox.insert(*await _outbox_rows(after, actor, action, text, now))
    await _plan_auto_close(ticket.status, after, action, now)
    # Live: the people concerned only (the author, the receivers; after a transfer, the former
    # receivers too, so that their open page learns the ticket left), not their colleagues.
    audience = {after.author} if after.author else set()
    audience |= set(await _receivers(after.receiver_structure))
    if ticket.receiver_structure != after.receiver_structure:
        audience |= set(await _receivers(ticket.receiver_structure))
    return await record_event(EVENT, invoice_id=0, supplier_id=after.author_structure,
                              recipient_id=after.receiver_structure or 0, audience=audience,
                              payload={"ticket_id": after.id, "status": after.status, "action": action.code,
                                       "occurred_at": now.isoformat()})


async def _plan_auto_close(before: str, after: Ticket, action: statuses.Action, now) -> None:
    """An answer starts the author's 15 days (and the warning 2 days before their end); any
    other step out of "Répondu" (reopened, closed) stops them. A second answer starts them again.
    The automatic closing itself is that deadline running: the runner marks it done."""
    if action.code == "auto_close":
        return
    if after.status == statuses.REPONDU:
        closes_at = now + statuses.AUTO_CLOSE_AFTER
        await deadlines.schedule(AUTO_CLOSE, after.id, closes_at, {"answered_at": now.isoformat()})
        await deadlines.schedule(CLOSE_WARNING, after.id, closes_at - statuses.WARNING_BEFORE, {"closes_at": closes_at.isoformat()})
    elif before == statuses.REPONDU:
        await deadlines.cancel(AUTO_CLOSE, after.id)
        await deadlines.cancel(CLOSE_WARNING, after.id)


SYSTEM_ACTOR = Actor(None, None, None, "Facteur (clôture automatique)")


async def close_unanswered(ticket: Ticket) -> None:
    """The automatic closing, in the caller's (the deadline's) transaction. Its live event is not
    published here: the worker has no stream; the web processes' catch-up reads it from the table."""
    await _apply(ticket, SYSTEM_ACTOR, statuses.ACTIONS["auto_close"], "", [], [], [], utcnow())


def _shown_label(ticket: Ticket, actor: Actor, role: str) -> str:
    if role == RECEIVER and ticket.receiver_structure is None and actor.is_operator:
        return f"{actor.label.split(' (')[0]} (support de la plateforme)"
    return actor.label


# --- notifications --------------------------------------------------------------------------------

async def _waiting_people(ticket: Ticket, action: statuses.Action) -> list[int]:
    """Whom the step waits for: the author, the assignee, or the receiver's people."""
    if action.waits_for == AUTHOR:
        return [ticket.author] if ticket.author else []
    if action.waits_for == "assignee":
        return [ticket.assignee] if ticket.assignee else []
    if action.waits_for == RECEIVER:
        return await _receivers(ticket.receiver_structure)
    return []


async def _receivers(structure_id: int | None) -> list[int]:
    """The people who receive a structure's tickets (active members with the consult right), or the operators."""
    if structure_id is None:
        return await operator_ids()
    rows = await Membership.select(Membership.user).where(
        (Membership.structure == structure_id) & (Membership.status == "active")
        & (Membership.can_consult == True) & (Membership.user.is_active == True))  # noqa: E712
    return sorted({r["user"] for r in rows})


async def _outbox_rows(ticket: Ticket, actor: Actor, action: statuses.Action, text: str, now) -> list[Outbox]:
    people = [u for u in await _waiting_people(ticket, action) if u != actor.user_id]
    url = f"/tickets/{ticket.id}"
    title = f"Ticket n°\u00a0{ticket.id} : {action.done.lower()}"
    summary = messages.excerpt_of(text) if text else ticket.subject
    base = {"event": EVENT, "ticket": {"id": ticket.id, "subject": ticket.subject, "status": ticket.status,
                                       "category": ticket.category, "subcategory": ticket.subcategory},
            "action": action.code, "actor_user_id": actor.user_id, "occurred_at": now.isoformat(), "url": url,
            "supplier_id": ticket.author_structure, "recipient_id": ticket.receiver_structure}
    rows = [_row("webhook", {**base, "body_excerpt": messages.excerpt_of(text) if text else ""}, now)]
    if people:
        rows.append(_row("push", {**base, "audience": {"user_ids": people}, "title": title,
                                  "body": f"{ticket.subject} · {summary}", "tag": f"ticket-{ticket.id}"}, now))
        mail = {"subject": f"[Facteur] {title}", "url": url,
                "text": f"{action.done} sur le ticket « {ticket.subject} ».\n\n{text}".rstrip()}
        rows += [_row(MAIL_CHANNEL, {**mail, "user_id": person}, now) for person in people]
    return rows


def _row(channel: str, payload: dict, now) -> Outbox:
    return Outbox(event_type=EVENT, channel=channel, invoice=None, payload=json.dumps(payload, ensure_ascii=False, default=str),
                  created_at=now, next_attempt_at=now)


# --- reading --------------------------------------------------------------------------------------

async def ticket_context(ticket_id: int, actor: Actor) -> dict:
    """What the ticket page (and the API) shows: the ticket, its history with files, and the actions open to the viewer."""
    ticket, roles = await visible_ticket(ticket_id, actor)
    category, subcategory = categories.labels(ticket.category, ticket.subcategory)
    names = await _structure_names([ticket.author_structure, ticket.receiver_structure])
    assignee = await User.select(User.first_name, User.last_name).where(User.id == ticket.assignee).first() if ticket.assignee else None
    actions = []
    mine = _is_assignee(ticket, actor)
    for role in (AUTHOR, RECEIVER):
        if role in roles:
            actions += [a for a in statuses.available(ticket.status, role) if a.code != "submit"
                        and not (a.code == "transfer" and ticket.receiver_structure is None)
                        and not (role == RECEIVER and (a.needs_assignee and not mine or a.code == "assign" and mine))]
    return {
        "id": ticket.id, "subject": ticket.subject, "status": ticket.status, "status_label": statuses.label(ticket.status),
        "category": ticket.category, "subcategory": ticket.subcategory, "category_label": category, "subcategory_label": subcategory,
        "author_structure": names.get(ticket.author_structure, ""),
        "receiver": names.get(ticket.receiver_structure, "") if ticket.receiver_structure else "Support de la plateforme",
        "receiver_is_support": ticket.receiver_structure is None, "roles": sorted(roles),
        "assignee": f"{assignee['first_name']} {assignee['last_name']}".strip() if assignee else ("API" if ticket.assignee_key else None),
        "assigned_to_me": _is_assignee(ticket, actor), "version": ticket.version, "draft_body": ticket.draft_body,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "entries": await _entries(ticket.id), "actions": actions,
    }


async def _structure_names(ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(wanted)) if wanted else []
    return {r["id"]: r["name"] for r in rows}


async def _entries(ticket_id: int) -> list[dict]:
    rows = await TicketEntry.select(
        TicketEntry.id, TicketEntry.action, TicketEntry.from_status, TicketEntry.to_status, TicketEntry.actor_role,
        TicketEntry.actor_label, TicketEntry.body, TicketEntry.created_at,
    ).where(TicketEntry.ticket == ticket_id).order_by(TicketEntry.id)
    files: dict[int | None, list[dict]] = {}
    for f in await TicketAttachment.select(
            TicketAttachment.id, TicketAttachment.entry, TicketAttachment.filename, TicketAttachment.media_type,
            TicketAttachment.size).where(TicketAttachment.ticket == ticket_id).order_by(TicketAttachment.id):
        files.setdefault(f["entry"], []).append(f)
    return [{**r, "done": statuses.ACTIONS[r["action"]].done, "status_label": statuses.label(r["to_status"]),
             "attachments": files.get(r["id"], [])} for r in rows]


async def draft_files(ticket_id: int) -> list[dict]:
    return await TicketAttachment.select(TicketAttachment.id, TicketAttachment.filename, TicketAttachment.size).where(
        (TicketAttachment.ticket == ticket_id) & TicketAttachment.entry.is_null()).order_by(TicketAttachment.id)


async def attachment_for(ticket_id: int, attachment_id: int, actor: Actor) -> dict:
    """The attachment row (with its file's digest) when the actor may see the ticket; 404 otherwise."""
    await visible_ticket(ticket_id, actor)
    row = await TicketAttachment.select(
        TicketAttachment.id, TicketAttachment.filename, TicketAttachment.media_type, TicketAttachment.file.sha256,
    ).where((TicketAttachment.id == attachment_id) & (TicketAttachment.ticket == ticket_id)).first()
    if row is None:
        raise NOT_FOUND
    return row


# --- lists ----------------------------------------------------------------------------------------

def _rows_query(where, *, statuses_in=None, before_id: int | None = None, limit: int = PAGE_LIMIT):
    query = Ticket.select(
        Ticket.id, Ticket.subject, Ticket.status, Ticket.category, Ticket.subcategory, Ticket.updated_at, Ticket.created_at,
        Ticket.receiver_structure, Ticket.author_structure, Ticket.assignee, Ticket.receiver_structure.name.as_alias("receiver_name"),
        Ticket.author_structure.name.as_alias("author_name"),
    ).where(where)
    if statuses_in:
        query = query.where(Ticket.status.is_in(list(statuses_in)))
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    return query.order_by(Ticket.id, ascending=False).limit(limit)


def _shaped(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["status_label"] = statuses.label(row["status"])
        row["category_label"], row["subcategory_label"] = categories.labels(row["category"], row["subcategory"])
        row["receiver_name"] = row["receiver_name"] or "Support de la plateforme"
    return rows


async def authored(actor: Actor, tab: str) -> list[dict]:
    """The author's tickets in one of statuses.AUTHOR_TABS."""
    _, wanted = statuses.AUTHOR_TABS[tab]
    return _shaped(await _rows_query(Ticket.author == actor.user_id, statuses_in=wanted))


def _received_where(actor: Actor, *, support: bool):
    if support:
        return Ticket.receiver_structure.is_null()
    return Ticket.receiver_structure == actor.structure_id


async def received(actor: Actor, tab: str, *, support: bool) -> list[dict]:
    """The receiver's tickets (the active structure's, or the support queue) in one of statuses.RECEIVER_TABS."""
    _, wanted = statuses.RECEIVER_TABS[tab]
    return _shaped(await _rows_query(_received_where(actor, support=support), statuses_in=wanted))


async def tab_counts(actor: Actor, *, side: str, support: bool = False) -> dict[str, int]:
    tabs = statuses.AUTHOR_TABS if side == AUTHOR else statuses.RECEIVER_TABS
    where = Ticket.author == actor.user_id if side == AUTHOR else _received_where(actor, support=support)
    counts = {}
    for code, (_, wanted) in tabs.items():
        counts[code] = await Ticket.count().where(where & Ticket.status.is_in(list(wanted)))
    return counts


async def api_page(actor: Actor, *, status: str | None, before_id: int | None, limit: int) -> tuple[list[dict], int | None]:
    """The key's structure's tickets (opened through the API, or received), newest first; keyset on the id."""
    mine = (Ticket.author_structure == actor.structure_id) & Ticket.author_key.is_not_null()
    received_here = (Ticket.receiver_structure == actor.structure_id) & (Ticket.status != statuses.BROUILLON)
    rows = _shaped(await _rows_query(mine | received_here, statuses_in=[status] if status else None, before_id=before_id,
                                     limit=limit + 1))
    next_id = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], next_id
