"""API v1, the reform's lifecycle: status events with their codes and CDAR messages, the supplier's
collection (Encaissée, 212), and a recipient's software changing a status by a CDAR message.

Every change goes through `lifecycle.change_status`, with the same checks as the JSON routes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import JSONBody, PathParameter

from backend.api import service
from backend.api.auth import ApiPrincipal, require_scope
from backend.api.controllers import _detail, _invoice_answer, _json
from backend.api.decoding import check_numbers
from backend.api.idempotency import idempotent
from backend.api.problems import ApiProblem
from backend.api.schemas import InvoiceDetail, PaidAmount
from backend.invoices.tables import Invoice
from backend.lib.formats import plural
from backend.processing import cdar, lifecycle, lifecycle_messages
from backend.processing.lifecycle import Payment

ID = PathParameter(ge=1, le=2**31 - 1, examples=[Example(value=1)])
XML = "application/xml"

# A posted message's code → the status it sets (the recipient's steps only).
POSTED_STATUSES = {
    "204": "PRISE_EN_CHARGE", "205": "SERVICE_FAIT", "208": "SUSPENDUE", "210": "REJETEE",
    "211": "MISE_EN_PAIEMENT", "221": "A_RECYCLER",
}


class PaymentOut(msgspec.Struct, kw_only=True):
    date: str
    amount: str


class LifecycleEventOut(msgspec.Struct, kw_only=True):
    id: int
    status: str  # the Chorus Pro name (MISE_EN_PAIEMENT…)
    status_label: str
    code: str | None  # the reform's code (XP Z12-012 v1.4), null for a step it has no status for (MANDATEE)
    label: str | None  # the reform's label ("Paiement transmis")
    date: datetime
    actor_kind: str
    reason_code: str | None
    reason_label: str | None
    reform_reason_code: str | None  # the reason the CDAR message carries (BR-FR-CDV-CL-09)
    comment: str
    payment: PaymentOut | None
    cdar_url: str | None  # the CDAR D22B message (application/xml); null without a code


class CollectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: date  # the day the money arrived
    amount: PaidAmount
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    version: int | None = None


async def _events(invoice: Invoice, base: str) -> list[LifecycleEventOut]:
    rows = await lifecycle_messages.history_rows(invoice.id)
    events = []
    for row in rows:
        summary = lifecycle_messages.event_summary(row)
        payment = summary.pop("payment")
        events.append(LifecycleEventOut(
            **summary, payment=PaymentOut(**payment) if payment else None,
            cdar_url=f"{base}/{invoice.id}/lifecycle/{row['id']}/cdar" if summary["code"] else None,
        ))
    return events


async def _cdar(invoice: Invoice, event_id: int) -> Response:
    data = await lifecycle_messages.message(invoice, event_id)
    if data is None:
        raise ApiProblem(404, "not_found", "Cet évènement n'existe pas, ou n'a pas de message de cycle de vie (étape sans statut de la réforme).")
    return Response(data, media_type=XML)


@get("/invoices/{invoice_id:int}/lifecycle", summary="Cycle de vie d'une facture émise (codes de la réforme)", tags=["Cycle de vie"])
async def supplier_lifecycle(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> list[LifecycleEventOut]:
    """Les statuts de la facture dans l'ordre, chacun avec son code XP Z12-012 (200 Déposée … 212 Encaissée),
    son motif et l'adresse de son message CDAR D22B. Le mandatement n'a pas de statut dans la réforme :
    il est listé sans code ni message."""
    require_scope(principal, "read")
    invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("supplier",))
    return await _events(invoice, "/api/v1/invoices")


@get("/received/{invoice_id:int}/lifecycle", summary="Cycle de vie d'une facture reçue (codes de la réforme)", tags=["Cycle de vie"])
async def recipient_lifecycle(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> list[LifecycleEventOut]:
    """Comme pour une facture émise, vu par le destinataire (l'encaissement déclaré par le fournisseur y figure)."""
    require_scope(principal, "read")
    invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("recipient",))
    return await _events(invoice, "/api/v1/received")


@get("/invoices/{invoice_id:int}/lifecycle/{event_id:int}/cdar", summary="Message CDAR d'un statut (facture émise)",
     tags=["Cycle de vie"], media_type=XML)
async def supplier_cdar(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], event_id: Annotated[int, ID]) -> Response[bytes]:
    """Le message de cycle de vie CDAR D22B de ce statut, valide selon le XSD et le schematron BR-FR-CDV."""
    require_scope(principal, "read")
    return await _cdar(await service.visible_invoice(principal.structure_id, invoice_id, sides=("supplier",)), event_id)


@get("/received/{invoice_id:int}/lifecycle/{event_id:int}/cdar", summary="Message CDAR d'un statut (facture reçue)",
     tags=["Cycle de vie"], media_type=XML)
async def recipient_cdar(principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID], event_id: Annotated[int, ID]) -> Response[bytes]:
    require_scope(principal, "read")
    return await _cdar(await service.visible_invoice(principal.structure_id, invoice_id, sides=("recipient",)), event_id)


@post("/invoices/{invoice_id:int}/collection", status_code=200, summary="Déclarer un encaissement (statut 212)", tags=["Cycle de vie"])
async def collect(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID],
                  data: JSONBody[CollectionIn]) -> Response[InvoiceDetail]:
    """Depuis MISE_EN_PAIEMENT (ou un encaissement partiel) : l'argent est arrivé. Les encaissements
    partiels s'ajoutent ; leur total ne peut pas dépasser le montant dû (422 `collection_exceeds`,
    409 `fully_collected` quand tout est encaissé). Le destinataire le voit (webhook, temps réel)."""
    require_scope(principal, "deposit")
    check_numbers({"amount": data.amount})

    async def work() -> Response:
        invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("supplier",))
        try:
            payment = Payment(data.date, Decimal(data.amount))
        except ArithmeticError:
            raise ApiProblem(422, "collection_invalid", "Le montant encaissé n'est pas valide.") from None
        saved = await lifecycle.change_status(invoice.id, principal.actor(lifecycle.SUPPLIER), "ENCAISSEE",
                                              expected_version=data.version, comment=data.comment, payment=payment)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work, effect="invoice", replay=lambda i: _invoice_answer(principal, i))


def _stage(rule: str) -> str:
    """Which check refused the message, in the `stage` every API finding carries."""
    if rule == "CDAR-XSD":
        return "xsd"
    return "request" if rule.startswith("CDAR-") else "schematron"


def _refused(problems: list[cdar.Problem]) -> ApiProblem:
    findings = [{"rule": p.rule, "severity": p.severity, "stage": _stage(p.rule), "message": p.message, "location": p.location or None}
                for p in problems]
    errors = plural(len(problems), "erreur bloquante", "erreurs bloquantes")
    return ApiProblem(422, "cdar_invalid", f"Le message de cycle de vie est refusé : {errors}.",
                      findings=findings)


@post("/received/{invoice_id:int}/lifecycle", status_code=200, summary="Changer le statut par un message CDAR",
      tags=["Cycle de vie"], request_body_media_type=XML)
async def post_cdar(request: Request, principal: NamedDependency[ApiPrincipal], invoice_id: Annotated[int, ID]) -> Response[InvoiceDetail]:
    """Corps : un message CDAR D22B (XML) sur cette facture. Il est vérifié (XSD, schematron BR-FR-CDV) :
    422 `cdar_invalid` avec la liste des erreurs sinon. Codes acceptés : 204 Prise en charge,
    205 Approuvée (service fait), 208 Suspendue, 210 Refusée, 211 Paiement transmis (montant MPA),
    221 Erreur de routage ; les mêmes contrôles que `POST /received/{id}/status` s'appliquent."""
    require_scope(principal, "process")
    body = await request.body()
    root, problems = await anyio.to_thread.run_sync(cdar.validate, body)
    if root is None or cdar.fatal(problems):
        raise _refused(cdar.fatal(problems))
    posted = cdar.read_posted(root)

    async def work() -> Response:
        invoice = await service.visible_invoice(principal.structure_id, invoice_id, sides=("recipient",))
        target = _posted_target(posted, invoice)
        payment = Payment(posted.amount_date or (posted.set_at.date() if posted.set_at else None), posted.amount) \
            if target == "MISE_EN_PAIEMENT" and posted.amount is not None else None
        saved = await lifecycle.change_status(
            invoice.id, principal.actor(lifecycle.RECIPIENT), target, expected_version=None,
            reason_code=posted.reason_code or None, comment=posted.reason_text or "", payment=payment)
        return _json(await _detail(principal, saved))

    return await idempotent(request, principal, work, effect="invoice", replay=lambda i: _invoice_answer(principal, i))


def _posted_target(posted: cdar.PostedStatus, invoice: Invoice) -> str:
    if posted.invoice_number != invoice.number or posted.seller_siren != invoice.seller_siret[:9]:
        raise ApiProblem(422, "cdar_mismatch", f"Ce message porte sur la facture « {posted.invoice_number} » du vendeur "
                                               f"{posted.seller_siren or '(absent)'}, pas sur la facture n° {invoice.number} "
                                               f"du vendeur {invoice.seller_siret[:9]}.")
    target = POSTED_STATUSES.get(posted.code)
    if target is None:
        accepted = ", ".join(f"{code}" for code in POSTED_STATUSES)
        raise ApiProblem(422, "cdar_status_unsupported", f"Le statut {posted.code or '(absent)'} ne se pose pas par un message "
                                                         f"du destinataire ici. Statuts acceptés : {accepted}.")
    return target


HANDLERS = [supplier_lifecycle, recipient_lifecycle, supplier_cdar, recipient_cdar, collect, post_cdar]
