"""A multipart field that is not valid UTF-8 is refused in French (400), never a 500.

Generated from the app's route table: every POST route receives a multipart body whose
text field is Latin-1 (or names a charset that does not exist), once with the CSRF token
in the body (a browser's form) and once in the header (htmx, push.js) or with an API key.
The upload routes (deposits, capture photos, messages, completion, API deposits and
attachments) are called on real objects, so their handlers really read the form.
"""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.routes import HTTPRoute

from backend.api.keys import create_key
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice
from backend.processing.lifecycle import Actor, change_status
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401
from tests.integration.processing.conftest import agent_id, empty_database, invoice  # noqa: F401
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import SELLER_SIRET

UNREADABLE = "n'est pas encodé en UTF-8"
UPLOAD_ROUTES = {  # what a person or program sends files to
    "/deposits", "/capture/{draft_id:int}/attachments", "/invoices/{invoice_id:int}/messages",
    "/invoices/{invoice_id:int}/status", "/api/v1/deposits", "/api/v1/attachments",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BAD_TEXT = [  # (part headers' charset, bytes of the field)
    ("", "Réponse à la suspension".encode("latin-1")),  # a browser or script set to Latin-1
    ("; charset=x-inconnu", b"Bonjour"),  # a charset no codec knows
]


def _body(token: str | None, charset: str, text: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    if token:
        parts.append(f'Content-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}'.encode())
    parts.append(b'Content-Disposition: form-data; name="target"\r\n\r\nCOMPLETEE')
    parts.append(f'Content-Disposition: form-data; name="comment"\r\nContent-Type: text/plain{charset}\r\n\r\n'.encode() + text)
    for name in ("file", "attachment"):
        parts.append(f'Content-Disposition: form-data; name="{name}"; filename="bl.pdf"\r\n'
                     f'Content-Type: application/pdf\r\n\r\n'.encode() + PDF)
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _post_routes(app) -> list[str]:
    paths = [r.path for r in app.routes if isinstance(r, HTTPRoute) and "POST" in r.methods]
    # The upload routes first, on objects no other route has deleted yet; signed out last.
    return sorted(paths, key=lambda path: (path not in UPLOAD_ROUTES, path == "/logout"))


@pytest.fixture
async def ids(client, invoice, agent_id) -> dict[str, int]:  # noqa: F811
    """Real objects of the signed-in supplier: a suspended invoice, a capture draft."""
    await change_status(invoice.id, Actor("recipient", agent_id), "SUSPENDUE", expected_version=1,
                        reason_code="JUSTIF_ABS", comment="Bon de livraison ?")
    token = csrf_from((await client.get("/capture")).text)
    created = await client.post("/capture/drafts", data={"_csrf_token": token}, follow_redirects=False)
    draft_id = int(re.search(r"/capture/(\d+)", created.headers["location"]).group(1))
    structure = await Structure.objects().get(Structure.siret == SELLER_SIRET)
    return {"invoice_id": invoice.id, "draft_id": draft_id, "structure_id": structure.id}


async def _api_key(structure_id: int) -> str:
    structure = await Structure.objects().get(Structure.id == structure_id)
    return (await create_key(structure, "test", ("deposit", "read", "directory"), None)).secret


def _url(template: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(ids.get(m.group(1), 999999)) if m.group(2) == "int" else "x", template)


def _refused_in_french(response) -> bool:
    if response.status_code != 400:
        return False
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return response.json()["code"] == "unreadable_form" and UNREADABLE in response.json()["detail"]
    return UNREADABLE in response.text.replace("&#39;", "'")


@pytest.mark.parametrize("charset, text", BAD_TEXT, ids=["latin-1", "unknown-charset"])
async def test_an_unreadable_text_field_is_refused_in_french_on_every_post_route(app, client, ids, charset, text):
    routes = _post_routes(app)
    assert UPLOAD_ROUTES <= set(routes), UPLOAD_ROUTES - set(routes)
    api_key = await _api_key(ids["structure_id"])
    token = csrf_from((await client.get("/account")).text)
    wrong = []
    for template in routes:
        url = _url(template, ids)
        api = url.startswith("/api/")
        # A browser's form: the token travels in the body, which the CSRF check must read first.
        if not api:
            body, content_type = _body(token, charset, text)
            response = await client.post(url, content=body, headers={"Content-Type": content_type}, follow_redirects=False)
            if not _refused_in_french(response):
                wrong.append(f"form POST {url}: {response.status_code} {response.text[:150]!r}")
        # htmx and scripts: the token in a header (or an API key), so the handler itself reads the form.
        body, content_type = _body(None, charset, text)
        headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {api_key}"} if api else {"X-CSRFToken": token})}
        response = await client.post(url, content=body, headers=headers, follow_redirects=False)
        if response.status_code >= 500 or (template in UPLOAD_ROUTES and not _refused_in_french(response)):
            wrong.append(f"POST {url}: {response.status_code} {response.text[:150]!r}")
    assert not wrong, f"{len(wrong)} of {len(routes)} routes:\n" + "\n".join(wrong)
    # Nothing half-written: the refused completion left the invoice suspended, no deposit was made.
    assert (await Invoice.objects().get(Invoice.id == ids["invoice_id"])).status == "SUSPENDUE"
    assert await Invoice.count() == 1
