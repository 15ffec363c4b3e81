"""The Factur-X PDF: a readable A4 invoice (Jinja2 + WeasyPrint, PDF/A-3b, DejaVu
fonts embedded) carrying the CII XML and the supporting documents.

``build_facturx`` is synchronous and CPU-bound (0.1 to 0.5 s, see bench/generation):
the web layer calls it in a worker thread. Process-wide state is built once at import:
the Jinja environment and its compiled templates, the rendered stylesheet text.
WeasyPrint's font configuration, parsed stylesheet (pango objects, fonts loaded) and
URL fetcher are built once per thread and never shared between threads.

No network: WeasyPrint resolves URLs through ``LocalOnlyFetcher``, which serves
``file:`` URLs inside the font folder only and fails the rendering on anything else.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import threading
import unicodedata
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

import facturx
import jinja2
from babel.dates import format_date
from babel.numbers import format_decimal
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .cii import _cii_unchecked, billing_mode, default_payment_terms, effective_delivery_date, notes
# The fonts (Debian fonts-dejavu-core, or FACTEUR_PDF_FONT_DIR): glyphs.py also reads them
# to refuse at entry the characters they cannot print.
from .glyphs import FONT_DIR, FONT_FILES
from .model import (
    BILLING_FRAMEWORK_LABELS,
    TYPE_LABELS,
    VAT_CATEGORY_LABELS,
    CapturedInvoice,
    ensure_valid,
)
from .totals import Totals, compute_totals

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "frontend" / "templates"
HTML_TEMPLATE = "invoices/pdf/invoice.html"
CSS_TEMPLATE = "invoices/pdf/invoice.css"
# Tagged PDF (structure tree) for screen readers. Costs about 5 ms of layout and
# 15 ms (2 lines) to 70 ms (50 lines) in factur-x's pypdf pass: see bench/generation.
PDF_TAGS = True
LOCALE = "fr_FR"
NBSP = "\u00a0"

# Supporting documents accepted in the PDF: MIME type -> (magic bytes, extension).
ATTACHMENT_TYPES: dict[str, tuple[tuple[bytes, ...], str]] = {
    "image/jpeg": ((b"\xff\xd8\xff",), ".jpg"),
    "image/png": ((b"\x89PNG\r\n\x1a\n",), ".png"),
    "application/pdf": ((b"%PDF-",), ".pdf"),
}
MAX_ATTACHMENTS = 20
# Keeps the Factur-X PDF under the deposit pipeline's default 20 MB limit.
MAX_ATTACHMENTS_BYTES = 15 * 1024 * 1024
RESERVED_NAMES = {"factur-x.xml", "zugferd-invoice.xml", "order-x.xml", "xrechnung.xml"}

UNIT_LABELS = {
    "C62": "unité",
    "H87": "pièce",
    "HUR": "heure",
    "DAY": "jour",
    "WEE": "semaine",
    "MON": "mois",
    "ANN": "an",
    "MIN": "minute",
    "KGM": "kg",
    "TNE": "t",
    "GRM": "g",
    "MTR": "m",
    "KMT": "km",
    "MTK": "m²",
    "MTQ": "m³",
    "LTR": "l",
    "SET": "lot",
    "LS": "forfait",
    "E48": "service",
    "KWH": "kWh",
}


__all__ = [
    "AttachmentError",
    "FatalURLFetchingError",
    "LocalOnlyFetcher",
    "build_facturx",
    "render_html",
    "render_pdf",
]


class AttachmentError(ValueError):
    """A supporting document that cannot be embedded (type, content, count)."""


# --- French formatting (Babel) --------------------------------------------------------


def money(value: Decimal) -> str:
    return format_decimal(value, "#,##0.00", locale=LOCALE) + NBSP + "€"


def quantity(value: Decimal) -> str:
    return format_decimal(value, "#,##0.####", locale=LOCALE)


def price(value: Decimal) -> str:
    return format_decimal(value, "#,##0.00##", locale=LOCALE) + NBSP + "€"


def rate(value: Decimal) -> str:
    return format_decimal(value, "#,##0.##", locale=LOCALE) + NBSP + "%"


def date_fr(value: dt.date | None) -> str:
    return "" if value is None else format_date(value, "d MMMM y", locale=LOCALE)


def siret(value: str) -> str:
    return f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}" if len(value) == 14 else value


def iban(value: str | None) -> str:
    compact = "".join((value or "").split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def unit_label(code: str) -> str:
    return UNIT_LABELS.get(code, code)


# --- process-wide state -----------------------------------------------------------------

def pdf_template_environment() -> jinja2.Environment:
    """The Jinja environment of every PDF the platform renders: strict, escaped, loaded once."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


_ENV = pdf_template_environment()
_ENV.filters.update(
    money=money,
    qty=quantity,
    price=price,
    rate=rate,
    date_fr=date_fr,
    siret=siret,
    iban=iban,
    unit_label=unit_label,
)
_HTML = _ENV.get_template(HTML_TEMPLATE)
_CSS_TEXT = _ENV.get_template(CSS_TEMPLATE).render(font_url=lambda name: (FONT_DIR / name).as_uri())


class LocalOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the allowed folders; any other URL stops the
    rendering (``fail_on_errors``): the PDF never depends on the network."""

    def __init__(self, allowed_dirs: tuple[Path, ...]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=True, timeout=1)
        self._allowed = tuple(d.resolve() for d in allowed_dirs)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"URL refusée (pas de réseau) : {url}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(allowed) for allowed in self._allowed):
            raise ValueError(f"Fichier hors des dossiers autorisés : {path}")
        return super().fetch(path.as_uri(), headers)


_local = threading.local()


def _thread_style() -> tuple[FontConfiguration, CSS, LocalOnlyFetcher]:
    """This thread's font configuration, parsed stylesheet (fonts loaded once) and URL
    fetcher: WeasyPrint's objects hold pango state and are not shared between threads."""
    style = getattr(_local, "style", None)
    if style is None:
        missing = [name for name in FONT_FILES if not (FONT_DIR / name).is_file()]
        if missing:
            raise RuntimeError(
                f"Polices DejaVu absentes de {FONT_DIR} ({', '.join(missing)}) : "
                "installez le paquet fonts-dejavu-core ou définissez FACTEUR_PDF_FONT_DIR."
            )
        fetcher = LocalOnlyFetcher((FONT_DIR,))
        font_config = FontConfiguration()
        css = CSS(string=_CSS_TEXT, font_config=font_config, url_fetcher=fetcher)
        style = _local.style = (font_config, css, fetcher)
    return style


# --- attachments -----------------------------------------------------------------------


def _safe_filename(raw: str, mime: str) -> str:
    """A plain file name: no folder, no control characters, the extension of its type."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "piece-jointe"
    extension = ATTACHMENT_TYPES[mime][1]
    stem, dot, ext = name.rpartition(".")
    if not dot or mimetypes.guess_type("x." + ext.lower())[0] != mime:
        stem = name
    stem = stem[:80].rstrip() or "piece-jointe"
    return stem + extension


def prepare_attachments(attachments: list[tuple[str, bytes, str]]) -> dict[str, dict]:
    """factur-x's ``attachments`` dict: unique safe names, checked types."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise AttachmentError(f"Au plus {MAX_ATTACHMENTS} pièces jointes.")
    if sum(len(data or b"") for _, data, _ in attachments) > MAX_ATTACHMENTS_BYTES:
        raise AttachmentError(
            f"Pièces jointes trop volumineuses : {MAX_ATTACHMENTS_BYTES // (1024 * 1024)} Mo au total au plus."
        )
    now = dt.datetime.now(dt.timezone.utc)
    result: dict[str, dict] = {}
    for raw_name, data, mime in attachments:
        mime = (mime or "").split(";")[0].strip().lower()
        if mime == "image/jpg":
            mime = "image/jpeg"
        if mime not in ATTACHMENT_TYPES:
            raise AttachmentError(f"« {raw_name} » : type {mime or 'inconnu'} refusé (JPEG, PNG ou PDF).")
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise AttachmentError(f"« {raw_name} » est vide.")
        if not bytes(data[:8]).startswith(ATTACHMENT_TYPES[mime][0]):
            raise AttachmentError(f"« {raw_name} » n'est pas un fichier {mime} valide.")
        name = _safe_filename(raw_name, mime)
        stem, _, ext = name.rpartition(".")
        candidate, counter = name, 2
        while candidate.lower() in {n.lower() for n in result} or candidate.lower() in RESERVED_NAMES:
            candidate = f"{stem} ({counter}).{ext}"
            counter += 1
        result[candidate] = {
            "filedata": bytes(data),
            "description": f"Pièce jointe : {candidate}",
            "modification_datetime": now,
            "afrelationship": "supplement",
        }
    return result


# --- rendering -----------------------------------------------------------------------------


def render_html(invoice: CapturedInvoice, totals: Totals, attachment_names: list[str]) -> str:
    """The HTML of the readable invoice (trusts a checked invoice)."""
    return _HTML.render(
        invoice=invoice,
        totals=totals,
        lines=list(zip(invoice.lines, totals.line_nets)),
        type_label=TYPE_LABELS[invoice.type_code],
        framework_label=BILLING_FRAMEWORK_LABELS[invoice.billing_framework],
        billing_mode=billing_mode(invoice),  # BT-23 as written in the XML
        category_labels=VAT_CATEGORY_LABELS,
        seller_vat_id=invoice.seller_vat_id,
        buyer_vat_id=invoice.buyer_vat_id,
        delivery_date=effective_delivery_date(invoice),
        payment_terms=default_payment_terms(invoice, totals),
        show_bank=bool(invoice.seller.iban) and not invoice.is_credit_note and totals.payable > 0,
        mentions=[(subject, text) for subject, text in notes(invoice) if subject],
        attachments=attachment_names,
    )


def render_pdf(html: str) -> bytes:
    """PDF/A-3b bytes of the HTML, fonts embedded, without any network access."""
    font_config, css, fetcher = _thread_style()
    document = HTML(string=html, base_url=FONT_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(
        stylesheets=[css],
        font_config=font_config,
        pdf_variant="pdf/a-3b",
        pdf_tags=PDF_TAGS,
        custom_metadata=False,
    )


def _pdf_metadata(invoice: CapturedInvoice) -> dict[str, str]:
    label = TYPE_LABELS[invoice.type_code]
    return {
        "author": invoice.seller.name,
        "title": f"{label} {invoice.number}",
        "subject": (
            f"{label} {invoice.number} du {invoice.issue_date.isoformat()} "
            f"{'émis' if invoice.is_credit_note else 'émise'} par "
            f"{invoice.seller.name} pour {invoice.buyer.name}"
        ),
        "keywords": f"{label}, Factur-X, EN 16931",
    }


def build_facturx(invoice: CapturedInvoice, attachments: list[tuple[str, bytes, str]] | None = None) -> bytes:
    """The Factur-X EN 16931 PDF (PDF/A-3b) of a captured invoice.

    ``attachments``: supporting documents as (file name, bytes, MIME type), JPEG, PNG
    or PDF; they are embedded next to factur-x.xml (AFRelationship Supplement) and
    listed in the invoice (BG-24 references and on the page).

    Synchronous and CPU-bound: call it from a worker thread. Raises
    ``InvoiceDataError`` (every problem, in French) for an invoice that cannot be
    valid and ``AttachmentError`` for a refused attachment."""
    ensure_valid(invoice)
    prepared = prepare_attachments(list(attachments or []))
    totals = compute_totals(invoice)
    names = list(prepared)
    xml = _cii_unchecked(invoice, totals, attachment_names=names)
    pdf = render_pdf(render_html(invoice, totals, names))
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # cii already checked it with a cached schema
        check_schematron=False,  # would call a Saxon HTTP server
        pdf_metadata=_pdf_metadata(invoice),
        lang="fr-FR",
        attachments=prepared,
    )


def warm_up() -> None:
    """Load this thread's fonts and stylesheet and lay out a small invoice once."""
    from .examples import invoice

    example = invoice()
    render_pdf(render_html(example, compute_totals(example), []))
