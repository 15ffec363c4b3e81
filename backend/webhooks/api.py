"""Webhooks in API v1 (mounted by backend/api/router.py under /api/v1): `api_router`.

Scope: `read`. A webhook carries the same invoice data as the read endpoints (numbers,
statuses, comments), so whoever may read them may have them pushed; `deposit`-only or
`directory`-only keys cannot subscribe. Another structure's webhook is 404.

The secret is in the creation answer only. With an Idempotency-Key, the stored answer
(backend/api/idempotency.py) is kept without the secret, and a replay fills it back from
the sealed copy: the idempotency table never holds a signing secret in clear.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from backend.api.idempotency import idempotent
from backend.api.problems import PROBLEM_RESPONSES, ApiProblem
from backend.api.tables import IdempotencyRecord
from backend.webhooks import service, signing
from backend.webhooks.tables import Webhook
from backend.lib.common import parse_id

JSON = "application/json"
SCOPE = "read"
ID = PathParameter(ge=1, le=2**31 - 1)
DELIVERY_ID = PathParameter(min_length=1, max_length=40)
TAGS = ["Webhooks"]
Event = Annotated[str, msgspec.Meta(examples=list(service.EVENTS))]


class WebhookIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(examples=["https://erp.exemple.fr/facteur/webhook"],
                                     description="https:// (ni identifiants, ni adresse interne), 1000 caractères au plus")]
    events: Annotated[list[Event], msgspec.Meta(description="Au moins un de : " + ", ".join(service.EVENTS))]


class WebhookOut(msgspec.Struct, kw_only=True):
    id: int
    url: str
    events: list[str]
    active: bool
    secret_hint: str  # the start of the secret, to recognise it
    created_at: datetime


class WebhookCreated(WebhookOut, kw_only=True):
    secret: str | None = msgspec.field(default=None)  # shown in this answer only


class AttemptOut(msgspec.Struct, kw_only=True):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: str  # the delivery id the receiver saw in Facteur-Delivery and in the body
    event: str
    invoice_id: int | None
    status: str  # pending | delivered | failed
    attempts: int
    last_status_code: int | None
    last_error: str
    redelivery_of: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


class WebhookDetail(WebhookOut, kw_only=True):
    recent_deliveries: list[DeliveryOut]


class WebhookList(msgspec.Struct, kw_only=True):
    items: list[WebhookOut]


class DeliveryPage(msgspec.Struct, kw_only=True):
    items: list[DeliveryOut]
    next_cursor: str | None


def _json(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status, media_type=JSON)


def _problem(exc: service.WebhookError) -> ApiProblem:
    return ApiProblem(exc.http_status, exc.code, exc.message)


def _webhook(row: dict[str, Any], cls=WebhookOut, **extra) -> Any:
    return cls(id=row["id"], url=row["url"], events=row["events"], active=row["active"], secret_hint=row["secret_hint"],
               created_at=row["created_at"], **extra)


def _delivery(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=row["delivery_id"], event=row["event"], invoice_id=row["invoice"], status=row["status"], attempts=row["attempts"],
        last_status_code=row["last_status_code"], last_error=row["last_error"], redelivery_of=row["redelivery_of"] or None,
        created_at=row["created_at"], last_attempt_at=row["last_attempt_at"], delivered_at=row["delivered_at"],
        attempt_log=[AttemptOut(at=a["attempted_at"], status_code=a["status_code"], error=a["error"], duration_ms=a["duration_ms"])
                     for a in row.get("attempt_log", [])],
    )


@post("/", status_code=201, summary="Créer un webhook (le secret n'est montré qu'ici)", tags=TAGS, responses=PROBLEM_RESPONSES)
async def create_webhook(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[WebhookIn]) -> Response[WebhookCreated]:
    require_scope(principal, SCOPE)
    settings = request.app.state.settings

    async def work() -> Response:
        try:
            new = await service.create_webhook(
                principal.structure_id, data.url, data.events, app_secret=settings.secret_key,
                allow_local=settings.webhook_allow_local, api_key_id=principal.key_id,
            )
        except service.WebhookError as exc:
            raise _problem(exc) from None
        return _json(_webhook(new.webhook, WebhookCreated, secret=new.secret), 201)

    return await _secret_once(request, principal, await idempotent(request, principal, work))


async def _secret_once(request: Request, principal: ApiPrincipal, response: Response) -> Response:
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key or response.status_code != 201:
        return response
    body = json.loads(response.content)
    where = (IdempotencyRecord.api_key == principal.key_id) & (IdempotencyRecord.key == key)
    if response.headers.get("Idempotent-Replayed") != "true":
        await IdempotencyRecord.update({IdempotencyRecord.response_body: json.dumps({**body, "secret": None})}).where(where)
        return response
    row = await Webhook.select(Webhook.secret_sealed).where(
        (Webhook.id == body.get("id")) & (Webhook.structure == principal.structure_id)).first()
    if row is not None:  # deleted since: the secret is gone with it
        settings = request.app.state.settings
        try:
            body["secret"] = signing.unseal(row["secret_sealed"], app_secret=settings.secret_key, structure_id=principal.structure_id)
        except signing.SealError:
            pass  # FACTEUR_SECRET_KEY changed: the webhook must be recreated anyway
    return Response(json.dumps(body).encode(), status_code=201, media_type=JSON, headers={"Idempotent-Replayed": "true"})


@get("/", summary="Les webhooks de la structure (sans secret)", tags=TAGS, responses=PROBLEM_RESPONSES)
async def list_webhooks(principal: NamedDependency[ApiPrincipal]) -> WebhookList:
    require_scope(principal, SCOPE)
    return WebhookList(items=[_webhook(r) for r in await service.list_webhooks(principal.structure_id)])


@get("/{webhook_id:int}", summary="Un webhook et ses livraisons récentes", tags=TAGS, responses=PROBLEM_RESPONSES)
async def get_webhook(principal: NamedDependency[ApiPrincipal], webhook_id: Annotated[int, ID]) -> WebhookDetail:
    require_scope(principal, SCOPE)
    try:
        row = await service.get_webhook(principal.structure_id, webhook_id)
        recent = await service.deliveries(principal.structure_id, webhook_id, limit=service.RECENT)
    except service.WebhookError as exc:
        raise _problem(exc) from None
    return _webhook(row, WebhookDetail, recent_deliveries=[_delivery(d) for d in recent])


@delete("/{webhook_id:int}", status_code=204, summary="Supprimer un webhook (les envois en attente s'arrêtent)", tags=TAGS,
        responses=PROBLEM_RESPONSES)
async def delete_webhook(principal: NamedDependency[ApiPrincipal], webhook_id: Annotated[int, ID]) -> None:
    require_scope(principal, SCOPE)
    try:
        await service.delete_webhook(principal.structure_id, webhook_id)
    except service.WebhookError as exc:
        raise _problem(exc) from None


@get("/{webhook_id:int}/deliveries", summary="Journal des livraisons (pagination par curseur)", tags=TAGS,
     responses=PROBLEM_RESPONSES)
async def list_deliveries(
    principal: NamedDependency[ApiPrincipal],
    webhook_id: Annotated[int, ID],
    limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE, description="1 à 100")] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=20, description="Le `next_cursor` de la page précédente.")] = None,
) -> DeliveryPage:
    require_scope(principal, SCOPE)
    before = None
    if cursor:
        before = parse_id(cursor)  # digits only, and within the database's ids
        if before is None:
            raise ApiProblem(422, "cursor_invalid", "Le curseur n'est pas valide : reprenez le `next_cursor` de la page précédente.")
    try:
        rows = await service.deliveries(principal.structure_id, webhook_id, limit=limit, before=before)
    except service.WebhookError as exc:
        raise _problem(exc) from None
    next_cursor = str(rows[-1]["id"]) if len(rows) == limit else None
    return DeliveryPage(items=[_delivery(r) for r in rows], next_cursor=next_cursor)


@post("/{webhook_id:int}/deliveries/{delivery_id:str}/redeliver", status_code=202, tags=TAGS, responses=PROBLEM_RESPONSES,
      summary="Renvoyer une livraison (une nouvelle livraison si elle était livrée ou abandonnée)")
async def redeliver(request: Request, principal: NamedDependency[ApiPrincipal], webhook_id: Annotated[int, ID],
                    delivery_id: Annotated[str, DELIVERY_ID]) -> Response[DeliveryOut]:
    require_scope(principal, SCOPE)

    async def work() -> Response:
        try:
            row = await service.redeliver(principal.structure_id, webhook_id, delivery_id)
        except service.WebhookError as exc:
            raise _problem(exc) from None
        return _json(_delivery(row), 202)

    return await idempotent(request, principal, work)


api_router = Router(path="/webhooks", route_handlers=[
    create_webhook, list_webhooks, get_webhook, delete_webhook, list_deliveries, redeliver,
])
