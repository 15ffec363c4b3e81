"""Deposits for the same supplier and recipient do not queue behind each other's transaction.

The invoice counters (table invoice_count, kept by a trigger) have one row per structure,
side and status: every deposit for a supplier updates the same two rows. On PostgreSQL the
trigger runs at the commit, so a deposit whose transaction is still open holds those rows
for an instant only; when it ran at each invoice INSERT, the next deposit for the same
supplier waited at its own INSERT for the whole of the first one's transaction.
On SQLite writers queue by design (BEGIN IMMEDIATE): the second deposit waits, then lands.
Either way the counters count both. The second deposit goes through a real HTTP server in
the test's event loop: the in-process test client would block that loop, and with it the
open transaction it waits for.
"""

from __future__ import annotations

import asyncio

from backend.invoices.tables import Invoice
from backend.lib.db import transaction
from tests.integration.invoices.test_deposit import post_files, with_number
from tests.integration.tracking.conftest import live  # noqa: F401  (the app behind a real server)
from tests.unit.validation.invoice_builders import cii_bytes, facturx_pdf

COPIED = ("supplier", "recipient", "deposit", "original_file", "original_name", "format", "profile", "number_year",
          "type_code", "issue_date", "currency", "service_code", "billing_framework", "seller_siret", "buyer_siret",
          "seller_name", "buyer_name", "total_excl_vat", "total_vat", "total_incl_vat", "amount_due", "data",
          "status", "status_code")


async def _open_deposit_transaction(template_id: int, inserted: asyncio.Event, release: asyncio.Event) -> None:
    """A deposit's transaction caught between its invoice INSERT and its commit."""
    columns = ", ".join(f'"{c}"' for c in COPIED)
    async with transaction():
        await Invoice.raw(f"INSERT INTO invoice ({columns}, number, certificate_number) "
                          f"SELECT {columns}, 'F-EN-COURS', 'AD-EN-COURS' FROM invoice WHERE id = {{}}", template_id)
        inserted.set()
        await release.wait()


async def _counted(structure_id: int, side: str) -> int:
    rows = await Invoice.raw("SELECT n FROM invoice_count WHERE structure = {} AND side = {} AND status = 'MISE_A_DISPOSITION'",
                             structure_id, side)
    return rows[0]["n"] if rows else 0


async def test_a_deposit_does_not_wait_for_another_deposits_open_transaction(client, live, settings, supplier, recipient):  # noqa: F811
    first = await post_files(client, [("f1.pdf", facturx_pdf(cii_bytes(with_number("F-CONC-1"))))])
    assert first.status_code == 201, first.text
    template = await Invoice.objects().first()
    inserted, release = asyncio.Event(), asyncio.Event()
    held = asyncio.create_task(_open_deposit_transaction(template.id, inserted, release))
    try:
        await asyncio.wait_for(inserted.wait(), 10)
        async with live.client(client.cookies) as http:
            response = await _second_deposit(http, settings, release)
        assert response.status_code == 201, response.text
    finally:
        release.set()
        await asyncio.wait_for(held, 15)
    assert await Invoice.count() == 3
    assert await _counted(template.supplier, "supplier") == 3
    assert await _counted(template.recipient, "recipient") == 3


async def _second_deposit(http, settings, release: asyncio.Event):
    second = asyncio.create_task(post_files(http, [("f2.pdf", facturx_pdf(cii_bytes(with_number("F-CONC-2"))))]))
    if settings.is_postgres:
        return await asyncio.wait_for(asyncio.shield(second), 15)  # while the other transaction is still open
    await asyncio.sleep(0.5)
    assert not second.done(), second.result().text[:3000]  # queued behind the other writer, not failed
    release.set()
    return await asyncio.wait_for(second, 15)
