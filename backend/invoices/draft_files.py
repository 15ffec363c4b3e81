"""Photos and files attached to a capture draft, kept on the server with the draft.

A photo taken on the phone is part of the draft as much as its lines: it is stored (by
SHA-256, like any original) as soon as it is chosen, or at the latest when the send that
carries it arrives (a send queued offline), before anything is checked. So a refused send,
a reload or the same draft opened on another device still has it; the send reads the
draft's files, and they go with the draft when it is sent or deleted (cascade).

One mechanism for every kind of draft: a `Holder` names the attachment table (columns draft,
file, filename, media_type, size; unique on draft and file) and its draft table (updated_at).
The invoice capture's is the default; the mémoires de justice have theirs (backend/justice).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from piccolo.table import Table

from backend.invoices import storage
from backend.invoices.deposit import MAX_ATTACHMENTS, Upload, attachment_type
from backend.invoices.tables import DraftAttachment, InvoiceDraft
from backend.lib.common import utcnow
from backend.lib.db import is_unique_violation, transaction
from backend.settings import Settings

# What the Factur-X may embed in all (generation/pdf.py MAX_ATTACHMENTS_BYTES, not imported
# here: that would load the PDF renderer): more would be refused only at sending.
MAX_TOTAL_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class Holder:
    attachments: type[Table]
    drafts: type[Table]


INVOICE = Holder(DraftAttachment, InvoiceDraft)


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} Mo"


def clean_filename(raw: str) -> str:
    """The name as the phone gave it, without folders or control characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:255] or "piece-jointe"


async def listed(draft_id: int, holder: Holder = INVOICE) -> list[dict]:
    table = holder.attachments
    return await table.select(
        table.id, table.filename, table.media_type, table.size, table.file.sha256.as_alias("sha256"),
    ).where(table.draft == draft_id).order_by(table.id)


async def add(settings: Settings, draft_id: int, uploads: list[Upload], holder: Holder = INVOICE) -> list[str]:
    """Keeps each file with the draft (once per content); returns, in French, why any was not."""
    kept = await listed(draft_id, holder)
    digests = {row["sha256"] for row in kept}
    count, total = len(kept), sum(row["size"] for row in kept)
    refusals: list[str] = []
    for upload in uploads:
        name = clean_filename(upload.filename)
        media_type = attachment_type(upload.data)
        digest = storage.sha256_of(upload.data)
        if media_type is None:
            refusals.append(f"« {name} » n'est ni une photo (JPEG, PNG) ni un PDF : elle n'a pas été jointe.")
        elif digest in digests:
            continue  # the same photo chosen again, or sent again by a queued send: kept once
        elif len(upload.data) > settings.max_file_size:
            refusals.append(f"« {name} » dépasse {_megabytes(settings.max_file_size)} : elle n'a pas été jointe.")
        elif count >= MAX_ATTACHMENTS:
            refusals.append(f"« {name} » n'a pas été jointe : {MAX_ATTACHMENTS} pièces jointes au plus par facture.")
        elif total + len(upload.data) > MAX_TOTAL_BYTES:
            refusals.append(f"« {name} » n'a pas été jointe : {_megabytes(MAX_TOTAL_BYTES)} de pièces jointes au plus par facture.")
        else:
            await _keep(settings, draft_id, name, upload.data, media_type, holder)
            digests.add(digest)
            count, total = count + 1, total + len(upload.data)
    return refusals


async def _keep(settings: Settings, draft_id: int, name: str, data: bytes, media_type: str, holder: Holder) -> None:
    digest = await storage.write_blob(settings, data)  # on disk before the row that names it
    try:
        async with transaction():
            file_id = await storage.file_row(digest, len(data), media_type)
            table, drafts = holder.attachments, holder.drafts
            await table.insert(table(draft=draft_id, file=file_id, filename=name, media_type=media_type, size=len(data)))
            # A draft with a photo is no longer a blank "ready" draft (capture.is_ready).
            await drafts.update({drafts.updated_at: utcnow()}).where(drafts.id == draft_id)
    except Exception as exc:
        # The same photo added at the same moment by another request (the field's upload and
        # a send carrying it): the unique index kept one copy, which is what is wanted.
        if not is_unique_violation(exc):
            raise


async def remove(draft_id: int, attachment_id: int, holder: Holder = INVOICE) -> bool:
    table = holder.attachments
    mine = (table.id == attachment_id) & (table.draft == draft_id)
    if not await table.exists().where(mine):
        return False
    await table.delete().where(mine)
    return True


async def stored_file(draft_id: int, attachment_id: int, holder: Holder = INVOICE) -> dict | None:
    """The file row of one of the draft's attachments (to show it), or None."""
    table = holder.attachments
    return await table.select(table.file, table.filename).where((table.id == attachment_id) & (table.draft == draft_id)).first()


async def uploads_of(settings: Settings, draft_id: int, holder: Holder = INVOICE) -> list[Upload]:
    """The draft's files as uploads, in the order they were added: what the send embeds."""
    rows = await listed(draft_id, holder)
    return [Upload(row["filename"], await storage.read_blob(settings, row["sha256"])) for row in rows]

