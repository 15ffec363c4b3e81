"""The JSON shapes of API v1 (msgspec Structs): what the OpenAPI document describes.

Amounts are strings ("1200.00"): exact decimals, never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Siret = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{14}$", examples=["21750001600019"])]


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    findings: list[Finding] | None = None


class Finding(msgspec.Struct, kw_only=True):
    """One finding of a validation (same shape as `facteur validate --json`).

    Not the pipeline's own Finding: the API also reports its own checks of a request
    (stage "request", rule FCT-API-…), which that model's stages do not include."""

    rule: str
    severity: str
    stage: str
    message: str
    location: str | None = None
    field: str | None = None  # the field as a person knows it, e.g. "total TTC"
    term: str | None = None  # its EN 16931 term, e.g. "BT-112"
    official: str | None = None  # the official rule text (English), when there is one


class FileReport(msgspec.Struct, kw_only=True):
    file: str
    format: str
    profile: str | None
    valid: bool
    status_code_2026: str
    invoice_id: int | None
    findings: list[Finding]


class InvoiceRef(msgspec.Struct, kw_only=True):
    id: int
    number: str
    status: str


class DepositOut(msgspec.Struct, kw_only=True):
    id: int
    state: Literal["IN_INTEGRE", "IN_INTEGRE_PARTIEL", "IN_REJETE"]
    created_at: datetime
    report: list[FileReport]
    invoices: list[InvoiceRef]


class InvoiceSummary(msgspec.Struct, kw_only=True):
    id: int
    number: str
    status: str
    status_code_2026: str
    type_code: str
    issue_date: date
    due_date: date | None
    currency: str
    total_excl_vat: str
    total_vat: str
    total_incl_vat: str
    amount_due: str
    supplier_siret: str
    recipient_siret: str
    service_code: str
    engagement: str
    version: int
    deposited_at: datetime
    updated_at: datetime


class HistoryEntry(msgspec.Struct, kw_only=True):
    status: str
    status_code_2026: str
    actor_kind: str
    reason_code: str
    comment: str
    details: dict[str, Any]
    at: datetime


class AttachmentOut(msgspec.Struct, kw_only=True):
    id: int
    filename: str
    media_type: str
    role: str


class InvoiceDetail(InvoiceSummary, kw_only=True):
    certificate_number: str
    format: str
    profile: str | None
    original_name: str
    data: dict[str, Any]
    history: list[HistoryEntry]
    attachments: list[AttachmentOut]
    actions: list[str]


class InvoicePage(msgspec.Struct, kw_only=True):
    items: list[InvoiceSummary]
    next_cursor: str | None


Quantity = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$", examples=["2", "1.5"])]
Money = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$", examples=["600.00"])]
Rate = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$", examples=["20"])]


class LineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    quantity: Quantity
    unit_price: Money
    vat_rate: Rate
    unit_code: Annotated[str, msgspec.Meta(min_length=1, max_length=3)] = "C62"
    vat_category: Literal["S", "Z", "E", "AE", "K", "G", "O"] | None = None
    exemption_reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    exemption_reason_code: Annotated[str, msgspec.Meta(max_length=30)] | None = None


class AttachmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A supporting document (PDF, JPEG or PNG): by reference, the `id` of a document sent
    ahead with `POST /api/v1/attachments`; or inline, its `filename` and its bytes in base64
    (`content`)."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=40, examples=["pj_Xq3v0l9cYb2mT4rW8eK1sA"])] | None = None
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    content: bytes | None = None


class AttachmentSent(msgspec.Struct, kw_only=True):
    """A document sent ahead: name it by `id` in `attachments` within the next 7 days."""

    id: str
    filename: str
    media_type: str
    size: int
    expires_at: datetime


class InvoiceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    recipient_siret: Siret
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=35, pattern=r"^[A-Za-z0-9+\-_/]+$", examples=["F2026-0042"])]
    issue_date: date
    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=999)]
    type_code: Literal["380", "381"] = "380"
    billing_framework: Literal["A1", "A2", "A9", "A12"] = "A1"
    service_code: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    engagement: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    due_date: date | None = None
    delivery_date: date | None = None
    payment_terms: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    preceding_invoice_number: Annotated[str, msgspec.Meta(min_length=1, max_length=35)] | None = None
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=10)] = []


class CompletionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=10)] = []


class RecyclingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    recipient_siret: Siret
    service_code: Annotated[str, msgspec.Meta(max_length=100)] = ""
    engagement: Annotated[str, msgspec.Meta(max_length=50)] = ""
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class AcknowledgementIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class PaymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: date
    amount: Money


class StatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: Literal["PRISE_EN_CHARGE", "SUSPENDUE", "A_RECYCLER", "REJETEE", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT"]
    reason_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    mandate_number: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    payment: PaymentIn | None = None
    version: int | None = None  # optimistic check: the version the caller saw


class StructureOut(msgspec.Struct, kw_only=True):
    siret: str
    name: str
    postal_code: str
    city: str
    active: bool


class StructureDetail(StructureOut, kw_only=True):
    siren: str
    address_line1: str
    address_line2: str
    address_line3: str
    country: str
    requires_service: bool
    requires_engagement: bool
    requires_service_or_engagement: bool


class ServiceOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    requires_engagement: bool
