"""The JSON shapes of API v1 (msgspec Structs): what the OpenAPI document describes.

Amounts are answered as strings ("1200.00"): exact decimals, never floats. Amounts sent may be
strings or JSON numbers, read exactly (`backend.api.decoding`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
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
    # A refused file (213, or 501 when it is not readable as an invoice): the reform's reason
    # (BR-FR-CDV-CL-09), e.g. DOUBLON, REJ_CONT_B2G, REJ_SEMAN; IRR_TYPE_F, IRR_SYNTAX, IRR_VIDE_F.
    reason_code_2026: str | None = None


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


class LateInterestOut(msgspec.Struct, kw_only=True):
    """Intérêts moratoires and the €40 indemnity of a late invoice (Code de la commande publique)."""

    days_late: Annotated[int, msgspec.Meta(description="Jours de retard du dernier montant payé, ou du reste à payer à ce jour.",
                                           examples=[30])]
    rate_date: Annotated[date, msgspec.Meta(description="Premier jour du semestre dont le taux BCE s'applique.",
                                            examples=["2025-01-01"])]
    ecb_rate: Annotated[str, msgspec.Meta(description="Taux BCE des opérations principales de refinancement, en %.", examples=["3.15"])]
    rate_percent: Annotated[str, msgspec.Meta(description="Taux des intérêts moratoires : taux BCE + 8 points, en %.",
                                              examples=["11.15"])]
    interest: Annotated[str, msgspec.Meta(description="Intérêts moratoires en euros (jours de retard / 365).", examples=["91.64"])]
    indemnity: Annotated[str, msgspec.Meta(description="Indemnité forfaitaire pour frais de recouvrement.", examples=["40.00"])]
    total: Annotated[str, msgspec.Meta(description="Intérêts + indemnité.", examples=["131.64"])]
    complete: Annotated[bool, msgspec.Meta(description="Faux tant qu'une partie reste impayée : les intérêts courent encore.")]


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
    payment_due_by: Annotated[date | None, msgspec.Meta(
        description="Date limite de paiement (délai global de paiement compté de la mise à disposition, "
                    "reculée des jours de suspension) ; null avant la réception.", examples=["2026-03-31"])]
    days_late: Annotated[int, msgspec.Meta(
        description="Jours de retard de paiement : jusqu'au paiement complet, ou à ce jour s'il manque ; 0 à temps "
                    "ou délai suspendu.", examples=[0, 12])]
    late_interest: Annotated[LateInterestOut | None, msgspec.Meta(
        description="En cas de retard : intérêts moratoires et indemnité forfaitaire calculés ; null sinon.")]
    billing_framework: Annotated[str, msgspec.Meta(description="Cadre de facturation Chorus Pro (BT-23).", examples=["A1", "A9"])] = "A1"
    validator_siret: Annotated[str | None, msgspec.Meta(
        description="Facture de sous-traitant (A9) ou de cotraitant (A12) : SIRET du valideur (titulaire ou mandataire, "
                    "ou le cotraitant pour son sous-traitant) ; null sinon.", examples=["73282932000074"])] = None
    validator_2_siret: Annotated[str | None, msgspec.Meta(
        description="Second niveau de validation (le mandataire, après le cotraitant) ; null sinon.")] = None
    validation_due_at: Annotated[datetime | None, msgspec.Meta(
        description="Fin du délai de validation (15 jours) du niveau attendu ; passé ce délai la facture est validée "
                    "tacitement (ABSENCE_VALIDATION_n_HORS_DELAI). null hors validation.",
        examples=["2026-03-16T09:00:00Z"])] = None


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


# Exact decimals, sent as a JSON number (12.5) or a string ("12.50"); OpenAPI: router.NUMBER_FIELDS.
_EXACT = " Nombre JSON (12.5) ou texte (\"12.50\"), lu exactement, sans arrondi."
Quantity = Annotated[Decimal, msgspec.Meta(description="Quantité (BT-129), 4 décimales au plus." + _EXACT, examples=["2", 1.5])]
UnitPrice = Annotated[Decimal, msgspec.Meta(description="Prix unitaire hors taxes en euros (BT-146), 4 décimales au plus." + _EXACT,
                                             examples=["300.00", 0.1])]
Rate = Annotated[Decimal, msgspec.Meta(description="Taux de TVA en % : 20, 10, 5.5, 2.1 ou 0." + _EXACT, examples=["20", 5.5, 0])]
PaidAmount = Annotated[Decimal, msgspec.Meta(description="Montant payé en euros, 2 décimales au plus." + _EXACT, examples=["720.00"])]


class LineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    quantity: Quantity
    unit_price: UnitPrice
    vat_rate: Rate
    unit_code: Annotated[str, msgspec.Meta(min_length=1, max_length=3)] = "C62"
    vat_category: Annotated[Literal["S", "Z", "E", "AE", "K", "G", "O"] | None, msgspec.Meta(
        description="Catégorie de TVA (BT-151). Par défaut : S pour un taux positif ; à 0 %, E (exonération) quand "
                    "`exemption_reason_code` est un code de la liste française (VATEX-FR-…, VATEX-EU-79-C). "
                    "Autres catégories à 0 % : AE autoliquidation, K livraison intracommunautaire, G exportation, "
                    "O hors champ, Z taux zéro.", examples=["E"])] = None
    exemption_reason: Annotated[str, msgspec.Meta(
        max_length=1000, description="Motif d'exonération (BT-120), la mention légale imprimée sur la facture. "
                                     "Par défaut, le texte français du code : « TVA non applicable, art. 293 B du CGI » "
                                     "pour VATEX-FR-FRANCHISE.",
        examples=["TVA non applicable, art. 293 B du CGI"])] | None = None
    exemption_reason_code: Annotated[str, msgspec.Meta(
        max_length=30, description="Code du motif d'exonération (BT-121), liste VATEX : VATEX-FR-FRANCHISE pour la "
                                   "franchise en base de TVA (micro-entreprise, art. 293 B du CGI), VATEX-FR-CGI261-4, "
                                   "VATEX-EU-79-C (débours)… Obligatoire pour une ligne à 0 %, sauf pour une structure "
                                   "déclarée en franchise en base dans son profil : VATEX-FR-FRANCHISE par défaut.",
        examples=["VATEX-FR-FRANCHISE"])] | None = None


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
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9+\-_/]+$", examples=["F2026-0042"],
                                        description="20 caractères au plus, comme sur Chorus Pro (FCT-PORTAL-16).")]
    issue_date: date
    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=999)]
    type_code: Literal["380", "381"] = "380"
    billing_framework: Annotated[str, msgspec.Meta(
        max_length=10, examples=["A1"],
        description="Cadre de facturation Chorus Pro (BT-23) : A1 facture, A2 facture déjà payée. Les autres cadres "
                    "(travaux, sous-traitance) sont refusés (422 `framework_not_supported`) tant que "
                    "Facteur n'en traite pas le circuit ; un mémoire de frais de justice (A3) s'envoie par "
                    "POST /api/v1/justice/memoires. A9 (sous-traitant) et A12 (cotraitant) demandent "
                    "`validator_siret` : la facture passe d'abord par ce valideur (15 jours, tacite ensuite). Le fichier "
                    "généré porte en BT-23 le code de la réforme 2026 correspondant (S1/B1/M1 pour A1, S2/B2/M2 pour A2, "
                    "selon `supply_nature` ; S5 pour A9, S6 pour A12).")] = "A1"
    validator_siret: Annotated[str, msgspec.Meta(
        pattern=r"^[0-9]{14}$", examples=["73282932000074"],
        description="A9/A12 : SIRET du titulaire ou du mandataire qui valide la facture (une entreprise inscrite sur "
                    "Facteur). Le CII n'a pas de champ pour lui : il se donne ici, ou au dépôt.")] | None = None
    validator_2_siret: Annotated[str, msgspec.Meta(
        pattern=r"^[0-9]{14}$",
        description="Sous-traitant d'un cotraitant : SIRET du mandataire, qui valide après le cotraitant (`validator_siret`).")] | None = None
    supply_nature: Annotated[Literal["services", "goods", "mixed"], msgspec.Meta(
        examples=["services"],
        description="Ce qui est facturé : `services`, `goods` (biens) ou `mixed` (les deux). Donne la lettre S, B ou M "
                    "du cadre de facturation de la réforme écrit en BT-23 (règle BR-FR-08).")] = "services"
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
    amount: PaidAmount


class ValidationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: Annotated[Literal["VALIDEE", "REFUSEE"], msgspec.Meta(
        description="VALIDEE : la facture part vers le niveau suivant ou l'entité publique ; REFUSEE : motif (`comment`) obligatoire.",
        examples=["VALIDEE"])]
    comment: Annotated[str, msgspec.Meta(max_length=2000, examples=["Travaux du lot 3 non réalisés."])] = ""
    reason_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    version: int | None = None  # optimistic check: the version the caller saw


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
