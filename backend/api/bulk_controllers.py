"""API grouped actions: an ERP takes in charge, certifies or mandates several received invoices
in one call, each through the lifecycle exactly as `POST /received/{id}/status` would
(processing/bulk.py). All or nothing for access: one id the key's structure did not receive
and nothing happens (404)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.api.auth import ApiPrincipal, require_scope
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.processing import bulk, lifecycle

InvoiceId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Mandate = Annotated[str, msgspec.Meta(max_length=lifecycle.MAX_MANDATE)]


class BulkInvoiceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: InvoiceId
    version: int | None = None  # the version the caller saw: a later change refuses this invoice (stale_version)
    mandate_number: Mandate | None = None  # MANDATEE: this invoice's own number (else the common one)


class BulkStatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: Literal["PRISE_EN_CHARGE", "SERVICE_FAIT", "MANDATEE"]
    invoices: Annotated[list[BulkInvoiceIn], msgspec.Meta(min_length=1, max_length=bulk.MAX_INVOICES)]
    mandate_number: Mandate | None = None  # MANDATEE: the number for every invoice without its own


class BulkResultOut(msgspec.Struct, kw_only=True):
    id: int
    number: str
    done: bool
    code: str | None = None  # why refused: the code POST /received/{id}/status would answer (stale_version…)
    detail: str | None = None


class BulkStatusOut(msgspec.Struct, kw_only=True):
    summary: str  # in French, as the site says it
    done: int
    refused: int
    results: list[BulkResultOut]


@post("/received/bulk", status_code=200, summary="Changer le statut de plusieurs factures reçues", tags=["Factures reçues"])
async def bulk_received_status(request: Request, principal: NamedDependency[ApiPrincipal], data: JSONBody[BulkStatusIn]) -> Response[BulkStatusOut]:
    """Prise en charge, service fait ou mandatement de 100 factures au plus. Chaque facture est
    vérifiée comme par `POST /received/{id}/status` : celles qui ne le permettent pas sont
    refusées (avec le même `code`), les autres traitées. 404 si une seule n'est pas reçue par
    la structure de la clé : rien n'est fait."""
    require_scope(principal, "process")

    async def work() -> Response:
        common = (data.mandate_number or "").strip() or None
        unique = {i.id: i for i in reversed(data.invoices)}  # an id given twice counts once (its first entry)
        items = [bulk.Item(i.id, i.version, ((i.mandate_number or "").strip() or common) if data.status == "MANDATEE" else None)
                 for i in (unique[n] for n in dict.fromkeys(i.id for i in data.invoices))]
        try:
            outcomes = await bulk.apply(principal.actor(lifecycle.RECIPIENT), principal.structure_id, data.status, items)
        except bulk.BulkRefused as exc:
            code = "not_found" if exc.http_status == 404 else "bulk_invalid"
            raise ApiProblem(exc.http_status, code, exc.message_fr) from None
        results = [BulkResultOut(id=o.invoice_id, number=o.number, done=o.done, code=o.code or None, detail=o.message or None)
                   for o in outcomes]
        body = BulkStatusOut(summary=bulk.summary(data.status, outcomes), done=sum(o.done for o in outcomes),
                             refused=sum(not o.done for o in outcomes), results=results)
        return Response(msgspec.json.encode(body), media_type="application/json")

    return await idempotent(request, principal, work)


HANDLERS = [bulk_received_status]
