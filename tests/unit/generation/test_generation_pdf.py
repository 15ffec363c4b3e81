"""The Factur-X PDF: validated by the deposit pipeline, same data as captured, French
text, PDF/A-3b container, embedded supporting documents, no network."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import facturx
import pytest
from babel.numbers import format_decimal
from PIL import Image
from pypdf import PdfReader, PdfWriter

from backend.invoices.generation import compute_totals
from backend.invoices.generation.cii import billing_mode
from backend.invoices.generation import examples as ex
from backend.invoices.validation import validate_bytes
from backend.processing import frameworks
from tests.conftest import require_component

try:  # WeasyPrint needs pango (libpango-1.0-0, libpangoft2-1.0-0) from the system
    from backend.invoices.generation import pdf as pdf_module
except OSError:  # pragma: no cover - laptop without pango
    pdf_module = None


@pytest.fixture(scope="module", autouse=True)
def _renderer_available() -> None:
    fonts = pdf_module is not None and all((pdf_module.FONT_DIR / f).is_file() for f in pdf_module.FONT_FILES)
    require_component(fonts, "WeasyPrint (pango) et les polices DejaVu (fonts-dejavu-core)")


def build_facturx(invoice, attachments=None) -> bytes:
    return pdf_module.build_facturx(invoice, attachments)


EXEMPT = {
    "vat_category": "E",
    "exemption_reason": "Exonération de TVA, article 261-4-4° a du CGI",
    "exemption_reason_code": "VATEX-FR-CGI261-4",
}


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (180, 40, 30)).save(out, "JPEG")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (30, 40, 180)).save(out, "PNG")
    return out.getvalue()


def plain_pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def french_money(value: D) -> str:
    return format_decimal(value, "#,##0.00", locale="fr_FR") + "\u00a0€"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text with line breaks (and French spaces) as plain single spaces."""
    return " ".join(text.split())


CASES = {
    "several_rates": (
        ex.invoice(
            number="F2026-0101",
            lines=[
                ex.line("Porte coupe-feu", "3", "1250", "20"),
                ex.line("Travaux d'amélioration énergétique", "12.25", "45.335", "5.5", unit_code="HUR"),
                ex.line("Ouvrages techniques", "2.1234", "7.77", "10"),
                ex.line("Abonnement presse", "3", "0.335", "2.1"),
            ],
        ),
        [],
    ),
    "exemption": (
        ex.invoice(
            number="F2026-0102",
            lines=[
                ex.line("Formation des agents (2 jours)", "2", "750", "0", unit_code="DAY", **EXEMPT),
                ex.line("Livret stagiaire", "12", "8.5", "5.5"),
            ],
        ),
        [],
    ),
    "credit_note": (
        ex.invoice(
            number="AV2026-0007",
            type_code="381",
            issue_date=dt.date(2026, 3, 20),
            due_date=None,
            preceding_invoice_number="F2026-0042",
            preceding_invoice_date=dt.date(2026, 3, 2),
            lines=[ex.line("Avoir sur porte coupe-feu (défaut de finition)", "1", "250", "20")],
        ),
        # No delivery date on a credit note: the CII delivery group stays empty (see README).
        ["PEPPOL-EN16931-R008"],
    ),
    "already_paid": (
        ex.invoice(number="F2026-0103", billing_framework="A2", due_date=dt.date(2026, 2, 28)),
        [],
    ),
    "fifty_lines": (ex.many_lines_invoice(50, number="F2026-0104"), []),
    "with_attachments": (ex.invoice(number="F2026-0105", billing_framework="A9"), "attachments"),
}


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[object, bytes, list]]:
    attachments = [
        ("photo chantier.jpg", jpeg_bytes(), "image/jpeg"),
        ("devis signé.pdf", plain_pdf_bytes(), "application/pdf"),
    ]
    result = {}
    for name, (invoice, _) in CASES.items():
        files = attachments if name == "with_attachments" else []
        result[name] = (invoice, build_facturx(invoice, files), files)
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_generated_pdf_passes_validation(built, name: str) -> None:
    invoice, data, _ = built[name]
    result = validate_bytes(data, f"{name}.pdf")
    assert result.format == "facturx-pdf"
    assert result.profile == "en16931"
    assert result.valid is True
    assert [f.rule for f in result.findings if f.severity == "fatal"] == []
    expected_warnings = CASES[name][1] if isinstance(CASES[name][1], list) else []
    # The reform's BR-FR rules included: nothing but the expected warnings.
    warnings = [f.rule for f in result.findings if f.severity == "warning"]
    assert warnings == expected_warnings
    assert "sch:facturx-en16931" in result.checks


@pytest.mark.parametrize("name", list(CASES))
def test_extracted_invoice_matches_the_capture(built, name: str) -> None:
    invoice, data, _ = built[name]
    extracted = validate_bytes(data, f"{name}.pdf").invoice
    totals = compute_totals(invoice)
    assert extracted.number == invoice.number
    assert extracted.type_code == invoice.type_code
    assert extracted.issue_date == invoice.issue_date.isoformat()
    assert frameworks.code_of(extracted.business_process) == invoice.billing_framework  # S1 → A1, S2 → A2…
    assert extracted.seller.siret == invoice.seller.siret
    assert extracted.buyer.siret == invoice.buyer.siret
    assert extracted.buyer_reference == invoice.service_code
    assert extracted.purchase_order == invoice.engagement
    assert extracted.preceding_invoice == invoice.preceding_invoice_number
    assert extracted.line_count == len(invoice.lines)
    got = extracted.totals
    assert got.line_net.value == totals.line_total
    assert got.tax_exclusive.value == totals.tax_exclusive
    assert got.tax.value == totals.tax_total
    assert got.tax_inclusive.value == totals.tax_inclusive
    assert got.payable.value == totals.payable
    assert (got.prepaid.value if got.prepaid else D("0")) == totals.prepaid
    assert [line.net_amount.value for line in extracted.lines] == totals.line_nets


@pytest.mark.parametrize("name", list(CASES))
def test_pdf_text_shows_number_and_french_total(built, name: str) -> None:
    invoice, data, _ = built[name]
    text = pdf_text(data)
    totals = compute_totals(invoice)
    assert invoice.number in text
    assert french_money(totals.tax_inclusive) in text  # e.g. "4 932,00 €" with French spaces
    assert ("Avoir" if invoice.is_credit_note else "Facture") in text
    assert invoice.service_code in text and invoice.engagement in text
    # the reform's code, as in the XML, with the Chorus Pro framework it stands for
    assert f"Cadre de facturation {billing_mode(invoice)} — " in flat(text)
    assert f"(Chorus Pro {invoice.billing_framework})" in flat(text)
    if totals.tax_inclusive >= 1000:  # the English form must not appear
        assert f"{totals.tax_inclusive:,.2f}" not in text


def test_already_paid_pdf_says_so(built) -> None:
    text = pdf_text(built["already_paid"][1])
    assert "FACTURE ACQUITTÉE" in text  # stamp (text-transform: uppercase)
    assert "Net à payer" in text and french_money(D("0")) in text
    assert "28 février 2026" in text  # payment date, French date format


def test_credit_note_pdf_names_the_original_invoice(built) -> None:
    text = flat(pdf_text(built["credit_note"][1]))
    assert "Facture d'origine n° F2026-0042 du 2 mars 2026" in text


def test_exemption_reason_is_printed(built) -> None:
    text = flat(pdf_text(built["exemption"][1]))
    assert EXEMPT["exemption_reason"] in text and "VATEX-FR-CGI261-4" in text


def test_fifty_lines_span_several_pages(built) -> None:
    reader = PdfReader(io.BytesIO(built["fifty_lines"][1]))
    assert len(reader.pages) >= 3
    text = pdf_text(built["fifty_lines"][1])
    assert "Fourniture n° 1 :" in text and "Fourniture n° 50 :" in text
    assert f"Page {len(reader.pages)} / {len(reader.pages)}" in text


def test_attachments_are_embedded(built) -> None:
    invoice, data, files = built["with_attachments"]
    reader = PdfReader(io.BytesIO(data))
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    assert set(embedded) == {"factur-x.xml", "photo chantier.jpg", "devis signé.pdf"}
    assert embedded["photo chantier.jpg"] == files[0][1]
    assert embedded["devis signé.pdf"] == files[1][1]
    # the XML found by factur-x is the invoice, and it references the attachments (BG-24)
    xml_name, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
    assert xml_name == "factur-x.xml"
    assert b"<ram:IssuerAssignedID>photo chantier.jpg</ram:IssuerAssignedID>" in xml
    # file specifications: relationship and MIME type, as PDF/A-3 asks
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {names[i]: names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert specs["factur-x.xml"]["/AFRelationship"] == "/Data"
    assert specs["photo chantier.jpg"]["/AFRelationship"] == "/Supplement"
    assert specs["photo chantier.jpg"]["/EF"]["/F"].get_object()["/Subtype"] == "/image/jpeg"
    assert specs["devis signé.pdf"]["/EF"]["/F"].get_object()["/Subtype"] == "/application/pdf"
    assert "/ModDate" in specs["devis signé.pdf"]["/EF"]["/F"].get_object()["/Params"]
    assert len(reader.trailer["/Root"]["/AF"]) == 3
    text = pdf_text(data)
    assert "PIÈCES JOINTES (2)" in text and "photo chantier.jpg" in text  # heading in capitals (CSS)


def test_pdfa3b_container(built) -> None:
    data = built["several_rates"][1]
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert root["/Lang"] == "fr-FR"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged (accessibility)
    assert reader.metadata.title == "Facture F2026-0101"
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor_owner = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descriptor_owner["/FontDescriptor"].get_object()
            fonts[font["/BaseFont"]] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), fonts  # every font embedded
    assert all("Facteur-Sans" in name for name in fonts)  # only the DejaVu files we ship


# --- attachments: checks and names ------------------------------------------------------


def test_attachment_names_are_made_safe_and_unique() -> None:
    jpeg = jpeg_bytes()
    prepared = pdf_module.prepare_attachments(
        [
            ("../../etc/passwd.jpg", jpeg, "image/jpeg"),
            ("C:\\Users\\moi\\photo.JPG", jpeg, "image/jpg"),
            ("photo.jpg", jpeg, "image/jpeg"),
            ("factur-x.xml", png_bytes(), "image/png"),
            ("scan", plain_pdf_bytes(), "application/pdf"),
        ]
    )
    assert list(prepared) == ["passwd.jpg", "photo.jpg", "photo (2).jpg", "factur-x.xml.png", "scan.pdf"]


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("virus.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("faux.jpg", b"%PDF-1.7 not a jpeg", "image/jpeg"),
        ("vide.pdf", b"", "application/pdf"),
        ("page.html", b"<html>", "text/html"),
        ("enorme.pdf", b"%PDF-1.7" + b"0" * (16 * 1024 * 1024), "application/pdf"),
    ],
)
def test_refused_attachments(name: str, data: bytes, mime: str) -> None:
    with pytest.raises(pdf_module.AttachmentError):
        build_facturx(ex.invoice(), [(name, data, mime)])


# --- no network, state built once --------------------------------------------------------


def test_rendering_never_touches_the_network(monkeypatch) -> None:
    connections: list[object] = []

    def refuse(self, address):  # pragma: no cover - must not be called
        connections.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    # user text is escaped: an <img> in a description is printed, never fetched
    hostile = ex.invoice(lines=[ex.line('<img src="http://198.51.100.7/pixel.png"> Porte', "1", "10")])
    data = build_facturx(hostile)
    assert '<img src="http://198.51.100.7/pixel.png"> Porte' in pdf_text(data)
    # a template that referenced a remote resource would fail instead of fetching it
    for html in (
        '<img src="http://198.51.100.7/pixel.png">',
        '<link rel="stylesheet" href="https://198.51.100.7/x.css">',
        '<img src="file:///etc/passwd">',
    ):
        with pytest.raises(pdf_module.FatalURLFetchingError):
            pdf_module.render_pdf(f"<!doctype html><html><body>{html}</body></html>")
    assert connections == []


def test_fetcher_serves_only_the_font_folder() -> None:
    fetcher = pdf_module._thread_style()[2]
    font = (pdf_module.FONT_DIR / "DejaVuSans.ttf").as_uri()
    response = fetcher.fetch(font)
    try:
        assert response.read(4) in (b"\x00\x01\x00\x00", b"true")
    finally:
        response.close()
    for url in (
        "https://example.org/font.ttf",
        "file:///etc/passwd",
        font.replace("DejaVuSans.ttf", "../../../../etc/passwd"),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_templates_are_compiled_once_and_styles_kept_per_thread() -> None:
    assert pdf_module._HTML is pdf_module._ENV.get_template(pdf_module.HTML_TEMPLATE)
    first = pdf_module._thread_style()
    assert pdf_module._thread_style() is first
    assert isinstance(first[2], pdf_module.LocalOnlyFetcher)
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(pdf_module._thread_style()))
    thread.start()
    thread.join()
    assert other and other[0] is not first


def test_concurrent_builds_in_worker_threads() -> None:
    invoices = [
        ex.invoice(number=f"F2026-02{i:02d}", lines=[ex.line(f"Article {i}", str(i + 1), "10.5")])
        for i in range(4)
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outputs = list(pool.map(build_facturx, invoices))
    for invoice, data in zip(invoices, outputs):
        result = validate_bytes(data, "f.pdf")
        assert result.valid and result.invoice.number == invoice.number
        assert result.invoice.totals.payable.value == compute_totals(invoice).payable
