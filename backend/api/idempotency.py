"""Idempotency-Key on API POSTs: a retried request gets the first answer, never a second effect.

The first request inserts a record (unique per key and Idempotency-Key) before doing
anything; a concurrent duplicate fails that insert and is told to retry (409), so the
two never both execute. The answer is stored when the work is done. A request that
failed (a problem response) leaves no record: nothing happened, the client may retry.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from collections.abc import Awaitable, Callable

from litestar import Request, Response

from backend.api.auth import ApiPrincipal
from backend.api.problems import ApiProblem
from backend.api.tables import IdempotencyRecord
from backend.lib.common import utcnow
from backend.lib.db import is_unique_violation

HEADER = "idempotency-key"
MAX_KEY = 255
RETENTION = timedelta(hours=24)  # how long a retry still gets the first answer


async def _fingerprint(request: Request, body: bytes | None) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.url.path}\n".encode())
    digest.update((request.headers.get("content-type", "").split(";")[0] + "\n").encode())
    digest.update(body if body is not None else await request.body())
    return digest.hexdigest()


async def _forget_old(principal: ApiPrincipal) -> None:
    """Past the retention a key may be reused; one indexed DELETE per new POST keeps the table small."""
    await IdempotencyRecord.delete().where(
        (IdempotencyRecord.api_key == principal.key_id) & (IdempotencyRecord.created_at < utcnow() - RETENTION)
    )


def _replay(record: dict) -> Response:
    return Response(
        (record["response_body"] or "").encode(), status_code=record["status_code"],
        media_type=record["content_type"] or "application/json", headers={"Idempotent-Replayed": "true"},
    )


async def _claim(principal: ApiPrincipal, key: str, fingerprint: str) -> dict | None:
    """None when this request is the first; the existing record otherwise."""
    try:
        await IdempotencyRecord.insert(IdempotencyRecord(api_key=principal.key_id, key=key, request_hash=fingerprint))
        return None
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    record = await IdempotencyRecord.select().where(
        (IdempotencyRecord.api_key == principal.key_id) & (IdempotencyRecord.key == key)
    ).first()
    if record is None:  # the first request failed and released the key meanwhile
        raise ApiProblem(409, "idempotency_in_progress", "Une requête avec la même clé d'idempotence vient d'échouer : réessayez.",
                         headers={"Retry-After": "1"})
    return record


async def idempotent(request: Request, principal: ApiPrincipal, work: Callable[[], Awaitable[Response]],
                     *, body: bytes | None = None) -> Response:
    """Run `work` once per Idempotency-Key; `body` stands for the request body when the
    raw bytes are not comparable (multipart boundaries are random)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await work()
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ApiProblem(422, "idempotency_key_invalid", f"L'en-tête Idempotency-Key doit contenir de 1 à {MAX_KEY} caractères.")
    fingerprint = await _fingerprint(request, body)
    record = await _claim(principal, key, fingerprint)
    if record is not None:
        if record["request_hash"] != fingerprint:
            raise ApiProblem(422, "idempotency_key_reused",
                             "Cette clé d'idempotence a déjà servi pour une requête différente : utilisez une nouvelle clé.")
        if record["status_code"] is None:
            raise ApiProblem(409, "idempotency_in_progress",
                             "Une requête avec la même clé d'idempotence est en cours : réessayez dans un instant.",
                             headers={"Retry-After": "1"})
        return _replay(record)
    where = (IdempotencyRecord.api_key == principal.key_id) & (IdempotencyRecord.key == key)
    try:
        response = await work()
    except BaseException:
        await IdempotencyRecord.delete().where(where)
        raise
    rendered = response.content if isinstance(response.content, bytes) else response.render(response.content, response.media_type)
    await _forget_old(principal)
    await IdempotencyRecord.update({
        IdempotencyRecord.status_code: response.status_code,
        IdempotencyRecord.response_body: rendered.decode(),
        IdempotencyRecord.content_type: str(response.media_type),
    }).where(where)
    return response
