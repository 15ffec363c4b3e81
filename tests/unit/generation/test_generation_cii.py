"""The CII XML: business terms in the right places, Chorus Pro conventions, and the
official rules (XSD + EN 16931 + Factur-X EN 16931 schematron) through validate_bytes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from lxml import etree

from backend.invoices.generation import cii_xml, compute_totals
from backend.invoices.generation import examples as ex
from backend.invoices.validation import validate_bytes
from backend.processing import frameworks

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def xpath(root, path: str) -> list[str]:
    return [n if isinstance(n, str) else (n.text or "") for n in root.xpath(path, namespaces=NS)]


def parse(xml: bytes):
    return etree.fromstring(xml)


def test_chorus_pro_and_reform_conventions() -> None:
    root = parse(cii_xml(ex.invoice()))
    assert xpath(
        root,
        "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
    ) == ["urn:cen.eu:en16931:2017"]
    assert xpath(
        root,
        "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID",
    ) == ["S1"]  # the reform's "invoice of services", read back as Chorus Pro's A1
    seller, buyer = f"{AGREEMENT}/ram:SellerTradeParty", f"{AGREEMENT}/ram:BuyerTradeParty"
    for party, siret in ((seller, ex.SELLER_SIRET), (buyer, ex.BUYER_SIRET)):
        assert xpath(root, f"{party}/ram:GlobalID[@schemeID='0009']") == [siret]  # BT-29 / BT-46: Chorus Pro routes on it
        assert xpath(root, f"{party}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == [
            siret[:9]
        ]  # BT-30 / BT-47: the SIREN
    # BT-34 / BT-49: electronic addresses of the French directory, beginning with the SIREN
    assert xpath(root, f"{seller}/ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']") == [ex.SELLER_SIRET[:9]]
    assert xpath(root, f"{buyer}/ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']") == [
        f"{ex.BUYER_SIRET[:9]}_{ex.BUYER_SIRET}"
    ]
    assert xpath(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == [ex.SELLER_VAT]
    assert xpath(root, f"{AGREEMENT}/ram:BuyerReference") == ["DASCO-ECOLES"]
    assert xpath(root, f"{AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == [
        "EJ-2026-000123"
    ]
    assert xpath(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["30"]
    assert xpath(
        root,
        f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
    ) == ["FR7630006000011234567890189"]
    # the mandatory French mentions are notes with their subject codes
    assert xpath(root, "//rsm:ExchangedDocument/ram:IncludedNote/ram:SubjectCode") == ["PMD", "PMT", "AAB"]
    # no element left nil (factur-x/objectify marks empty elements xsi:nil)
    assert not root.xpath("//*[@xsi:nil]", namespaces={"xsi": "http://www.w3.org/2001/XMLSchema-instance"})


@pytest.mark.parametrize("framework, nature, bt23", [
    ("A1", "services", "S1"), ("A1", "goods", "B1"), ("A1", "mixed", "M1"),
    ("A2", "services", "S2"), ("A2", "goods", "B2"), ("A2", "mixed", "M2"),
    ("A9", "goods", "S5"), ("A12", "services", "S6"),
])
def test_bt23_is_the_reform_code_of_the_chorus_framework(framework: str, nature: str, bt23: str) -> None:
    extra = {"due_date": dt.date(2026, 2, 28)} if framework == "A2" else {}
    invoice = ex.invoice(billing_framework=framework, supply_nature=nature, **extra)
    root = parse(cii_xml(invoice))
    assert xpath(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == [bt23]
    # deposited back, the file is read as the framework it was captured with
    result = validate_bytes(cii_xml(invoice), "facture.xml")
    assert frameworks.code_of(result.invoice.business_process) == framework
    assert [f.rule for f in result.findings] == []


def test_amounts_come_from_totals() -> None:
    invoice = ex.invoice(lines=[ex.line("A", "3", "0.335", "20"), ex.line("B", "2.5", "45.335", "10")])
    root = parse(cii_xml(invoice))
    assert xpath(root, "//ram:IncludedSupplyChainTradeLineItem//ram:LineTotalAmount") == ["1.01", "113.34"]
    assert xpath(root, "//ram:BilledQuantity") == ["3.0000", "2.5000"]
    assert xpath(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["0.335", "45.335"]
    assert xpath(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount") == ["1.01", "113.34"]
    assert xpath(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount") == ["0.20", "11.33"]
    assert xpath(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == ["20.00", "10.00"]
    assert xpath(root, f"{SUMMATION}/ram:LineTotalAmount") == ["114.35"]
    assert xpath(root, f"{SUMMATION}/ram:TaxTotalAmount[@currencyID='EUR']") == ["11.53"]
    assert xpath(root, f"{SUMMATION}/ram:GrandTotalAmount") == ["125.88"]
    assert xpath(root, f"{SUMMATION}/ram:DuePayableAmount") == ["125.88"]


def test_credit_note_refers_to_the_original_invoice() -> None:
    invoice = ex.invoice(
        number="AV2026-0007",
        type_code="381",
        issue_date=dt.date(2026, 3, 20),
        due_date=None,
        preceding_invoice_number="F2026-0042",
        preceding_invoice_date=dt.date(2026, 3, 2),
    )
    root = parse(cii_xml(invoice))
    assert xpath(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert xpath(root, f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        "F2026-0042"
    ]  # BT-25
    assert xpath(
        root, f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString"
    ) == ["20260302"]
    # BR-CO-25: something is due, no due date: default payment terms; no bank transfer to the buyer
    assert xpath(root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Avoir à déduire du règlement de la facture F2026-0042."
    ]
    assert not xpath(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans")


def test_already_paid_invoice() -> None:
    invoice = ex.invoice(billing_framework="A2", due_date=dt.date(2026, 2, 28))
    root = parse(cii_xml(invoice))
    # S2: services already paid (BR-FR-CO-07 then accepts a payment date before the invoice date)
    assert xpath(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S2"]
    assert xpath(root, f"{SUMMATION}/ram:GrandTotalAmount") == ["4932.00"]
    assert xpath(root, f"{SUMMATION}/ram:TotalPrepaidAmount") == ["4932.00"]  # BT-113 = BT-112
    assert xpath(root, f"{SUMMATION}/ram:DuePayableAmount") == ["0.00"]  # BT-115
    assert xpath(
        root, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
    ) == ["20260228"]
    assert not xpath(root, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans")


def test_out_of_scope_has_no_rate_and_no_vat_id() -> None:
    invoice = ex.invoice(
        lines=[
            ex.line(
                "Participation",
                "1",
                "100",
                "0",
                vat_category="O",
                exemption_reason="Hors champ de la TVA",
                exemption_reason_code="VATEX-EU-O",
            )
        ]
    )
    root = parse(cii_xml(invoice))
    assert not xpath(root, "//ram:RateApplicablePercent")
    assert not xpath(root, "//ram:SpecifiedTaxRegistration")
    assert xpath(root, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == ["VATEX-EU-O"]


def test_attachment_names_are_referenced_in_bg24() -> None:
    root = parse(cii_xml(ex.invoice(), attachment_names=["photo.jpg", "devis.pdf"]))
    refs = root.xpath(f"{AGREEMENT}/ram:AdditionalReferencedDocument", namespaces=NS)
    assert [(xpath(r, "ram:IssuerAssignedID"), xpath(r, "ram:TypeCode")) for r in refs] == [
        (["photo.jpg"], ["916"]),
        (["devis.pdf"], ["916"]),
    ]


EXEMPT = {
    "vat_category": "E",
    "exemption_reason": "Exonération de TVA, article 261-4-4° du CGI",
    "exemption_reason_code": "VATEX-FR-CGI261-4",
}
CASES = {
    "standard": ex.invoice(),
    "rates": ex.invoice(
        lines=[
            ex.line("A", "3", "0.335", "20"),
            ex.line("B", "1.005", "10", "10"),
            ex.line("C", "2.1234", "7.77", "5.5"),
            ex.line("D", "1", "3.3", "2.1"),
        ]
    ),
    "exempt": ex.invoice(
        lines=[ex.line("Formation", "2", "750", "0", **EXEMPT), ex.line("Livret", "2", "25", "5.5")]
    ),
    "zero_rated": ex.invoice(lines=[ex.line("Article", "1", "10", "0", vat_category="Z")]),
    "export": ex.invoice(
        lines=[
            ex.line(
                "Export",
                "1",
                "10",
                "0",
                vat_category="G",
                exemption_reason="Exportation, art. 262 I du CGI",
                exemption_reason_code="VATEX-EU-G",
            )
        ]
    ),
    "reverse_charge": ex.invoice(
        buyer=ex.buyer(vat_id=ex.french_vat("217500016")),
        lines=[
            ex.line(
                "Travaux",
                "1",
                "10000",
                "0",
                vat_category="AE",
                exemption_reason="Autoliquidation, art. 283-2 nonies du CGI",
                exemption_reason_code="VATEX-EU-AE",
            )
        ],
    ),
    "intra_community": ex.invoice(
        buyer=ex.buyer(
            vat_id="DE136695976",
            address=ex.Address(line1="Unter den Linden 1", postal_code="10117", city="Berlin", country="DE"),
        ),
        delivery_date=dt.date(2026, 2, 27),
        lines=[
            ex.line(
                "Mobilier",
                "2",
                "800",
                "0",
                vat_category="K",
                exemption_reason="Livraison intracommunautaire, art. 262 ter I du CGI",
                exemption_reason_code="VATEX-EU-IC",
            )
        ],
    ),
    "out_of_scope": ex.invoice(
        lines=[
            ex.line(
                "Participation",
                "1",
                "100",
                "0",
                vat_category="O",
                exemption_reason="Hors champ",
                exemption_reason_code="VATEX-EU-O",
            )
        ]
    ),
    "partly_prepaid": ex.invoice(prepaid_amount=D("1000")),
    "payment_terms_only": ex.invoice(
        due_date=None, payment_terms="Paiement à 30 jours par virement", billing_framework="A12"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_xml_passes_the_official_rules(name: str) -> None:
    invoice = CASES[name]
    result = validate_bytes(cii_xml(invoice), f"{name}.xml")
    assert result.format == "cii-xml"
    assert result.profile == "en16931"
    # No finding at all: neither EN 16931 / Factur-X nor the reform's BR-FR rules (SIREN,
    # electronic addresses, B1/S1/M1 billing mode).
    assert [f.rule for f in result.findings] == []
    assert result.valid is True
    totals = compute_totals(invoice)
    assert result.invoice.totals.payable.value == totals.payable
    assert result.invoice.totals.tax.value == totals.tax_total


@pytest.mark.parametrize("bt23, nature", [("B1", "goods"), ("S2", "services"), ("m1", "mixed"), ("A1", "services"), (None, "services")])
def test_a_reissued_draft_keeps_the_nature_its_rejected_invoice_declared(bt23, nature) -> None:
    from backend.invoices.reissue import supply_nature

    assert supply_nature(bt23) == nature
