"""The /api/v1 router, its problem+json errors, its OpenAPI 3.1 document and its offline docs page."""

from __future__ import annotations

import importlib
from pathlib import Path
from functools import lru_cache
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.response import Template

from backend.accounts.spaces import API, PUBLIC_ROUTE, space
from backend.api.auth import api_principal
from backend.api.controllers import HANDLERS
from backend.api.export_controllers import HANDLERS as EXPORT_HANDLERS
from backend.api.bulk_controllers import HANDLERS as BULK_HANDLERS
from backend.api.lifecycle_controllers import HANDLERS as LIFECYCLE_HANDLERS
from backend.tickets.api import HANDLERS as TICKET_HANDLERS
from backend.works.api import HANDLERS as WORKS_HANDLERS
from backend.works.api import REQUEST_EXAMPLE as WORKS_EXAMPLE
from backend.justice.api import HANDLERS as JUSTICE_HANDLERS
from backend.justice.api import REQUEST_EXAMPLE as JUSTICE_EXAMPLE
from backend.works.api import ACTION_EXAMPLE as WORKS_ACTION_EXAMPLE, PIECE_EXAMPLE as WORKS_PIECE_EXAMPLE
from backend.api.decoding import ApiRequest, finding, french, location, schema_problem
from backend.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, ApiProblem
from backend.lib.errors import CODES, MESSAGES
from backend.lib.heavy import Busy
from backend.processing.lifecycle import TransitionError

PREFIX = "/api/v1"


def _problem_response(problem: ApiProblem) -> Response:
    return Response(problem.body(), status_code=problem.status_code, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers or {})


def problem_handler(request: Request, exc: ApiProblem) -> Response:
    return _problem_response(exc)


def transition_handler(request: Request, exc: TransitionError) -> Response:
    return _problem_response(ApiProblem(exc.http_status, exc.code, exc.message_fr))


def validation_handler(request: Request, exc: ValidationException) -> Response:
    """Litestar's 400 for a body or parameter that does not match the schema: a 422 here, in
    French, naming the field (`lines[0].unit_price`) in `detail` and in each finding."""
    errors = [e if isinstance(e, dict) else {"message": str(e)} for e in (exc.extra if isinstance(exc.extra, list) else [])]
    findings = [finding(location(e.get("key"), str(e.get("message", ""))), french(str(e.get("message", "")))) for e in errors]
    return _problem_response(schema_problem(findings))


def http_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    return _problem_response(ApiProblem(status, CODES.get(status, "error"), MESSAGES.get(status, exc.detail),
                                        headers=exc.headers or None))


def busy_handler(request: Request, exc: Busy) -> Response:
    return _problem_response(ApiProblem(exc.status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)}))


EXCEPTION_HANDLERS = {ApiProblem: problem_handler, Busy: busy_handler, TransitionError: transition_handler,
                      ValidationException: validation_handler, HTTPException: http_handler}


def _webhooks_router() -> Router | None:
    """The webhooks helper's `api_router`, when its module exists."""
    for module in ("backend.webhooks.api", "backend.webhooks.controllers", "backend.webhooks"):
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        if hasattr(found, "api_router"):
            return found.api_router
    return None


def build_router() -> Router:
    webhooks = _webhooks_router()
    handlers = [*HANDLERS, *EXPORT_HANDLERS, *BULK_HANDLERS, *LIFECYCLE_HANDLERS, *TICKET_HANDLERS, *WORKS_HANDLERS, *JUSTICE_HANDLERS]
    for handler in handlers:  # every route documents its problem responses
        handler.responses = {**PROBLEM_RESPONSES, **(handler.responses or {})}
    return Router(
        path=PREFIX,
        opt=space(API),  # a key of a structure and its scopes
        route_handlers=[*handlers, *([webhooks] if webhooks is not None else [])],
        dependencies={"principal": Provide(api_principal)},
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=ApiRequest,
    )


OPENAPI_DESCRIPTION = """API de Facteur pour les logiciels de facturation (ERP).

Authentification : `Authorization: Bearer <clé>` (clé créée par un gestionnaire dans « Mon compte → Clés d'API »
ou par `facteur apikey create`). Erreurs au format RFC 9457 (`application/problem+json`) avec un `code` stable.
Chaque POST accepte un en-tête `Idempotency-Key` : la même clé avec le même corps renvoie la première réponse."""


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    """Built from an app that holds only the API routes: the rest of the site is not in it."""
    config = OpenAPIConfig(
        title="Facteur API", version="1.0.0", description=OPENAPI_DESCRIPTION, path="/_unused_openapi",
        servers=[Server(url="/")], render_plugins=[],
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="Clé d'API")}),
        security=[{"bearer": []}],
    )
    schema_app = Litestar(route_handlers=[build_router()], openapi_config=config)
    document = schema_app.openapi_schema.to_schema()
    _patch(document)
    return msgspec.json.encode(document)


def _patch(document: dict[str, Any]) -> None:
    """What Litestar cannot infer: the multipart bodies of a deposit and of an attachment sent
    ahead (read by hand for idempotency)."""
    operation = document["paths"][f"{PREFIX}/deposits"]["post"]
    operation["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                         "description": "Factur-X (PDF), CII ou UBL (XML), ou ZIP de factures"},
                "attachment": {"type": "array", "items": {"type": "string", "format": "binary"},
                               "description": "Pièces jointes (PDF, JPEG, PNG) d'une facture unique"},
                "validator_siret": {"type": "string", "pattern": "^[0-9]{14}$", "examples": ["73282932000074"],
                                    "description": "Factures A9 (sous-traitant) et A12 (cotraitant) : SIRET du titulaire ou "
                                                   "du mandataire qui les valide (15 jours, tacite ensuite)"},
                "validator_2_siret": {"type": "string", "pattern": "^[0-9]{14}$",
                                      "description": "Sous-traitant d'un cotraitant : SIRET du mandataire (second niveau)"},
            }},
        }},
    }
    document["paths"][f"{PREFIX}/attachments"]["post"]["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary", "description": "Le document : PDF, JPEG ou PNG"},
            }},
        }},
    }
    _patch_cdar(document)
    binary = {"schema": {"type": "string", "format": "binary"}}
    certificate = document["paths"][f"{PREFIX}/invoices/{{invoice_id}}/certificate"]["get"]["responses"]["200"]
    certificate["content"] = {"application/pdf": binary}
    for path in ("/invoices/{invoice_id}/file", "/invoices/{invoice_id}/attachments/{attachment_id}"):
        ok = document["paths"][f"{PREFIX}{path}"]["get"]["responses"]["200"]
        ok["content"] = {media: binary for media in FILE_MEDIA_TYPES}
    for (path, method), example in REQUEST_EXAMPLES.items():
        content = document["paths"][f"{PREFIX}{path}"][method]["requestBody"]["content"]["application/json"]
        content["examples"] = {"exemple": {"summary": "Exemple", "value": example}}
    content = document["paths"][f"{PREFIX}/invoices"]["post"]["requestBody"]["content"]["application/json"]
    content["examples"]["franchise"] = FRANCHISE_EXAMPLE
    for schema_name, fields in NUMBER_FIELDS.items():
        properties = document["components"]["schemas"][schema_name]["properties"]
        for name, pattern in fields.items():
            documented = {k: v for k, v in properties[name].items() if k in ("description", "examples")}
            properties[name] = {"oneOf": [{"type": "string", "pattern": pattern}, {"type": "number"}], **documented}
    for path in document["paths"].values():
        for method, op in path.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            op["responses"].pop("400", None)  # schema errors are answered 422 here
            if method == "post":
                op.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)


# What stored files can be: invoices (Factur-X PDF, CII/UBL XML) and attachments (PDF, JPEG, PNG).
FILE_MEDIA_TYPES = ("application/pdf", "application/xml", "image/jpeg", "image/png", "application/octet-stream")

REQUEST_EXAMPLES = {
    ("/invoices", "post"): {
        "recipient_siret": "21750001600019", "service_code": "SERVICE-COMPTA", "engagement": "EJ-2026-0042",
        "number": "F2026-0042", "issue_date": "2026-03-02", "due_date": "2026-04-01",
        "lines": [{"description": "Pose de fenêtres", "quantity": "2", "unit_price": "300.00", "vat_rate": "20"}],
    },
    ("/invoices/{invoice_id}/completion", "post"): {
        "comment": "Voici le bon de livraison signé.",
        "attachments": [{"filename": "bon-livraison.pdf", "content": "JVBERi0xLjcK..."}],
    },
    ("/invoices/{invoice_id}/recycling", "post"): {"recipient_siret": "21750001600019", "service_code": "SERVICE-COMPTA"},
    ("/invoices/{invoice_id}/collection", "post"): {"date": "2026-05-02", "amount": "720.00", "comment": "Virement reçu"},
    ("/tickets", "post"): {
        "category": "factures_emises", "subcategory": "question_entite_publique", "recipient_siret": "21750001600019",
        "subject": "Quel code service pour les écoles ?", "body": "Bonjour, quel code service indiquer sur nos factures ?",
    },
    ("/tickets/{ticket_id}/actions", "post"): {"action": "answer", "body": "Indiquez le code service ECOLES.", "version": 2},
    ("/received/{invoice_id}/status", "post"): {
        "status": "MISE_EN_PAIEMENT", "payment": {"date": "2026-04-15", "amount": "720.00"}, "version": 5,
    },
    ("/works/markets", "post"): WORKS_EXAMPLE,
    ("/justice/memoires", "post"): JUSTICE_EXAMPLE,
    ("/justice/memoires/{invoice_id}/duplicate", "post"): {**JUSTICE_EXAMPLE, "number": "MJ2026-0002", "version": 3},
    ("/works/pieces", "post"): WORKS_PIECE_EXAMPLE,
    ("/works/pieces/{piece_id}/actions", "post"): WORKS_ACTION_EXAMPLE,
}

# Decimal fields that take a JSON number or a string (Litestar would say "string" only).
NUMBER_FIELDS = {
    "LineIn": {"quantity": r"^[0-9]{1,12}(\.[0-9]{1,6})?$", "unit_price": r"^[0-9]{1,15}(\.[0-9]{1,6})?$",
               "vat_rate": r"^[0-9]{1,3}(\.[0-9]{1,2})?$"},
    "MemoireLineIn": {"quantity": r"^[0-9]{1,12}(\.[0-9]{1,6})?$", "unit_price": r"^[0-9]{1,15}(\.[0-9]{1,6})?$",
                      "vat_rate": r"^[0-9]{1,3}(\.[0-9]{1,2})?$"},
    "PaymentIn": {"amount": r"^[0-9]{1,15}(\.[0-9]{1,2})?$"},
    "CollectionIn": {"amount": r"^[0-9]{1,15}(\.[0-9]{1,2})?$"},
}

FRANCHISE_EXAMPLE = {
    "summary": "Micro-entreprise en franchise en base de TVA (montants en nombres JSON)",
    "description": "Ligne à 0 % avec le motif d'exonération : BT-120 « TVA non applicable, art. 293 B du CGI » "
                   "et BT-121 VATEX-FR-FRANCHISE dans la ventilation de TVA. `exemption_reason` se déduit du code ; "
                   "pour une structure déclarée en franchise dans son profil, le code lui-même est facultatif.",
    "value": {
        "recipient_siret": "21750001600019", "service_code": "SERVICE-COMPTA", "number": "F2026-0043",
        "issue_date": "2026-03-02", "due_date": "2026-04-01",
        "lines": [{"description": "Cours de soutien", "quantity": 3, "unit_code": "HUR", "unit_price": 35.5, "vat_rate": 0,
                   "exemption_reason_code": "VATEX-FR-FRANCHISE"}],
    },
}

def _patch_cdar(document: dict[str, Any]) -> None:
    """The CDAR routes speak XML: a lifecycle message in (read by hand), one out."""
    from backend.processing import cdar

    xml = {"schema": {"type": "string"}}
    document["paths"][f"{PREFIX}/received/{{invoice_id}}/lifecycle"]["post"]["requestBody"] = {
        "required": True,
        "description": "Un message de cycle de vie CDAR D22B (XP Z12-012 v1.4) sur cette facture, 512 Ko au plus.",
        "content": {"application/xml": {**xml, "example": cdar.build(cdar.EXAMPLE).decode()}},
    }
    for side in ("invoices", "received"):
        ok = document["paths"][f"{PREFIX}/{side}/{{invoice_id}}/lifecycle/{{event_id}}/cdar"]["get"]["responses"]["200"]
        ok["content"] = {"application/xml": xml}
        listed = document["paths"][f"{PREFIX}/{side}/{{invoice_id}}/lifecycle"]["get"]["responses"]["200"]
        listed["content"]["application/json"]["example"] = [
            {**event, "cdar_url": f"{PREFIX}/{side}/42/lifecycle/{event['id']}/cdar" if event["code"] else None}
            for event in LIFECYCLE_EXAMPLE
        ]


_EVENT = {"actor_kind": "recipient", "reason_code": None, "reason_label": None, "reform_reason_code": None, "comment": "", "payment": None}
LIFECYCLE_EXAMPLE = [
    {**_EVENT, "id": 101, "status": "PRISE_EN_CHARGE", "status_label": "Prise en charge", "code": "204", "label": "Prise en charge",
     "date": "2026-09-14T08:12:00Z"},
    {**_EVENT, "id": 102, "status": "MANDATEE", "status_label": "Mandatée", "code": None, "label": None, "date": "2026-09-20T10:00:00Z"},
    {**_EVENT, "id": 103, "status": "MISE_EN_PAIEMENT", "status_label": "Mise en paiement", "code": "211", "label": "Paiement transmis",
     "date": "2026-09-28T09:30:00Z", "payment": {"date": "2026-09-28", "amount": "720.00"}},
    {**_EVENT, "id": 104, "status": "ENCAISSEE", "status_label": "Encaissée", "code": "212", "label": "Encaissée",
     "date": "2026-10-01T16:05:00Z", "actor_kind": "supplier", "payment": {"date": "2026-10-01", "amount": "720.00"}},
]


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Rejouer la même requête avec la même clé renvoie la première réponse ; un autre corps avec la même clé : 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255}, "example": "9f1c2e4a-commande-0042",
}


@get(f"{PREFIX}/openapi.json", opt=space(PUBLIC_ROUTE), include_in_schema=False, exclude_from_csrf=True, skip_session=True, media_type="application/json")
async def openapi_json() -> Response:
    return Response(openapi_document(), media_type="application/json", headers={"Cache-Control": "no-cache"})


DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@get(f"{PREFIX}/docs", opt=space(PUBLIC_ROUTE), include_in_schema=False, skip_session=True)
async def api_docs() -> Template:
    # Swagger UI sets inline styles on its elements; its scripts stay self-hosted files.
    return Template(template_name="api/docs.html", headers={"Content-Security-Policy": DOCS_CSP})


def api_routers() -> list:
    from backend.api.key_controllers import router as keys_router

    return [build_router(), openapi_json, api_docs, keys_router, *vendor_routers()]


def vendor_routers() -> list:
    """Swagger UI served straight from the npm install (no copy, no CDN), like htmx."""
    from litestar.static_files import create_static_files_router

    node_modules = Path(__file__).resolve().parents[2] / "frontend" / "node_modules"
    return [create_static_files_router(path="/static/vendor/swagger-ui", directories=[node_modules / "swagger-ui-dist"],
                                       name="vendor-swagger-ui", include_in_schema=False)]
