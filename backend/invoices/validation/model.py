"""Result and invoice structures produced by the validation pipeline.

Pure data: msgspec Structs, no behaviour beyond small helpers. Amounts keep the
text exactly as written in the file (``text``) and its Decimal reading (``value``,
None when the text is not a number) so that reports show what the supplier wrote
while checks compute on Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

Severity = Literal["fatal", "warning"]
Stage = Literal["detect", "xsd", "en16931", "profile", "portal"]
Format = Literal["facturx-pdf", "cii-xml", "ubl-xml", "unsupported"]
Profile = Literal["minimum", "basicwl", "basic", "en16931", "extended"]

# Stages whose fatal findings make a document invalid (portal findings do not:
# the portal stage decides on its own, see POLICY.md).
VALIDITY_STAGES: frozenset[str] = frozenset({"detect", "xsd", "en16931", "profile"})


class Finding(msgspec.Struct, frozen=True):
    rule: str
    severity: Severity
    stage: Stage
    message: str  # French, with the values involved
    location: str | None = None
    # Added after the first five (programs read those): the field as a person knows it,
    # its EN 16931 term, and the official rule text (English) shown on demand.
    field: str | None = None  # e.g. "total TTC"
    term: str | None = None  # e.g. "BT-112"
    official: str | None = None


class Amount(msgspec.Struct, frozen=True):
    text: str
    value: Decimal | None


class Identifier(msgspec.Struct, frozen=True):
    id: str
    scheme: str | None = None


class Address(msgspec.Struct):
    """BG-5 / BG-8: the postal address as written (lines BT-35..37, BT-162, BT-163)."""

    lines: list[str] = []
    postal_code: str | None = None  # BT-38 / BT-53
    city: str | None = None  # BT-37 / BT-52
    subdivision: str | None = None  # BT-39 / BT-54
    country: str | None = None  # BT-40 / BT-55


class Party(msgspec.Struct):
    name: str | None = None  # BT-27 / BT-44 (raison sociale)
    trading_name: str | None = None  # BT-28 / BT-45
    siret: str | None = None
    siren: str | None = None
    vat_id: str | None = None
    country: str | None = None
    identifiers: list[Identifier] = []  # BT-29 / BT-46
    legal_ids: list[Identifier] = []  # BT-30 / BT-47
    endpoints: list[Identifier] = []  # BT-34 / BT-49
    address: Address | None = None  # BG-5 / BG-8


class Totals(msgspec.Struct):
    line_net: Amount | None = None  # BT-106
    allowances: Amount | None = None  # BT-107
    charges: Amount | None = None  # BT-108
    tax_exclusive: Amount | None = None  # BT-109
    tax: Amount | None = None  # BT-110
    tax_inclusive: Amount | None = None  # BT-112
    prepaid: Amount | None = None  # BT-113
    rounding: Amount | None = None  # BT-114
    payable: Amount | None = None  # BT-115


class VatBreakdown(msgspec.Struct):
    category: str | None = None  # BT-118
    rate: Amount | None = None  # BT-119
    basis: Amount | None = None  # BT-116
    tax: Amount | None = None  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_code: str | None = None  # BT-121


class Line(msgspec.Struct):
    id: str | None = None  # BT-126
    name: str | None = None  # BT-153
    description: str | None = None  # BT-154
    quantity: Amount | None = None  # BT-129
    unit: str | None = None  # BT-130
    net_price: Amount | None = None  # BT-146
    net_amount: Amount | None = None  # BT-131
    vat_category: str | None = None  # BT-151
    vat_rate: Amount | None = None  # BT-152


class Note(msgspec.Struct):
    """BG-1: a free-text note and its subject code (UNTDID 4451, e.g. PMT, AAB)."""

    text: str
    subject: str | None = None  # BT-21


class PaymentMeans(msgspec.Struct):
    """BG-16: how the buyer is asked to pay (a transfer to an account, a card, a direct debit)."""

    code: str | None = None  # BT-81 (UNTDID 4461: 30 and 58 transfers, 49 and 59 debits, 48 cards…)
    text: str | None = None  # BT-82
    account: str | None = None  # BT-84, IBAN or account number
    account_name: str | None = None  # BT-85
    bic: str | None = None  # BT-86


class DocumentReference(msgspec.Struct):
    """BG-24: a supporting document the file refers to (embedded or by address)."""

    id: str | None = None  # BT-122
    description: str | None = None  # BT-123
    uri: str | None = None  # BT-124
    filename: str | None = None  # BT-125 @filename
    media_type: str | None = None  # BT-125 @mimeCode


class NormalizedInvoice(msgspec.Struct):
    syntax: Literal["CII", "UBL-Invoice", "UBL-CreditNote"]
    number: str | None = None  # BT-1
    issue_date: str | None = None  # BT-2, ISO YYYY-MM-DD when readable
    issue_date_raw: str | None = None  # BT-2 as written
    type_code: str | None = None  # BT-3
    currency: str | None = None  # BT-5
    buyer_reference: str | None = None  # BT-10, code service
    purchase_order: str | None = None  # BT-13, engagement juridique
    contract_reference: str | None = None  # BT-12
    guideline_id: str | None = None  # BT-24 as written
    profile: Profile | None = None  # BT-24 mapped to a Factur-X profile
    business_process: str | None = None  # BT-23, cadre de facturation
    preceding_invoice: str | None = None  # BT-25
    due_date: str | None = None  # BT-9, ISO when readable
    seller: Party = msgspec.field(default_factory=Party)
    buyer: Party = msgspec.field(default_factory=Party)
    totals: Totals = msgspec.field(default_factory=Totals)
    vat_breakdown: list[VatBreakdown] = []
    lines: list[Line] = []
    # What a person reads but no portal rule checks (the readable view shows them).
    delivery_date: str | None = None  # BT-72, ISO when readable
    payment_terms: str | None = None  # BT-20
    payment_reference: str | None = None  # BT-83 (remittance information)
    payment_means: list[PaymentMeans] = []  # BG-16
    notes: list[Note] = []  # BG-1
    documents: list[DocumentReference] = []  # BG-24

    @property
    def line_count(self) -> int:
        return len(self.lines)


class ValidationResult(msgspec.Struct):
    file: str | None
    format: Format
    profile: Profile | None
    valid: bool
    findings: list[Finding]
    invoice: NormalizedInvoice | None = None
    # Which rule sets actually ran, e.g. ["xsd:facturx-en16931", "sch:facturx-en16931"].
    checks: list[str] = []

    def fatal(self, stages: frozenset[str] = VALIDITY_STAGES) -> list[Finding]:
        return [f for f in self.findings if f.severity == "fatal" and f.stage in stages]


def is_valid(findings: list[Finding]) -> bool:
    return not any(f.severity == "fatal" and f.stage in VALIDITY_STAGES for f in findings)
