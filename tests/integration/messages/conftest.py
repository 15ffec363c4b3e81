"""An invoice deposited by the signed-in supplier, and people of each side who log in by the forms."""

from __future__ import annotations

import pytest

from backend.accounts.tables import Membership
from tests.integration.processing.conftest import empty_database, invoice  # noqa: F401  (re-exported fixtures)
from tests.integration.invoices.conftest import recipient, supplier  # noqa: F401
from tests.support.web import csrf_from

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def join_and_log_in(accounts, structure, **rights):
    """A second person of `structure`: signs up with its SIRET, is accepted with `rights`, logs in."""
    person = accounts.person(siret=structure.siret, company=structure.name)
    await accounts.signup(person)
    await accounts.confirm(person)
    await Membership.update({Membership.status: "active", **{getattr(Membership, k): v for k, v in rights.items()}}).where(
        (Membership.structure == structure.id) & (Membership.status == "pending")
    )
    await accounts.logout()
    await accounts.login(person)
    return person


async def token(client, invoice_id: int) -> str:
    return csrf_from((await client.get(f"/invoices/{invoice_id}")).text)


async def post_message(client, invoice_id: int, body: str, files=(), *, htmx: bool = False, csrf: str | None = None):
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    headers = {"HX-Request": "true"} if htmx else {}
    csrf = csrf if csrf is not None else await token(client, invoice_id)
    return await client.post(f"/invoices/{invoice_id}/messages", data={"body": body, "_csrf_token": csrf},
                             files=parts or None, headers=headers, follow_redirects=False)


@pytest.fixture
async def agent_of(accounts, recipient):
    async def log_in(**rights):
        return await join_and_log_in(accounts, recipient, **({"can_process": True} | rights))

    return log_in
