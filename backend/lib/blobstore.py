"""Where the bytes of stored files live: the data folder, or an S3-compatible object store.

Every reader and writer of originals and attachments goes through `blob_store(settings)`.
Blobs are named by the SHA-256 of their content (backend/invoices/storage.py computes it),
written whole before the database commit that names them and never modified:

- `LocalBlobStore` (the default): files under the data folder, written atomically (temporary
  file, fsync, rename). One host only: another host cannot read them.
- `S3BlobStore` (FACTEUR_S3_BUCKET): objects in a bucket that every host shares. A PUT is
  atomic (the object appears whole or not at all) and carries the SHA-256, so a store that
  checks sums (AWS S3) refuses bytes that do not match their name.

Writing content that already exists refreshes its date: the orphan clean-up (which deletes
blobs no row names, once older than a grace period) then cannot delete a blob that a
transaction in flight is about to name again. Blocking calls run in worker threads; one
S3 client per process (botocore clients are thread-safe).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio


DIGEST = re.compile(r"[0-9a-f]{64}")
LIST_BATCH = 1000  # S3 returns at most 1000 keys per page
T = TypeVar("T")


class BlobStoreUnavailable(Exception):
    """The store could not be reached or refused the operation: nothing was written (503)."""


class BlobMissing(LookupError):
    """A row names content the store does not have (lost data, or hosts on different stores)."""


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    modified: datetime  # UTC; refreshed whenever the same content is written again


class BlobStore(Protocol):
    description: str  # for people: where the files are

    async def put(self, digest: str, data: bytes) -> None: ...

    async def get(self, digest: str) -> bytes: ...

    async def delete(self, digest: str) -> None: ...

    def listing(self) -> AsyncIterator[list[BlobInfo]]: ...

    async def ping(self) -> bool: ...


# --- the data folder ---------------------------------------------------------------------------

class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"dossier {root}"

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    async def put(self, digest: str, data: bytes) -> None:
        await _in_thread(self._write, digest, data, errors=OSError)

    async def get(self, digest: str) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self.path(digest).read_bytes)
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        except OSError as exc:
            raise BlobStoreUnavailable(f"{self.description} : {exc}") from exc

    async def delete(self, digest: str) -> None:
        await _in_thread(self.path(digest).unlink, True, errors=OSError)

    async def listing(self) -> AsyncIterator[list[BlobInfo]]:
        found = await _in_thread(self._scan, errors=OSError)
        for start in range(0, len(found), LIST_BATCH):
            yield found[start:start + LIST_BATCH]

    async def ping(self) -> bool:
        return await anyio.to_thread.run_sync(os.access, self.root.parent, os.W_OK)

    def _write(self, digest: str, data: bytes) -> None:
        target = self.path(digest)
        if target.exists():
            os.utime(target)  # content-addressed: same name, same bytes; only the date restarts
            return
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

    def _scan(self) -> list[BlobInfo]:
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                if DIGEST.fullmatch(name):  # temporary files of a write in progress start with "."
                    stat = os.stat(os.path.join(folder, name))
                    found.append(BlobInfo(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, timezone.utc)))
        return found


# --- an S3-compatible object store -------------------------------------------------------------

@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None


class S3BlobStore:
    def __init__(self, config: S3Config) -> None:
        import boto3
        from botocore.config import Config

        self.config = config
        self.description = f"bucket S3 «\u00a0{config.bucket}\u00a0»" + (f" ({config.endpoint_url})" if config.endpoint_url else "")
        # Short timeouts and few retries: a request waits seconds, not minutes, before its 503.
        client_config = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3},
                               s3={"addressing_style": "path"} if config.endpoint_url else {})
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=config.endpoint_url, region_name=config.region, config=client_config,
            aws_access_key_id=config.access_key_id, aws_secret_access_key=config.secret_access_key)

    def key(self, digest: str) -> str:
        return self.config.prefix + digest

    async def put(self, digest: str, data: bytes) -> None:
        # Always a PUT, even when the object exists: it restarts the object's date (see the
        # module docstring), and the checksum makes the store verify the content's name.
        checksum = base64.b64encode(bytes.fromhex(digest)).decode()
        await _in_thread(self.client.put_object, errors=_s3_errors(), Bucket=self.config.bucket, Key=self.key(digest),
                         Body=data, ChecksumSHA256=checksum, ContentType="application/octet-stream")

    async def get(self, digest: str) -> bytes:
        return await _in_thread(self._read, digest, errors=_s3_errors())

    async def delete(self, digest: str) -> None:
        await _in_thread(self.client.delete_object, errors=_s3_errors(), Bucket=self.config.bucket, Key=self.key(digest))

    async def listing(self) -> AsyncIterator[list[BlobInfo]]:
        pages: Iterator[dict] = iter(self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=self.config.prefix, PaginationConfig={"PageSize": LIST_BATCH}))
        while (page := await _in_thread(next, pages, None, errors=_s3_errors())) is not None:
            yield [info for item in page.get("Contents", []) if (info := self._info(item)) is not None]

    async def ping(self) -> bool:
        try:
            await _in_thread(self.client.head_bucket, errors=_s3_errors(), Bucket=self.config.bucket)
        except BlobStoreUnavailable:
            return False
        return True

    def _read(self, digest: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.config.bucket, Key=self.key(digest))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise BlobMissing(digest) from None

    def _info(self, item: dict[str, Any]) -> BlobInfo | None:
        name = item["Key"][len(self.config.prefix):]
        if not DIGEST.fullmatch(name):
            return None  # not ours: never listed for deletion
        return BlobInfo(name, item["Size"], item["LastModified"].astimezone(timezone.utc))


def _s3_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


async def _in_thread(function: Callable[..., T], *args: Any, errors: type[Exception] | tuple[type[Exception], ...],
                     **kwargs: Any) -> T:
    """The blocking call in a worker thread; its failures become BlobStoreUnavailable."""
    try:
        return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))
    except BlobMissing:
        raise
    except errors as exc:
        raise BlobStoreUnavailable(str(exc)) from exc


# --- one store per process ---------------------------------------------------------------------

def blob_store(settings) -> BlobStore:
    """The store the settings choose; built once per process (the S3 client loads its models once)."""
    if settings.s3_bucket is None:
        return _local_store(settings.files_dir)
    return _s3_store(S3Config(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region,
                              settings.s3_access_key_id, settings.s3_secret_access_key))


@lru_cache(maxsize=None)
def _local_store(root: Path) -> LocalBlobStore:
    return LocalBlobStore(root)


@lru_cache(maxsize=None)
def _s3_store(config: S3Config) -> S3BlobStore:
    return S3BlobStore(config)
