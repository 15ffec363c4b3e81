"""Original files stored by SHA-256, written before the database commit, never modified.

The bytes go to the blob store the settings choose (backend/lib/blobstore.py: the data
folder, or an S3-compatible object store shared by several hosts). The same content
deposited twice is stored once. A file whose row never got committed (a crash or a
refusal between the write and the commit) is an orphan blob: harmless, because only rows
make invoices, and removed by `facteur files clean-orphans` once older than its grace period.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from backend.invoices.tables import StoredFile
from backend.lib.blobstore import blob_store
from backend.lib.common import utcnow


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def write_blob(settings, data: bytes) -> str:
    digest = sha256_of(data)
    await blob_store(settings).put(digest, data)
    return digest


# New content is the common case (every deposited invoice is a new file): one statement
# inserts it, and only content already stored is then looked up. A concurrent deposit of the
# same bytes waits for the other's commit, then finds its row, instead of failing on the index.
_NEW_FILE_SQL = ("INSERT INTO stored_file (sha256, size, media_type, created_at) VALUES ({}, {}, {}, {}) "
                 "ON CONFLICT (sha256) DO NOTHING RETURNING id")
_FILE_SQL = "SELECT id FROM stored_file WHERE sha256 = {}"


async def file_row(digest: str, size: int, media_type: str) -> int:
    """The StoredFile row of this content, created if new (call inside the write transaction)."""
    created = await StoredFile.raw(_NEW_FILE_SQL, digest, size, media_type, utcnow())
    if created:
        return created[0]["id"]
    return (await StoredFile.raw(_FILE_SQL, digest))[0]["id"]


async def read_blob(settings, digest: str) -> bytes:
    return await blob_store(settings).get(digest)


async def supporting_attachments(settings, invoice_id: int, uploads: list) -> Callable[[], Awaitable[None]]:
    """Write supporting files now (before any commit); returns what saves their rows, to run
    inside the transaction of the change they go with (e.g. a COMPLETEE answer)."""
    from backend.invoices.deposit import attachment_type
    from backend.invoices.tables import Attachment

    stored = [(upload, await write_blob(settings, upload.data)) for upload in uploads]

    async def save_rows() -> None:
        for upload, digest in stored:
            media_type = attachment_type(upload.data)
            file_id = await file_row(digest, len(upload.data), media_type)
            await Attachment.insert(Attachment(invoice=invoice_id, file=file_id, filename=upload.filename[:255],
                                               media_type=media_type, role="supporting"))

    return save_rows


class NoFileRows(Exception):
    """The database names no stored file at all: most likely the wrong database, never a reason to empty the store."""


@dataclass
class OrphanReport:
    examined: int = 0  # blobs in the store
    orphans: int = 0  # named by no row and older than the grace period
    orphan_bytes: int = 0


async def clean_orphans(settings, *, older_than: timedelta, dry_run: bool = False) -> OrphanReport:
    """Delete the blobs no StoredFile row names, written (or rewritten) before now - older_than.

    The grace period protects a blob written for a transaction still in flight (its row is
    not committed yet); rewriting existing content restarts its date (blobstore.py).
    """
    store = blob_store(settings)
    if not await StoredFile.exists():
        raise NoFileRows()
    cutoff = utcnow() - older_than
    report = OrphanReport()
    async for batch in store.listing():
        report.examined += len(batch)
        old = {info.digest: info for info in batch if info.modified < cutoff}
        if not old:
            continue
        named = await StoredFile.select(StoredFile.sha256).where(StoredFile.sha256.is_in(list(old))).output(as_list=True)
        for digest in old.keys() - set(named):
            report.orphans += 1
            report.orphan_bytes += old[digest].size
            if not dry_run:
                await store.delete(digest)
    return report
