"""Stage 2: read the business terms the portal needs into a NormalizedInvoice.

One reader per syntax, sharing the same output so that the CII, UBL and Factur-X
forms of one invoice give the same record. Reading is defensive: a missing or
malformed element gives None, never an exception (XSD and business rules report
the problem itself).

Why not ``facturx.parse_ubl_cii_xml``: it keeps identifiers in a dict keyed by
scheme (two identifiers of the same scheme collapse, document order is lost), drops
empty elements, and raises on the first unreadable date, losing the whole record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from .model import (
    Address,
    Amount,
    DocumentReference,
    Identifier,
    Line,
    NormalizedInvoice,
    Note,
    Party,
    PaymentMeans,
    Totals,
    VatBreakdown,
)
from .profiles import profile_from_guideline

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

_compiled: dict[str, etree.XPath] = {}


def _xp(path: str) -> etree.XPath:
    # Compiled XPath objects are reusable and safe to share between threads.
    xpath = _compiled.get(path)
    if xpath is None:
        xpath = _compiled[path] = etree.XPath(path, namespaces=NS)
    return xpath


def _nodes(node: etree._Element, path: str) -> list[etree._Element]:
    return [n for n in _xp(path)(node) if isinstance(n, etree._Element)]


def _text(node: etree._Element | None, path: str) -> str | None:
    """Stripped text of the first match; "" for an empty element, None when absent."""
    if node is None:
        return None
    found = _nodes(node, path)
    if not found:
        return None
    return (found[0].text or "").strip()


def _amount(node: etree._Element | None, path: str) -> Amount | None:
    return to_amount(_text(node, path))


def to_amount(text: str | None) -> Amount | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return Amount(text, None)
    return Amount(text, value if value.is_finite() else None)


def _ids(node: etree._Element | None, path: str) -> list[Identifier]:
    if node is None:
        return []
    return [Identifier((n.text or "").strip(), n.get("schemeID")) for n in _nodes(node, path)]


def iso_date(text: str | None) -> str | None:
    """YYYY-MM-DD from CII format 102 (YYYYMMDD) or ISO text; None when unreadable."""
    if not text:
        return None
    candidate = text.strip()
    if len(candidate) == 8 and candidate.isdigit():
        candidate = f"{candidate[:4]}-{candidate[4:6]}-{candidate[6:]}"
    try:
        return dt.date.fromisoformat(candidate[:10]).isoformat()
    except ValueError:
        return None


def french_ids(party: Party) -> tuple[str | None, str | None]:
    """SIRET = first identifier with scheme 0009 (BT-29/46, then legal id, then
    electronic address); SIREN = first with scheme 0002 in the same order, else the
    first 9 digits of the SIRET. Identifiers without a scheme are never guessed."""
    pools = (party.identifiers, party.legal_ids, party.endpoints)
    siret = next((i.id for pool in pools for i in pool if i.scheme == "0009" and i.id), None)
    siren = next((i.id for pool in pools for i in pool if i.scheme == "0002" and i.id), None)
    if siren is None and siret and len(siret) >= 9:
        siren = siret[:9]
    return siret, siren


def _finish_party(party: Party) -> Party:
    party.siret, party.siren = french_ids(party)
    return party


# --- CII ------------------------------------------------------------------------------

_CII_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_CII_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_CII_CONTEXT = "rsm:ExchangedDocumentContext"


def extract_cii(root: etree._Element) -> NormalizedInvoice:
    agreement = _first(root, _CII_AGREEMENT)
    settlement = _first(root, _CII_SETTLEMENT)
    currency = _text(settlement, "ram:InvoiceCurrencyCode")
    guideline = _text(root, f"{_CII_CONTEXT}/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    issue_raw = _text(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")
    return NormalizedInvoice(
        syntax="CII",
        number=_text(root, "rsm:ExchangedDocument/ram:ID"),
        issue_date=iso_date(issue_raw),
        issue_date_raw=issue_raw,
        type_code=_text(root, "rsm:ExchangedDocument/ram:TypeCode"),
        currency=currency,
        buyer_reference=_text(agreement, "ram:BuyerReference"),
        purchase_order=_text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        contract_reference=_text(agreement, "ram:ContractReferencedDocument/ram:IssuerAssignedID"),
        guideline_id=guideline,
        profile=profile_from_guideline(guideline),
        business_process=_text(
            root, f"{_CII_CONTEXT}/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"
        ),
        preceding_invoice=_text(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
        due_date=iso_date(
            _text(settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")
        ),
        seller=_cii_party(_first(agreement, "ram:SellerTradeParty")),
        buyer=_cii_party(_first(agreement, "ram:BuyerTradeParty")),
        totals=_cii_totals(
            _first(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation"), currency
        ),
        vat_breakdown=[_cii_vat(n) for n in _nodes_of(settlement, "ram:ApplicableTradeTax")],
        lines=[
            _cii_line(n)
            for n in _nodes(root, "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem")
        ],
        delivery_date=iso_date(_text(root, _CII_DELIVERY)),
        payment_terms=_text(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description"),
        payment_reference=_text(settlement, "ram:PaymentReference"),
        payment_means=[_cii_payment(n) for n in _nodes_of(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")],
        notes=[
            Note(text, _text(n, "ram:SubjectCode"))
            for n in _nodes(root, "rsm:ExchangedDocument/ram:IncludedNote")
            if (text := _text(n, "ram:Content"))
        ],
        documents=[
            _cii_document(n) for n in _nodes_of(agreement, "ram:AdditionalReferencedDocument[ram:TypeCode='916']")
        ],
    )


_CII_DELIVERY = (
    "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"
    "/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
)


def _cii_payment(node: etree._Element) -> PaymentMeans:
    account = _first(node, "ram:PayeePartyCreditorFinancialAccount")
    return PaymentMeans(
        code=_text(node, "ram:TypeCode"),
        text=_text(node, "ram:Information"),
        account=_text(account, "ram:IBANID") or _text(account, "ram:ProprietaryID"),
        account_name=_text(account, "ram:AccountName"),
        bic=_text(node, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
    )


def _cii_document(node: etree._Element) -> DocumentReference:
    binary = _first(node, "ram:AttachmentBinaryObject")
    return DocumentReference(
        id=_text(node, "ram:IssuerAssignedID"),
        description=_text(node, "ram:Name"),
        uri=_text(node, "ram:URIID"),
        filename=binary.get("filename") if binary is not None else None,
        media_type=binary.get("mimeCode") if binary is not None else None,
    )


def _cii_address(node: etree._Element | None) -> Address | None:
    if node is None:
        return None
    return Address(
        lines=_texts(node, ("ram:LineOne", "ram:LineTwo", "ram:LineThree")),
        postal_code=_text(node, "ram:PostcodeCode"),
        city=_text(node, "ram:CityName"),
        subdivision=_text(node, "ram:CountrySubDivisionName"),
        country=_text(node, "ram:CountryID"),
    )


def _texts(node: etree._Element | None, paths: tuple[str, ...]) -> list[str]:
    """The non-empty texts of several elements, in the order of `paths`."""
    return [text for path in paths if (text := _text(node, path))]


def _first(node: etree._Element | None, path: str) -> etree._Element | None:
    if node is None:
        return None
    found = _nodes(node, path)
    return found[0] if found else None


def _nodes_of(node: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if node is None else _nodes(node, path)


def _cii_party(node: etree._Element | None) -> Party:
    if node is None:
        return Party()
    return _finish_party(
        Party(
            name=_text(node, "ram:Name"),
            trading_name=_text(node, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
            vat_id=_text(node, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
            country=_text(node, "ram:PostalTradeAddress/ram:CountryID"),
            identifiers=_ids(node, "ram:ID | ram:GlobalID"),
            legal_ids=_ids(node, "ram:SpecifiedLegalOrganization/ram:ID"),
            endpoints=_ids(node, "ram:URIUniversalCommunication/ram:URIID"),
            address=_cii_address(_first(node, "ram:PostalTradeAddress")),
        )
    )


def _cii_totals(node: etree._Element | None, currency: str | None) -> Totals:
    if node is None:
        return Totals()
    return Totals(
        line_net=_amount(node, "ram:LineTotalAmount"),
        allowances=_amount(node, "ram:AllowanceTotalAmount"),
        charges=_amount(node, "ram:ChargeTotalAmount"),
        tax_exclusive=_amount(node, "ram:TaxBasisTotalAmount"),
        tax=to_amount(_in_currency(_nodes(node, "ram:TaxTotalAmount"), currency)),
        tax_inclusive=_amount(node, "ram:GrandTotalAmount"),
        prepaid=_amount(node, "ram:TotalPrepaidAmount"),
        rounding=_amount(node, "ram:RoundingAmount"),
        payable=_amount(node, "ram:DuePayableAmount"),
    )


def _in_currency(nodes: list[etree._Element], currency: str | None) -> str | None:
    """BT-110 is the tax total in the invoice currency (BT-111 is the other one)."""
    if not nodes:
        return None
    chosen = next((n for n in nodes if currency and n.get("currencyID") == currency), None)
    chosen = (
        chosen if chosen is not None else next((n for n in nodes if n.get("currencyID") is None), nodes[0])
    )
    return (chosen.text or "").strip()


def _cii_vat(node: etree._Element) -> VatBreakdown:
    return VatBreakdown(
        category=_text(node, "ram:CategoryCode"),
        rate=_amount(node, "ram:RateApplicablePercent"),
        basis=_amount(node, "ram:BasisAmount"),
        tax=_amount(node, "ram:CalculatedAmount"),
        exemption_reason=_text(node, "ram:ExemptionReason"),
        exemption_code=_text(node, "ram:ExemptionReasonCode"),
    )


def _cii_line(node: etree._Element) -> Line:
    quantity = _first(node, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
    settlement = _first(node, "ram:SpecifiedLineTradeSettlement")
    return Line(
        id=_text(node, "ram:AssociatedDocumentLineDocument/ram:LineID"),
        name=_text(node, "ram:SpecifiedTradeProduct/ram:Name"),
        description=_text(node, "ram:SpecifiedTradeProduct/ram:Description"),
        quantity=to_amount((quantity.text or "").strip()) if quantity is not None else None,
        unit=quantity.get("unitCode") if quantity is not None else None,
        net_price=_amount(
            node, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"
        ),
        net_amount=_amount(
            settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
        ),
        vat_category=_text(settlement, "ram:ApplicableTradeTax/ram:CategoryCode"),
        vat_rate=_amount(settlement, "ram:ApplicableTradeTax/ram:RateApplicablePercent"),
    )


# --- UBL ------------------------------------------------------------------------------


def extract_ubl(root: etree._Element, syntax: str) -> NormalizedInvoice:
    currency = _text(root, "cbc:DocumentCurrencyCode")
    issue_raw = _text(root, "cbc:IssueDate")
    due_raw = _text(root, "cbc:DueDate")
    if due_raw is None:  # a CreditNote carries BT-9 in the payment means
        due_raw = _text(root, "cac:PaymentMeans/cbc:PaymentDueDate")
    totals_node = _first(root, "cac:LegalMonetaryTotal")
    return NormalizedInvoice(
        syntax=syntax,  # type: ignore[arg-type]
        number=_text(root, "cbc:ID"),
        issue_date=iso_date(issue_raw),
        issue_date_raw=issue_raw,
        type_code=_text(root, "cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode"),
        currency=currency,
        buyer_reference=_text(root, "cbc:BuyerReference"),
        purchase_order=_text(root, "cac:OrderReference/cbc:ID"),
        contract_reference=_text(root, "cac:ContractDocumentReference/cbc:ID"),
        guideline_id=_text(root, "cbc:CustomizationID"),
        profile=None,  # Factur-X profiles exist only in CII
        business_process=_text(root, "cbc:ProfileID"),
        preceding_invoice=_text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
        due_date=iso_date(due_raw),
        seller=_ubl_party(_first(root, "cac:AccountingSupplierParty/cac:Party")),
        buyer=_ubl_party(_first(root, "cac:AccountingCustomerParty/cac:Party")),
        totals=_ubl_totals(root, totals_node, currency),
        vat_breakdown=[_ubl_vat(n) for n in _nodes(root, "cac:TaxTotal/cac:TaxSubtotal")],
        lines=[_ubl_line(n) for n in _nodes(root, "cac:InvoiceLine | cac:CreditNoteLine")],
        delivery_date=iso_date(_text(root, "cac:Delivery/cbc:ActualDeliveryDate")),
        payment_terms=_text(root, "cac:PaymentTerms/cbc:Note"),
        payment_reference=_text(root, "cac:PaymentMeans/cbc:PaymentID"),
        payment_means=[_ubl_payment(n) for n in _nodes(root, "cac:PaymentMeans")],
        notes=[_ubl_note((n.text or "").strip()) for n in _nodes(root, "cbc:Note") if (n.text or "").strip()],
        documents=[
            _ubl_document(n)
            for n in _nodes(root, "cac:AdditionalDocumentReference[not(cbc:DocumentTypeCode='130')]")
        ],
    )


def _ubl_note(text: str) -> Note:
    """UBL has no subject element: the usual convention writes it "#AAB#text"."""
    if len(text) > 5 and text[0] == "#" and text[4] == "#" and text[1:4].isalpha():
        return Note(text[5:].strip(), text[1:4].upper())
    return Note(text)


def _ubl_payment(node: etree._Element) -> PaymentMeans:
    code = _first(node, "cbc:PaymentMeansCode")
    account = _first(node, "cac:PayeeFinancialAccount")
    return PaymentMeans(
        code=(code.text or "").strip() if code is not None else None,
        text=code.get("name") if code is not None else None,
        account=_text(account, "cbc:ID"),
        account_name=_text(account, "cbc:Name"),
        bic=_text(account, "cac:FinancialInstitutionBranch/cbc:ID"),
    )


def _ubl_document(node: etree._Element) -> DocumentReference:
    binary = _first(node, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
    return DocumentReference(
        id=_text(node, "cbc:ID"),
        description=_text(node, "cbc:DocumentDescription"),
        uri=_text(node, "cac:Attachment/cac:ExternalReference/cbc:URI"),
        filename=binary.get("filename") if binary is not None else None,
        media_type=binary.get("mimeCode") if binary is not None else None,
    )


def _ubl_address(node: etree._Element | None) -> Address | None:
    if node is None:
        return None
    return Address(
        lines=_texts(node, ("cbc:StreetName", "cbc:AdditionalStreetName", "cac:AddressLine/cbc:Line")),
        postal_code=_text(node, "cbc:PostalZone"),
        city=_text(node, "cbc:CityName"),
        subdivision=_text(node, "cbc:CountrySubentity"),
        country=_text(node, "cac:Country/cbc:IdentificationCode"),
    )


def _ubl_party(node: etree._Element | None) -> Party:
    if node is None:
        return Party()
    return _finish_party(
        Party(
            name=_text(node, "cac:PartyLegalEntity/cbc:RegistrationName"),
            trading_name=_text(node, "cac:PartyName/cbc:Name"),
            vat_id=_text(node, "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
            country=_text(node, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
            identifiers=_ids(node, "cac:PartyIdentification/cbc:ID"),
            legal_ids=_ids(node, "cac:PartyLegalEntity/cbc:CompanyID"),
            endpoints=_ids(node, "cbc:EndpointID"),
            address=_ubl_address(_first(node, "cac:PostalAddress")),
        )
    )


def _ubl_totals(root: etree._Element, node: etree._Element | None, currency: str | None) -> Totals:
    tax = to_amount(_in_currency(_nodes(root, "cac:TaxTotal/cbc:TaxAmount"), currency))
    if node is None:
        return Totals(tax=tax)
    return Totals(
        line_net=_amount(node, "cbc:LineExtensionAmount"),
        allowances=_amount(node, "cbc:AllowanceTotalAmount"),
        charges=_amount(node, "cbc:ChargeTotalAmount"),
        tax_exclusive=_amount(node, "cbc:TaxExclusiveAmount"),
        tax=tax,
        tax_inclusive=_amount(node, "cbc:TaxInclusiveAmount"),
        prepaid=_amount(node, "cbc:PrepaidAmount"),
        rounding=_amount(node, "cbc:PayableRoundingAmount"),
        payable=_amount(node, "cbc:PayableAmount"),
    )


def _ubl_vat(node: etree._Element) -> VatBreakdown:
    return VatBreakdown(
        category=_text(node, "cac:TaxCategory/cbc:ID"),
        rate=_amount(node, "cac:TaxCategory/cbc:Percent"),
        basis=_amount(node, "cbc:TaxableAmount"),
        tax=_amount(node, "cbc:TaxAmount"),
        exemption_reason=_text(node, "cac:TaxCategory/cbc:TaxExemptionReason"),
        exemption_code=_text(node, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
    )


def _ubl_line(node: etree._Element) -> Line:
    quantity = _first(node, "cbc:InvoicedQuantity | cbc:CreditedQuantity")
    return Line(
        id=_text(node, "cbc:ID"),
        name=_text(node, "cac:Item/cbc:Name"),
        description=_text(node, "cac:Item/cbc:Description"),
        quantity=to_amount((quantity.text or "").strip()) if quantity is not None else None,
        unit=quantity.get("unitCode") if quantity is not None else None,
        net_price=_amount(node, "cac:Price/cbc:PriceAmount"),
        net_amount=_amount(node, "cbc:LineExtensionAmount"),
        vat_category=_text(node, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
        vat_rate=_amount(node, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
    )


def extract(root: etree._Element, syntax: str) -> NormalizedInvoice:
    if syntax == "CII":
        return extract_cii(root)
    return extract_ubl(root, syntax)
