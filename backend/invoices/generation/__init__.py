"""Generation of Factur-X EN 16931 invoices from captured data.

Public API::

    check_invoice(invoice) -> list[Problem]          # every problem, in French
    compute_totals(invoice) -> Totals                # EN 16931 rounding
    draft_totals(rows, prepaid_amount=None, *, already_paid=False) -> DraftTotals  # never raises
    cii_xml(invoice, *, attachment_names=None) -> bytes                          # CII D16B
    build_facturx(invoice, attachments=[(name, data, mime), ...]) -> bytes       # PDF/A-3b

``build_facturx`` is synchronous and CPU-bound: call it from a worker thread. It
(and WeasyPrint) is imported on first use, so that the capture page can compute
drafts without loading the PDF renderer. See README.md.
"""

from __future__ import annotations


import logging

# WeasyPrint says "Step 1 - Fetching and parsing HTML…" at INFO for every PDF (and for the
# stylesheets built at import): noise in a server's log, where its warnings (a font or an
# image it could not use) still appear. Set before anything here imports it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from typing import TYPE_CHECKING, Any

from .cii import business_terms, cii_xml
from .model import (
    BILLING_FRAMEWORK_LABELS,
    TYPE_LABELS,
    VAT_CATEGORY_LABELS,
    Address,
    Buyer,
    CapturedInvoice,
    InvoiceDataError,
    InvoiceLine,
    Problem,
    Seller,
    check_invoice,
)
from .totals import (
    DraftIssue,
    DraftTotals,
    Totals,
    VatGroup,
    compute_totals,
    draft_totals,
    line_net,
    vat_amount,
)

if TYPE_CHECKING:
    from .pdf import AttachmentError, build_facturx

__all__ = [
    "BILLING_FRAMEWORK_LABELS",
    "TYPE_LABELS",
    "VAT_CATEGORY_LABELS",
    "Address",
    "AttachmentError",
    "Buyer",
    "CapturedInvoice",
    "DraftIssue",
    "DraftTotals",
    "InvoiceDataError",
    "InvoiceLine",
    "Problem",
    "Seller",
    "Totals",
    "VatGroup",
    "build_facturx",
    "business_terms",
    "check_invoice",
    "cii_xml",
    "compute_totals",
    "draft_totals",
    "line_net",
    "vat_amount",
    "warm_up",
]

_LAZY = {"build_facturx", "AttachmentError", "render_html"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import pdf

        return getattr(pdf, name)
    raise AttributeError(name)


def warm_up() -> None:
    """Load what the first invoice would otherwise pay for (XSD, code lists, WeasyPrint,
    templates, this thread's fonts). Call once at server start; safe to call again."""
    from . import cii, pdf

    cii.warm_up()
    pdf.warm_up()
