"""Original files stored by SHA-256, written atomically before the database commit, never modified.

The same content deposited twice is stored once. A file whose row never got committed
(a crash between the write and the commit) is an unreferenced blob: harmless, and it is
not an invoice, because only rows make invoices.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from backend.invoices.tables import StoredFile


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_path(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest[2:4] / digest


def _write_atomically(root: Path, digest: str, data: bytes) -> None:
    target = blob_path(root, digest)
    if target.exists():
        return  # content-addressed: same name, same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{digest}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    os.chmod(target, 0o444)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


async def write_blob(root: Path, data: bytes) -> str:
    digest = sha256_of(data)
    await anyio.to_thread.run_sync(_write_atomically, root, digest, data)
    return digest


async def file_row(digest: str, size: int, media_type: str) -> int:
    """The StoredFile row of this content, created if new (call inside the write transaction)."""
    existing = await StoredFile.select(StoredFile.id).where(StoredFile.sha256 == digest).first()
    if existing:
        return existing["id"]
    row = StoredFile(sha256=digest, size=size, media_type=media_type)
    await row.save()
    return row.id


async def read_blob(root: Path, digest: str) -> bytes:
    return await anyio.to_thread.run_sync(blob_path(root, digest).read_bytes)


async def supporting_attachments(root: Path, invoice_id: int, uploads: list) -> Callable[[], Awaitable[None]]:
    """Write supporting files now (before any commit); returns what saves their rows, to run
    inside the transaction of the change they go with (e.g. a COMPLETEE answer)."""
    from backend.invoices.deposit import attachment_type
    from backend.invoices.tables import Attachment

    stored = [(upload, await write_blob(root, upload.data)) for upload in uploads]

    async def save_rows() -> None:
        for upload, digest in stored:
            media_type = attachment_type(upload.data)
            file_id = await file_row(digest, len(upload.data), media_type)
            await Attachment.insert(Attachment(invoice=invoice_id, file=file_id, filename=upload.filename[:255],
                                               media_type=media_type, role="supporting"))

    return save_rows
