"""HTML templates to PDF for the platform's own documents (certificate, readable invoice).

Same rules as the Factur-X renderer (backend/invoices/generation/pdf.py), whose fetcher and
font folder it reuses: DejaVu fonts embedded (PDF/A-3b), no network, and WeasyPrint's
objects built once per thread. ``pdf`` runs the layout in a worker thread so the event
loop never waits on it. The output depends only on the template and its context: the same
data gives the same bytes (no creation date is written).
"""

from __future__ import annotations

import threading

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from backend.invoices.generation.pdf import FONT_DIR, FONT_FILES, LocalOnlyFetcher, iban, pdf_template_environment, siret
from backend.lib import heavy
from backend.lib.formats import JINJA_FILTERS
from backend.processing import frameworks

STYLESHEET = "invoices/pdf/documents.css"

_ENV = pdf_template_environment()
_ENV.filters.update(JINJA_FILTERS, siret=siret, iban=iban, framework_label=frameworks.label)
_local = threading.local()


def _thread_style() -> tuple[FontConfiguration, CSS, LocalOnlyFetcher]:
    """This thread's fonts and parsed stylesheet: pango state is never shared between threads."""
    style = getattr(_local, "style", None)
    if style is None:
        missing = [name for name in FONT_FILES if not (FONT_DIR / name).is_file()]
        if missing:
            raise RuntimeError(f"Polices DejaVu absentes de {FONT_DIR} ({', '.join(missing)}) : installez fonts-dejavu-core.")
        fetcher = LocalOnlyFetcher((FONT_DIR,))
        font_config = FontConfiguration()
        text = _ENV.get_template(STYLESHEET).render(font_url=lambda name: (FONT_DIR / name).as_uri())
        style = _local.style = (font_config, CSS(string=text, font_config=font_config, url_fetcher=fetcher), fetcher)
    return style


def render_pdf(template: str, context: dict) -> bytes:
    """PDF/A-3b bytes of a template under frontend/templates (synchronous, CPU-bound)."""
    html = _ENV.get_template(template).render(**context)
    font_config, css, fetcher = _thread_style()
    document = HTML(string=html, base_url=FONT_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=font_config, pdf_variant="pdf/a-3b",
                              pdf_tags=True, custom_metadata=False)


async def pdf(template: str, context: dict) -> bytes:
    return await heavy.run(None, render_pdf, template, context)  # a certificate or readable view: bounded per process
