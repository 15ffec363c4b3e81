"""Idempotency-Key on API POSTs: a retried request gets the first answer, never a second effect.

The first request inserts a record (unique per key and Idempotency-Key) before doing
anything; a concurrent duplicate fails that insert and is told to retry (409), so the
two never both execute. The answer is stored when the work is done. A request that
failed before committing anything (a problem response) leaves no record: the client may
retry.

A request may also die with its process (SIGKILL, power cut) between its commit and the
storing of its answer. So the record is only *leased* to the request: a heartbeat extends
the lease while it runs, and a retry after the lease takes the key over. The change the
first attempt committed is written in its own transaction onto the record
(backend/lib/effects.py): a takeover that finds one answers from it (`replay`), as the
first attempt would have; one that finds none runs the work again, since nothing happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec
from litestar import Request, Response

from backend.api.auth import ApiPrincipal
from backend.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from backend.api.tables import IdempotencyRecord
from backend.lib import effects
from backend.lib.common import utcnow
from backend.lib.db import is_unique_violation

HEADER = "idempotency-key"
MAX_KEY = 255
RETENTION = timedelta(hours=24)  # how long a retry still gets the first answer
LEASE = timedelta(seconds=15)  # how long a request that stopped renewing still holds its key
HEARTBEAT_SECONDS = 5  # renewal period: a third of the lease, so one late beat loses nothing

Work = Callable[[], Awaitable[Response]]
Replay = Callable[[int], Awaitable[Response]]  # the committed effect's row id → the answer


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


def _replayed(record: dict) -> Response:
    return Response(
        (record["response_body"] or "").encode(), status_code=record["status_code"],
        media_type=record["content_type"] or "application/json", headers={"Idempotent-Replayed": "true"},
    )


def _in_progress(record: dict) -> ApiProblem:
    wait = max(1, math.ceil((record["lease_until"] - utcnow()).total_seconds())) if record["lease_until"] else 1
    return ApiProblem(409, "idempotency_in_progress",
                      "Une requête avec la même clé d'idempotence est en cours : réessayez dans un instant.",
                      headers={"Retry-After": str(wait)})


class _Claim:
    """This request's hold on (api key, Idempotency-Key): the record's id and our owner token."""

    def __init__(self, record_id: int, owner: str) -> None:
        self.record_id, self.owner = record_id, owner

    @property
    def ours(self):
        return (IdempotencyRecord.id == self.record_id) & (IdempotencyRecord.owner == self.owner)

    async def record_effect(self, kind: str, row_id: int) -> None:
        """Runs inside the effect's transaction (effects.note_committed)."""
        await IdempotencyRecord.update({IdempotencyRecord.effect_kind: kind, IdempotencyRecord.effect_id: row_id}).where(self.ours)

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):  # a missed beat only shortens the lease
                await IdempotencyRecord.update({IdempotencyRecord.lease_until: utcnow() + LEASE}).where(self.ours)

    async def store(self, response: Response) -> None:
        rendered = response.content if isinstance(response.content, bytes) else response.render(response.content, response.media_type)
        await IdempotencyRecord.update({
            IdempotencyRecord.status_code: response.status_code,
            IdempotencyRecord.response_body: rendered.decode(),
            IdempotencyRecord.content_type: str(response.media_type),
        }).where(self.ours)

    async def release(self) -> None:
        await IdempotencyRecord.delete().where(self.ours)


async def _existing(principal: ApiPrincipal, key: str) -> dict | None:
    return await IdempotencyRecord.select().where(
        (IdempotencyRecord.api_key == principal.key_id) & (IdempotencyRecord.key == key)
    ).first()


async def _claim(principal: ApiPrincipal, key: str, fingerprint: str) -> tuple[_Claim | None, dict | None]:
    """(our claim, None) when this request may run: the key is new, or its holder died;
    (None, record) when another request holds it or has answered."""
    owner = secrets.token_hex(8)
    row = IdempotencyRecord(api_key=principal.key_id, key=key, request_hash=fingerprint, owner=owner, lease_until=utcnow() + LEASE)
    try:
        await IdempotencyRecord.insert(row)
        return _Claim(row.id, owner), None
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    record = await _existing(principal, key)
    if record is None:  # the first request failed and released the key meanwhile
        raise ApiProblem(409, "idempotency_in_progress", "Une requête avec la même clé d'idempotence vient d'échouer : réessayez.",
                         headers={"Retry-After": "1"})
    if record["request_hash"] != fingerprint or record["status_code"] is not None:
        return None, record
    if record["lease_until"] is not None and record["lease_until"] > utcnow():
        raise _in_progress(record)
    taken = await IdempotencyRecord.update({IdempotencyRecord.owner: owner, IdempotencyRecord.lease_until: utcnow() + LEASE}).where(
        (IdempotencyRecord.id == record["id"]) & (IdempotencyRecord.owner == record["owner"])
        & IdempotencyRecord.status_code.is_null()
    ).returning(IdempotencyRecord.id)
    if not taken:  # another retry took it over first
        raise _in_progress(record)
    return _Claim(record["id"], owner), record


async def _answer(claim: _Claim, previous: dict | None, work: Work, replay: Replay | None, kinds: frozenset[str]) -> Response:
    """Run the work (or answer from what a dead holder committed) while renewing the lease."""
    if previous is not None and previous["effect_id"] is not None and replay is not None:
        response = await replay(previous["effect_id"])
        response.headers["Idempotent-Replayed"] = "true"
        return response
    with effects.recording(kinds, claim.record_effect):
        return await work()


async def idempotent(request: Request, principal: ApiPrincipal, work: Work, *, body: bytes | None = None,
                     replay: Replay | None = None, effect: str | None = None) -> Response:
    """Run `work` once per Idempotency-Key; `body` stands for the request body when the
    raw bytes are not comparable (multipart boundaries are random). `effect` names what
    the work commits (effects.note_committed's kind) and `replay` answers from that row,
    for a retry whose first attempt died after committing it; without them such a retry
    runs the work again (for changes the domain itself refuses to repeat)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await work()
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ApiProblem(422, "idempotency_key_invalid", f"L'en-tête Idempotency-Key doit contenir de 1 à {MAX_KEY} caractères.")
    fingerprint = await _fingerprint(request, body)
    claim, record = await _claim(principal, key, fingerprint)
    if claim is None:
        if record["request_hash"] != fingerprint:
            raise ApiProblem(422, "idempotency_key_reused",
                             "Cette clé d'idempotence a déjà servi pour une requête différente : utilisez une nouvelle clé.")
        return _replayed(record)
    kinds = frozenset({effect}) if effect else frozenset()
    beating = asyncio.create_task(claim.heartbeat())
    try:
        response = await _answer(claim, record, work, replay, kinds)
    except ApiProblem as problem:
        await _settle_problem(claim, problem)
        raise
    except BaseException:
        with contextlib.suppress(Exception):
            await claim.release()
        raise
    finally:
        beating.cancel()
    await _forget_old(principal)
    await claim.store(response)
    return response


async def _settle_problem(claim: _Claim, problem: ApiProblem) -> None:
    """A problem raised after the work committed (an invoice refused at its deposit) is the
    first answer: kept for retries. Before any commit, the key is released."""
    committed = await IdempotencyRecord.select(IdempotencyRecord.effect_id).where(claim.ours).first()
    if committed is None or committed["effect_id"] is None:
        await claim.release()
        return
    await claim.store(Response(msgspec.json.encode(problem.body()), status_code=problem.status_code, media_type=PROBLEM_MEDIA_TYPE))
