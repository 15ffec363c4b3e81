"""Stage 1: what is this file? Decided from its bytes, never from its name.

Accepted: a PDF carrying a Factur-X (CII) XML, a CII D16B CrossIndustryInvoice, a
UBL 2.1 Invoice or CreditNote. Everything else gets a coded refusal. Extraction of
the XML from a PDF and the flavor detection use the factur-x library; the XML it
returns is parsed again with the hardened parser of ``safexml``.
"""

from __future__ import annotations

import logging
import os
from io import BytesIO

import facturx
from lxml import etree
from pypdf import PdfReader

from .codes import finding
from .model import Finding, Format
from .safexml import looks_like_xml, parse_untrusted

NS_CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_ZUGFERD1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
NS_ORDERX = "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"

ROOT_KINDS = {
    f"{{{NS_CII}}}CrossIndustryInvoice": "cii",
    f"{{{NS_UBL_INVOICE}}}Invoice": "ubl",
    f"{{{NS_UBL_CREDIT_NOTE}}}CreditNote": "ubl",
    f"{{{NS_ZUGFERD1}}}CrossIndustryDocument": "zugferd1",
    f"{{{NS_ORDERX}}}SCRDMCCBDACIOMessageStructure": "orderx",
}

# Names under which Factur-X / ZUGFeRD 2 producers embed the invoice XML.
PDF_XML_NAMES = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml"]

IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}

logger = logging.getLogger(__name__)
# The factur-x library tells at INFO level what it found in every file ("A valid XML file
# factur-x.xml has been found in the PDF", flavor, level: five records per deposit). Under the
# server's logging each record was formatted and written, for nothing anybody reads: its
# warnings and errors are kept.
logging.getLogger("factur-x").setLevel(logging.WARNING)


class Detection:
    """Outcome of stage 1: a format, the parsed XML root when there is one, findings."""

    __slots__ = ("format", "root", "syntax", "findings", "embedded_name")

    def __init__(self) -> None:
        self.format: Format = "unsupported"
        self.root: etree._Element | None = None
        self.syntax: str | None = None  # "CII", "UBL-Invoice", "UBL-CreditNote"
        self.findings: list[Finding] = []
        self.embedded_name: str | None = None

    def refuse(self, item: Finding) -> Detection:
        self.format = "unsupported"
        self.root = None
        self.findings.append(item)
        return self


def detect(data: bytes, filename: str | None = None) -> Detection:
    result = Detection()
    if not data:
        return result.refuse(finding("FCT-DETECT-03"))
    # XML is tested before the lenient PDF test so that an invoice whose text
    # mentions "%PDF-" stays XML; a PDF never starts with "<".
    if looks_like_xml(data) and not data.lstrip().startswith(b"%PDF-"):
        _detect_xml(data, result)
        _check_extension(filename, result, ".xml", "du XML")
        return result
    if _is_pdf(data):
        _detect_pdf(data, result)
        _check_extension(filename, result, ".pdf", "un PDF")
        return result
    image = _image_kind(data)
    if image:
        return result.refuse(finding("FCT-DETECT-04", kind=image))
    return result.refuse(finding("FCT-DETECT-05"))


def _is_pdf(data: bytes) -> bool:
    # PDF readers accept the header anywhere in the first 1024 bytes.
    return b"%PDF-" in data[:1024]


def _image_kind(data: bytes) -> str | None:
    for magic, kind in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC"
    return None


def _check_extension(filename: str | None, result: Detection, expected: str, content: str) -> None:
    if not filename or result.format == "unsupported":
        return
    ext = os.path.splitext(filename)[1].lower()
    if ext and ext != expected:
        result.findings.append(finding("FCT-DETECT-08", ext=ext, content=content))


# --- XML ----------------------------------------------------------------------------


def _detect_xml(data: bytes, result: Detection) -> None:
    root, problem = parse_untrusted(data)
    if problem:
        result.refuse(problem)
        return
    kind = ROOT_KINDS.get(root.tag)
    if kind == "cii":
        _accept(result, "cii-xml", root)
    elif kind == "ubl":
        _accept(result, "ubl-xml", root)
    else:
        result.refuse(_root_refusal(kind, root))


def _accept(result: Detection, fmt: Format, root: etree._Element) -> None:
    result.format = fmt
    result.root = root
    result.syntax = syntax_of(root)


def syntax_of(root: etree._Element) -> str:
    # factur-x's flavor names the syntax; the namespace check above made it exact.
    flavor = facturx.get_flavor(root)
    return {"factur-x": "CII", "ubl-2.1-invoice": "UBL-Invoice"}.get(flavor, "UBL-CreditNote")


def _root_refusal(kind: str | None, root: etree._Element) -> Finding:
    if kind == "zugferd1":
        return finding("FCT-DETECT-06")
    if kind == "orderx":
        return finding("FCT-DETECT-07")
    qname = etree.QName(root)
    label = f"{qname.localname}" + (f" — espace de noms {qname.namespace}" if qname.namespace else "")
    return finding("FCT-DETECT-02", root=label)


# --- PDF ----------------------------------------------------------------------------


def _detect_pdf(data: bytes, result: Detection) -> None:
    try:
        name, xml_bytes = _invoice_attachment(data)
    except Exception as exc:  # pypdf raises many types on damaged files
        logger.debug("unreadable PDF: %r", exc)
        result.refuse(finding("FCT-PDF-01"))
        return
    if not xml_bytes:
        result.refuse(_diagnose_pdf_without_invoice(data))
        return
    root, problem = parse_untrusted(xml_bytes)
    if problem:
        result.refuse(_embedded(problem, name))
        return
    kind = ROOT_KINDS.get(root.tag)
    if kind == "zugferd1":
        # A hybrid PDF may carry a ZUGFeRD 1.0 XML for old readers beside its
        # Factur-X XML: the Factur-X one is the invoice, whatever the order.
        name, root, kind = _factur_x_beside_zugferd1(data, name, root)
    if kind == "cii":
        _accept(result, "facturx-pdf", root)
        result.embedded_name = name
    elif kind in ("zugferd1", "orderx"):
        result.refuse(_root_refusal(kind, root))
    else:
        reason = "ce n'est pas un XML CII (CrossIndustryInvoice) Factur-X."
        result.refuse(finding("FCT-PDF-02", name=name, reason=reason))


def _invoice_attachment(data: bytes) -> tuple[str | None, bytes | None]:
    """factur-x's extraction, asking for factur-x.xml first: factur-x returns the first
    matching attachment in the PDF's order, which may be a ZUGFeRD 1.0 XML."""
    name, xml_bytes = facturx.get_xml_from_pdf(data, check_xsd=False, filenames=[PDF_XML_NAMES[0]])
    if xml_bytes:
        return name, xml_bytes
    return facturx.get_xml_from_pdf(data, check_xsd=False, filenames=PDF_XML_NAMES[1:])


def _factur_x_beside_zugferd1(
    data: bytes, name: str | None, root: etree._Element
) -> tuple[str | None, etree._Element, str]:
    """Another invoice attachment that is a CII (ZUGFeRD 2 / Factur-X) wins over the
    ZUGFeRD 1.0 XML; without one the ZUGFeRD 1.0 XML stays (and is refused)."""
    for attachment in PdfReader(BytesIO(data)).attachment_list:
        other_name = attachment.name
        if other_name == name or (other_name or "").lower() not in PDF_XML_NAMES:
            continue
        other_root, problem = parse_untrusted(attachment.content or b"")
        if problem is None and ROOT_KINDS.get(other_root.tag) == "cii":
            return other_name, other_root, "cii"
    return name, root, "zugferd1"


def _embedded(problem: Finding, name: str | None) -> Finding:
    where = f"pièce jointe {name} du PDF"
    return Finding(problem.rule, problem.severity, problem.stage, problem.message, where)


def _diagnose_pdf_without_invoice(data: bytes) -> Finding:
    """factur-x found no usable invoice XML: say why when an XML attachment exists."""
    try:
        attachments = [(a.name, a.content) for a in PdfReader(BytesIO(data)).attachment_list]
    except Exception:
        return finding("FCT-DETECT-01")
    for name, content in attachments:
        if not (name or "").lower().endswith(".xml"):
            continue
        root, problem = parse_untrusted(content or b"")
        if problem:
            return _embedded(problem, name)
        kind = ROOT_KINDS.get(root.tag)
        if kind in ("zugferd1", "orderx"):
            return _root_refusal(kind, root)
        if kind == "cii":
            reason = "elle doit s'appeler factur-x.xml (nom de pièce jointe non standard)."
        else:
            reason = "ce n'est pas un XML CII (CrossIndustryInvoice) Factur-X."
        return finding("FCT-PDF-02", name=name, reason=reason)
    return finding("FCT-DETECT-01")
