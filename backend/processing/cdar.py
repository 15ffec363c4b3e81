"""CDAR D22B lifecycle messages (XP Z12-012 v1.4, "flux 6"): written for an invoice's history rows,
read from a recipient's software, and checked against the XSD and the BR-FR-CDV schematron.

The XSD and the compiled schematron are vendored in cdar_artefacts/ (Apache 2.0, origin in its
SOURCE.md). Both are loaded once per process (`warm_up` at server start); the stylesheet runs in
SaxonC-HE, one clone per thread, like the invoice rule sets (backend/invoices/validation/schematron.py).

What a message says, and why:
- MDT-2 REGULATED and MDT-3 urn.cpro.gouv.fr:1p0:CDV:invoice: a lifecycle message between platforms
  (annex B §2.2, BR-FR-CDV-02, BR-FR-CDV-CL-01).
- The sender (MDT-21) is the platform, role WK, identified by the B2G platform's matricule 9999
  (scheme 0238): Facteur plays Chorus Pro, and BR-FR-CDV-CL-09_MDT-113_210B2G takes the refusal
  reasons of public buyers only from that sender.
- MDT-77 is 305 for the transmission statuses the platform sets (Déposée, Mise à disposition,
  Erreur de routage…: issuer WK) and 23 for the processing statuses a party sets (issuer SE or BY,
  identified by its SIREN, scheme 0002: BR-FR-CDV-07, CL-02, CL-03).
- The other party is the message's recipient, with its electronic address (BR-FR-CDV-08).
- Reasons: BR-FR-CDV-15 and CL-09 (see backend/processing/reasons.py); 212 Encaissée carries one MEN
  amount per VAT rate of the invoice (BR-FR-CDV-14), the collection split in proportion to each
  rate's amount including VAT.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import saxonche
from lxml import etree

from backend.invoices.statuses import REFORM_LABELS
from backend.invoices.validation.safexml import parse_untrusted
from backend.invoices.validation.schematron import _get_processor

ARTEFACTS = Path(__file__).resolve().parent / "cdar_artefacts"
XSD_PATH = ARTEFACTS / "xsd" / "CrossDomainAcknowledgementAndResponse_100pD22B.xsd"
XSLT_PATH = ARTEFACTS / "schematron" / "BR-FR-CDV-Schematron-CDAR.xslt"

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

PROFILE = "urn.cpro.gouv.fr:1p0:CDV:invoice"
PLATFORM_MATRICULE = "9999"  # scheme 0238: the B2G platform (see the module's docstring)
SIREN_SCHEME = "0002"
ADDRESS_SCHEME = "0225"  # French electronic addressing by SIREN
TRANSMISSION_CODES = frozenset({"200", "201", "202", "203", "213", "221", "501"})
MAX_MESSAGE_SIZE = 512 * 1024  # a lifecycle message is a few kilobytes


@dataclass(frozen=True)
class Party:
    siren: str
    name: str
    role: str  # SE (seller) | BY (buyer)


@dataclass(frozen=True)
class Collection:
    """An amount (collected or paid) at one VAT rate."""

    amount: Decimal
    vat_rate: Decimal


@dataclass(frozen=True)
class LifecycleEvent:
    """What one lifecycle message says about one status of one invoice."""

    message_id: str
    code: str
    set_at: datetime  # when the status was set (MDT-78)
    invoice_number: str
    invoice_type: str
    invoice_date: date
    received_at: datetime  # the invoice's deposit (MDT-95)
    currency: str
    issuer: Party | None  # None: the platform set the status
    recipient: Party
    seller_siren: str
    reason_code: str = ""
    reason_text: str = ""
    amounts: list[Collection] = field(default_factory=list)
    amount_type: str = ""  # MEN (collected) | MPA (paid)
    amounts_date: date | None = None


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def _datetime(parent: etree._Element, tag: str, moment: datetime) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", _stamp(moment), format="204")


def _party(parent: etree._Element, tag: str, party: Party, *, address: bool = False) -> None:
    node = _el(parent, tag)
    _el(node, "ram:GlobalID", party.siren, schemeID=SIREN_SCHEME)
    _el(node, "ram:Name", party.name or party.siren)
    _el(node, "ram:RoleCode", party.role)
    if address:
        _el(_el(node, "ram:URIUniversalCommunication"), "ram:URIID", party.siren, schemeID=ADDRESS_SCHEME)


def build(event: LifecycleEvent) -> bytes:
    """The CDAR D22B message of one status (UTF-8 bytes with an XML declaration)."""
    root = etree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse", nsmap={"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT})
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", "REGULATED")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", PROFILE)
    _header(root, event)
    _acknowledgement(root, event)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _header(root: etree._Element, event: LifecycleEvent) -> None:
    label = REFORM_LABELS.get(event.code, event.code)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", event.message_id)
    _el(document, "ram:Name", f"CDV-{event.code} {label} — {event.invoice_number}"[:200])
    _datetime(document, "ram:IssueDateTime", event.set_at)
    sender = _el(document, "ram:SenderTradeParty")
    _el(sender, "ram:GlobalID", PLATFORM_MATRICULE, schemeID="0238")
    _el(sender, "ram:RoleCode", "WK")
    if event.issuer is None:
        _el(_el(document, "ram:IssuerTradeParty"), "ram:RoleCode", "WK")
    else:
        _party(document, "ram:IssuerTradeParty", event.issuer)
    _party(document, "ram:RecipientTradeParty", event.recipient, address=True)


def _acknowledgement(root: etree._Element, event: LifecycleEvent) -> None:
    ack = _el(root, "rsm:AcknowledgementDocument")
    _el(_el(ack, "ram:MultipleReferencesIndicator"), "udt:Indicator", "false")
    _el(ack, "ram:TypeCode", "305" if event.issuer is None else "23")
    _datetime(ack, "ram:IssueDateTime", event.set_at)
    ref = _el(ack, "ram:ReferenceReferencedDocument")
    _el(ref, "ram:IssuerAssignedID", event.invoice_number)
    _el(ref, "ram:TypeCode", event.invoice_type or "380")
    _datetime(ref, "ram:ReceiptDateTime", event.received_at)
    _el(_el(ref, "ram:FormattedIssueDateTime"), "qdt:DateTimeString", event.invoice_date.strftime("%Y%m%d"), format="102")
    _el(ref, "ram:ProcessConditionCode", event.code)
    _el(ref, "ram:ProcessCondition", REFORM_LABELS.get(event.code, event.code))
    seller = _el(ref, "ram:IssuerTradeParty")
    _el(seller, "ram:GlobalID", event.seller_siren, schemeID=SIREN_SCHEME)
    _el(seller, "ram:RoleCode", "SE")
    if event.reason_code or event.amounts:
        _status_detail(ref, event)


def _status_detail(ref: etree._Element, event: LifecycleEvent) -> None:
    status = _el(ref, "ram:SpecifiedDocumentStatus")
    if event.reason_code:
        _el(status, "ram:ReasonCode", event.reason_code)
        if event.reason_text:
            _el(status, "ram:Reason", event.reason_text[:1000])
    _el(status, "ram:SequenceNumeric", "1")
    for item in event.amounts:
        characteristic = _el(status, "ram:SpecifiedDocumentCharacteristic")
        _el(characteristic, "ram:TypeCode", event.amount_type)
        _el(characteristic, "ram:ValueAmount", f"{item.amount:.2f}", currencyID=event.currency or "EUR")
        if event.amounts_date is not None:
            _el(_el(characteristic, "ram:ValueDateTime"), "udt:DateTimeString", event.amounts_date.strftime("%Y%m%d"), format="102")
        _el(characteristic, "ram:ValuePercent", f"{item.vat_rate:.2f}")


def split_by_rate(amount: Decimal, vat_breakdown: list[dict]) -> list[Collection]:
    """An amount including VAT, split over the invoice's VAT rates in proportion to each rate's
    amount including VAT; the cents left by rounding go to the largest share."""
    shares: list[tuple[Decimal, Decimal]] = []
    for row in vat_breakdown or []:
        rate, basis, tax = (_number(row.get(key)) for key in ("rate", "basis", "tax"))
        shares.append((rate or Decimal(0), (basis or Decimal(0)) + (tax or Decimal(0))))
    total = sum((weight for _, weight in shares), Decimal(0))
    if not shares or total <= 0:
        return [Collection(amount, shares[0][0] if shares else Decimal(0))]
    parts = [Collection((amount * weight / total).quantize(Decimal("0.01"), ROUND_HALF_UP), rate) for rate, weight in shares]
    rest = amount - sum((p.amount for p in parts), Decimal(0))
    largest = max(range(len(parts)), key=lambda i: parts[i].amount)
    parts[largest] = Collection(parts[largest].amount + rest, parts[largest].vat_rate)
    return [p for p in parts if p.amount != 0] or parts[:1]


def _number(value) -> Decimal | None:
    if isinstance(value, dict):
        value = value.get("value")
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


# --- validation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One reason a message is refused: a stable rule id, a French message, where."""

    rule: str
    message: str
    location: str = ""
    severity: str = "fatal"


_schema: etree.XMLSchema | None = None
_compiled: saxonche.PyXsltExecutable | None = None
_lock = threading.Lock()
_local = threading.local()


def _get_schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    return _schema


def _executable() -> saxonche.PyXsltExecutable:
    global _compiled
    if _compiled is None:
        with _lock:
            if _compiled is None:
                compiler = _get_processor().new_xslt30_processor()
                _compiled = compiler.compile_stylesheet(stylesheet_file=str(XSLT_PATH))
    clone = getattr(_local, "clone", None)
    if clone is None:
        clone = _local.clone = _compiled.clone()
    return clone


def warm_up() -> None:
    """Load the XSD, compile the schematron and run both once (server start)."""
    _get_schema()
    validate(build(EXAMPLE))


def xsd_problems(root: etree._Element) -> list[Problem]:
    schema = _get_schema()
    if schema.validate(root):
        return []
    return [Problem("CDAR-XSD", f"Le message ne respecte pas le schéma CDAR D22B (ligne {e.line}) : {e.message}", e.path or "")
            for e in schema.error_log][:50]


def schematron_problems(root: etree._Element) -> list[Problem]:
    text = etree.tostring(root, encoding="unicode")
    node = _get_processor().parse_xml(xml_text=text, encoding="UTF-8")
    report = _executable().transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    problems = []
    for item in svrl.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        text_node = item.find(f"{{{SVRL_NS}}}text")
        message = " ".join("".join(text_node.itertext()).split()) if text_node is not None else ""
        severity = "warning" if (item.get("flag") or "").lower() in ("warning", "information") else "fatal"
        problems.append(Problem(item.get("id") or "BR-FR-CDV", message, item.get("location") or "", severity))
    return problems


def validate(data: bytes) -> tuple[etree._Element | None, list[Problem]]:
    """(root, problems): hostile or unreadable XML, then the XSD, then the schematron's findings."""
    if len(data) > MAX_MESSAGE_SIZE:
        return None, [Problem("CDAR-SIZE", f"Le message dépasse {MAX_MESSAGE_SIZE // 1024} Ko : un message de cycle de vie en fait quelques-uns.")]
    root, refusal = parse_untrusted(data)
    if root is None:
        return None, [Problem("CDAR-XML", refusal.message if refusal else "Le message n'est pas un document XML lisible.")]
    if root.tag != f"{{{RSM}}}CrossDomainAcknowledgementAndResponse":
        return None, [Problem("CDAR-ROOT", "Ce document n'est pas un message CDAR (CrossDomainAcknowledgementAndResponse D22B).")]
    problems = xsd_problems(root)
    if problems:
        return root, problems
    return root, schematron_problems(root)


def fatal(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "fatal"]


# --- reading a posted message --------------------------------------------------------------------

@dataclass(frozen=True)
class PostedStatus:
    """What a recipient's software says in a lifecycle message about one invoice."""

    invoice_number: str
    seller_siren: str
    code: str
    set_at: datetime | None
    reason_code: str
    reason_text: str
    amount: Decimal | None
    amount_date: date | None


def _first(root: etree._Element, path: str) -> str:
    found = root.xpath(f"normalize-space(({path})[1])", namespaces=NS)
    return str(found or "")


def read_posted(root: etree._Element) -> PostedStatus:
    ref = "/rsm:CrossDomainAcknowledgementAndResponse/rsm:AcknowledgementDocument[1]/ram:ReferenceReferencedDocument[1]"
    status = f"{ref}/ram:SpecifiedDocumentStatus"
    amounts = root.xpath(f"{status}/ram:SpecifiedDocumentCharacteristic[normalize-space(ram:TypeCode)='MPA' "
                         "or normalize-space(ram:TypeCode)='MEN']", namespaces=NS)
    total = None
    for item in amounts:
        value = _number(item.findtext(f"{{{RAM}}}ValueAmount"))
        if value is not None:
            total = (total or Decimal(0)) + value
    when = _first(root, f"{status}/ram:SpecifiedDocumentCharacteristic/ram:ValueDateTime/udt:DateTimeString")
    return PostedStatus(
        invoice_number=_first(root, f"{ref}/ram:IssuerAssignedID"),
        seller_siren=_first(root, f"{ref}/ram:IssuerTradeParty/ram:GlobalID"),
        code=_first(root, f"{ref}/ram:ProcessConditionCode"),
        set_at=_moment(_first(root, "/rsm:CrossDomainAcknowledgementAndResponse/rsm:AcknowledgementDocument[1]/ram:IssueDateTime/udt:DateTimeString")),
        reason_code=_first(root, f"{status}/ram:ReasonCode"),
        reason_text=_first(root, f"{status}/ram:Reason"),
        amount=total,
        amount_date=_day(when),
    )


def _moment(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        return None


# A recipient's "Prise en charge" (204): the warm-up's primer and the OpenAPI example.
EXAMPLE = LifecycleEvent(
    message_id="ERP-2026-000123-204", code="204", set_at=datetime(2026, 9, 1, tzinfo=timezone.utc), invoice_number="F2026-0042",
    invoice_type="380", invoice_date=date(2026, 9, 1), received_at=datetime(2026, 9, 1, tzinfo=timezone.utc), currency="EUR",
    issuer=Party("123456789", "Acheteur", "BY"), recipient=Party("987654321", "Vendeur", "SE"), seller_siren="987654321",
)
