"""Supporting documents given to the API: inline (base64 `content`) or sent ahead with
POST /api/v1/attachments and named by `id` (this structure's, for 7 days). Used by every API
that deposits a piece (backend/api/controllers.py, backend/justice/api.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backend.api.auth import ApiPrincipal
from backend.api.problems import ApiProblem
from backend.api.schemas import AttachmentIn
from backend.api.tables import ApiUpload
from backend.invoices import storage
from backend.invoices.deposit import attachment_type
from backend.lib.uploads import Upload

UPLOAD_LIFETIME = timedelta(days=7)


def checked_attachment(filename: str, data: bytes, max_size: int) -> Upload:
    if len(data) > max_size:
        raise ApiProblem(413, "attachment_too_large", f"La pièce jointe « {filename} » dépasse {max_size // (1024 * 1024)} Mo.")
    if attachment_type(data) is None:
        raise ApiProblem(422, "attachment_invalid", f"La pièce jointe « {filename} » n'est ni un PDF, ni une image JPEG ou PNG.")
    return Upload(filename, data)


async def attachment_uploads(items: list[AttachmentIn], principal: ApiPrincipal, settings) -> list[Upload]:
    """The documents of `attachments`, inline (base64) or sent ahead (by id, this structure's only)."""
    uploads = []
    for item in items:
        if item.id is not None:
            if item.content is not None:
                raise ApiProblem(422, "attachment_ambiguous", "Une pièce jointe se donne soit par son « id », soit par son contenu « content », pas les deux.")
            uploads.append(await sent_ahead(item, principal.structure_id, settings))
        elif item.content is None or not item.filename:
            raise ApiProblem(422, "attachment_incomplete", "Une pièce jointe se donne par son « id » (envoyée avec POST /api/v1/attachments) ou par « filename » et « content ».")
        else:
            uploads.append(checked_attachment(item.filename, item.content, settings.max_file_size))
    return uploads


async def sent_ahead(item: AttachmentIn, structure_id: int, settings) -> Upload:
    row = await ApiUpload.select().where(
        (ApiUpload.public_id == item.id) & (ApiUpload.structure == structure_id)
        & (ApiUpload.created_at > datetime.now(timezone.utc) - UPLOAD_LIFETIME)
    ).first()
    if row is None:  # unknown, expired, or another structure's: the same answer
        raise ApiProblem(422, "attachment_unknown", f"Aucune pièce jointe « {item.id} » envoyée par cette structure ces 7 derniers jours : "
                                                    "envoyez-la avec POST /api/v1/attachments.")
    return Upload(item.filename or row["filename"], await storage.read_blob(settings, row["digest"]))

