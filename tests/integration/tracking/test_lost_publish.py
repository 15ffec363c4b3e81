"""An event whose publish was lost still reaches the open streams, from the event table.

A publish is lost when Redis restarts (the first use of each pooled connection fails),
when Redis is away, or when the process dies between the commit and the publish. The
stream stays open in all those cases; it must not stay deaf."""

from __future__ import annotations

from backend.invoices.tables import Invoice
from backend.lib.db import transaction
from backend.tracking.events import record_event


async def _commit_without_publishing(invoice: Invoice) -> int:
    """What a process killed right after its commit leaves: the event, never published."""
    async with transaction():
        return await record_event("invoice.status_changed", invoice_id=invoice.id, supplier_id=invoice.supplier,
                                  recipient_id=invoice.recipient, payload={"status": "PRISE_EN_CHARGE", "version": 99})


async def test_an_event_never_published_reaches_the_open_stream(client, live, invoice):
    async with live.client(client.cookies) as http, live.stream(http) as stream:
        event_id = await _commit_without_publishing(invoice)
        first, second = await stream.pair(timeout=10)  # within the catch-up interval, not at a reconnection
        assert int(first.id) == event_id and second.json["payload"]["version"] == 99
        # and only once: Redis or memory would not bring it again, the table read does not repeat it
        assert await stream.silence(3) == []


async def test_a_stream_resumed_ahead_of_the_table_read_is_not_sent_again_what_it_has(client, live, invoice):
    """The table read hands the open streams what was committed since its last read, up to
    2 s ago; a browser that reconnects in between, from a newer id, already has those events."""
    async with live.client(client.cookies) as http, live.stream(http) as first:  # the table read starts from here
        missed = [await _commit_without_publishing(invoice) for _ in range(2)]
        async with live.stream(http, last_event_id=missed[-1]) as resumed:
            first_got = [int((await first.pair(timeout=10))[0].id) for _ in missed]  # the table read has run
            assert first_got == missed
            assert await resumed.silence(0.5) == []
