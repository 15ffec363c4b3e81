"""Web routes of the invoice documents: the deposit certificate, the readable view and its PDF.

Same access as the invoice page (members of the supplier or of the recipient; 404 to others).
"""

from __future__ import annotations

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Response, Template

from backend.accounts.spaces import INVOICES, space
from backend.invoices import access
from backend.invoices.documents.certificate import certificate_filename, certificate_pdf
from backend.invoices.documents.readable import readable_context, readable_filename, readable_pdf
from backend.lib.web import CurrentUser, page, require_user


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF download: never framed, never run, kept by no shared cache."""
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "document.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{safe_name}"',
        "Cache-Control": "private, no-cache",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
    })


@get("/invoices/{invoice_id:int}/certificate")
async def invoice_certificate(current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Response:
    """Le certificat de dépôt (PDF)."""
    invoice = await access.visible_invoice(current, invoice_id)
    return pdf_response(await certificate_pdf(invoice), certificate_filename(invoice))


@get("/invoices/{invoice_id:int}/readable")
async def invoice_readable(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Template:
    """La facture lisible : ses données en clair, quel que soit son format."""
    invoice = await access.visible_invoice(current, invoice_id)
    return page(request, "invoices/readable.html", view=await readable_context(request.app.state.settings, invoice))


@get("/invoices/{invoice_id:int}/readable.pdf")
async def invoice_readable_pdf(request: Request, current: NamedDependency[CurrentUser], invoice_id: FromPath[int]) -> Response:
    invoice = await access.visible_invoice(current, invoice_id)
    data = await readable_pdf(request.app.state.settings, invoice)
    return pdf_response(data, readable_filename(invoice))


router = Router(opt=space(INVOICES), path="/", dependencies={"current": Provide(require_user)},
                route_handlers=[invoice_certificate, invoice_readable, invoice_readable_pdf])
